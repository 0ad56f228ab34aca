// Small charts as inline SVG: columns (values per hour), horizontal bars
// (per service or counter) and one stacked bar (shares of a whole).
//
// Each chart is a <figure>: a visible caption, the SVG (role="img", named by
// the title and described by a <desc> that spells out every number) and
// the same numbers as a table behind a disclosure, so nobody needs to see
// the picture to get the data. Drawn at the width it is shown at (redrawn
// when that changes), so the text stays at a readable size on any screen.
//
// Colours: the Okabe–Ito palette, which stays distinguishable with the
// common colour-vision deficiencies; each colour has at least 3:1 contrast
// with the white background (WCAG 1.4.11). Series after the first are also
// hatched, so they differ by more than colour (WCAG 1.4.1).

const SVG = "http://www.w3.org/2000/svg";
export const COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7"];
const FONT_PX = 13; // .chart text in dashboard.css
const CHAR_PX = 8; // a generous width per character, for label spacing

let serial = 0;

function html(name, attrs = {}, text) {
  const node = document.createElement(name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function svg(name, attrs = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function hatch(id, color) {
  const pattern = svg("pattern", {
    id, width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)",
  });
  pattern.append(svg("rect", { width: 6, height: 6, fill: "#ffffff" }));
  pattern.append(svg("rect", { width: 3.5, height: 6, fill: color }));
  return pattern;
}

// Fill and outline of series (or part) `index`: solid, or hatched with a
// solid outline that keeps the 3:1 edge against white.
function paint(chartId, index, color) {
  if (index % 2 === 0) return { fill: color, stroke: color };
  return { fill: `url(#${chartId}-hatch-${index})`, stroke: color };
}

function swatch(chartId, index, color) {
  const box = svg("svg", { width: 18, height: 18, viewBox: "0 0 18 18", "aria-hidden": "true",
    focusable: "false", class: "swatch" });
  const defs = svg("defs");
  if (index % 2 === 1) defs.append(hatch(`${chartId}-legend-hatch-${index}`, color));
  box.append(defs);
  const fill = index % 2 === 0 ? color : `url(#${chartId}-legend-hatch-${index})`;
  box.append(svg("rect", { x: 1, y: 1, width: 16, height: 16, fill, stroke: color,
    "stroke-width": 2 }));
  return box;
}

function lineSwatch() {
  const box = svg("svg", { width: 24, height: 18, viewBox: "0 0 24 18", "aria-hidden": "true",
    focusable: "false", class: "swatch" });
  box.append(svg("line", { x1: 1, y1: 9, x2: 23, y2: 9, class: "target-line" }));
  return box;
}

// Round axis maximum and step: 1, 2, 2.5 or 5 times a power of ten
// (whole steps for counts).
export function niceScale(max, { ticks = 4, integer = false } = {}) {
  if (!(max > 0)) return { max: integer ? ticks : 1, step: integer ? 1 : 1 / ticks };
  const raw = max / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const factors = integer ? [1, 2, 5, 10] : [1, 2, 2.5, 5, 10];
  let step = factors.map((f) => f * magnitude).find((s) => s >= raw);
  if (integer) step = Math.max(1, Math.round(step));
  return { max: Math.ceil(max / step - 1e-9) * step, step };
}

// The frame every chart shares. `draw(svgElement, width)` fills the picture.
function figure(o, draw) {
  const id = `chart-${++serial}`;
  const fig = html("figure", { class: "chart", id });
  if (o.name) fig.dataset.chart = o.name;
  fig.append(html("figcaption", { class: "chart-title" }, o.title));
  // Named by the title, described by the numbers (aria-describedby points
  // at the <desc>, which screen readers read after the name).
  const picture = svg("svg", {
    role: "img", "aria-label": o.title, "aria-describedby": `${id}-desc`, class: "chart-svg",
  });
  const desc = o.desc;
  const drawing = () => {
    const width = Math.max(260, Math.floor(fig.clientWidth || 600));
    if (picture.dataset.width === String(width)) return;
    picture.dataset.width = String(width);
    picture.replaceChildren(svg("title", { id: `${id}-title` }, o.title),
      svg("desc", { id: `${id}-desc` }, desc));
    const defs = svg("defs");
    (o.series || o.parts || []).forEach((s, i) => {
      if (i % 2 === 1) defs.append(hatch(`${id}-hatch-${i}`, s.color || COLORS[i]));
    });
    picture.append(defs);
    draw(picture, width, id);
  };
  fig.append(picture);
  if (o.legend && o.legend.length) {
    const list = html("ul", { class: "legend" });
    for (const item of o.legend) {
      const li = html("li");
      li.append(item.line ? lineSwatch() : swatch(id, item.index, item.color));
      li.append(html("span", {}, item.text));
      list.append(li);
    }
    fig.append(list);
  }
  // Unless the page shows the same numbers in a table right beside it.
  if (o.table && !o.tableBeside) fig.append(dataTable(o.title, o.table, o.tableToggle));
  // Drawn once attached (the width is known then) and whenever it changes.
  new ResizeObserver(drawing).observe(fig);
  return fig;
}

function dataTable(title, { head, rows }, toggle) {
  const details = html("details", { class: "chart-data" });
  details.append(html("summary", {}, toggle));
  const table = html("table", { class: "data" });
  table.append(html("caption", {}, title));
  const thead = html("thead");
  const headRow = html("tr");
  for (const cell of head) headRow.append(html("th", { scope: "col" }, cell));
  thead.append(headRow);
  const tbody = html("tbody");
  for (const [first, ...rest] of rows) {
    const tr = html("tr");
    tr.append(html("th", { scope: "row" }, first));
    for (const cell of rest) tr.append(html("td", { class: "num" }, cell));
    tbody.append(tr);
  }
  table.append(thead, tbody);
  const wrap = html("div", { class: "table-wrap" }); // scrolls sideways on a phone
  wrap.append(table);
  details.append(wrap);
  return details;
}

function tableOf(o) {
  return {
    head: [o.categoryHeader, ...o.series.map((s) => s.name)],
    rows: o.categories.map((c, ci) => [c.long || c.label || c.short,
      ...o.series.map((s) => o.format(s.values[ci]))]),
  };
}

function describe(o) {
  return o.categories.map((_, ci) => o.series.map((__, si) => o.describe(ci, si))
    .join(o.separator)).join(o.separator);
}

function legendOf(o) {
  const items = o.series.length > 1
    ? o.series.map((s, i) => ({ index: i, color: s.color || COLORS[i], text: s.name }))
    : [];
  for (const line of o.lines || []) items.push({ line: true, text: line.label });
  return items;
}

// Columns: one group per category (an hour), one column per series.
// o: {name, title, categoryHeader, categories: [{short, long}], series:
// [{name, values, color?}], format(v), axisFormat(v), describe(ci, si),
// separator, tableToggle, lines?: [{value, label}], integer?, max?}
export function columnChart(o) {
  const draw = (picture, width, id) => {
    const height = 260;
    const m = { top: 24, right: 12, bottom: 36, left: 52 };
    const plotW = width - m.left - m.right;
    const plotH = height - m.top - m.bottom;
    picture.setAttribute("viewBox", `0 0 ${width} ${height}`);
    picture.setAttribute("width", width);
    picture.setAttribute("height", height);
    const values = o.series.flatMap((s) => s.values).filter((v) => v !== null && v !== undefined);
    const top = Math.max(o.max || 0, ...values, ...(o.lines || []).map((l) => l.value));
    const scale = niceScale(top, { integer: o.integer });
    const y = (v) => m.top + plotH - (v / scale.max) * plotH;
    const axis = svg("g", { class: "axis", "aria-hidden": "true" });
    for (let v = 0; v <= scale.max + 1e-9; v += scale.step) {
      axis.append(svg("line", { x1: m.left, x2: width - m.right, y1: y(v), y2: y(v),
        class: v === 0 ? "baseline" : "grid" }));
      axis.append(svg("text", { x: m.left - 6, y: y(v) + FONT_PX / 3, "text-anchor": "end" },
        o.axisFormat(Math.round(v * 1000) / 1000)));
    }
    picture.append(axis);
    const n = o.categories.length;
    const group = plotW / Math.max(1, n);
    const barsWidth = Math.min(group * 0.72, 44 * o.series.length);
    const bar = barsWidth / o.series.length;
    const longest = Math.max(...o.categories.map((c) => c.short.length));
    const labelEvery = Math.max(1, Math.ceil((longest * CHAR_PX + 6) / group));
    const bars = svg("g", { class: "bars" });
    o.categories.forEach((c, ci) => {
      const x0 = m.left + ci * group + (group - barsWidth) / 2;
      o.series.forEach((s, si) => {
        const v = s.values[ci];
        if (v === null || v === undefined) return;
        const x = x0 + si * bar + 1;
        const w = Math.max(2, bar - 2);
        const g = svg("g");
        g.append(svg("title", {}, o.describe(ci, si)));
        const h = Math.max(v > 0 ? 1 : 0, y(0) - y(v));
        g.append(svg("rect", { x, y: y(0) - h, width: w, height: h, ...paint(id, si,
          s.color || COLORS[si]), "stroke-width": 1.5, "data-value": v }));
        const text = o.format(v);
        if (text.length * CHAR_PX * 0.8 <= bar + 10 || o.series.length === 1) {
          g.append(svg("text", { x: x + w / 2, y: y(0) - h - 5, "text-anchor": "middle",
            class: "value" }, text));
        }
        bars.append(g);
      });
      if (ci % labelEvery === 0) {
        bars.append(svg("text", { x: m.left + ci * group + group / 2, y: height - m.bottom + 20,
          "text-anchor": "middle", "aria-hidden": "true" }, c.short));
      }
    });
    picture.append(bars);
    for (const line of o.lines || []) {
      const g = svg("g", { class: "target", "aria-hidden": "true" });
      g.append(svg("line", { x1: m.left, x2: width - m.right, y1: y(line.value),
        y2: y(line.value), class: "target-line" }));
      g.append(svg("text", { x: width - m.right - 4, y: y(line.value) - 5, "text-anchor": "end",
        class: "target-label" }, line.label));
      picture.append(g);
    }
  };
  return figure({ ...o, desc: describe(o), legend: legendOf(o), table: tableOf(o) }, draw);
}

// Horizontal bars: one row per category (a service, a counter) with its
// name above its bars, so long names need no truncation.
// o: {name, title, categoryHeader, categories: [{label}], series: [{name,
// short?, values, color?}], format(v), describe(ci, si), separator,
// tableToggle, max?}
export function barChart(o) {
  const ROW_LABEL = 22;
  const BAR = 20;
  const GAP = 4;
  const ROW_GAP = 14;
  const draw = (picture, width, id) => {
    const ns = o.series.length;
    const rowHeight = ROW_LABEL + ns * BAR + (ns - 1) * GAP + ROW_GAP;
    const height = 8 + o.categories.length * rowHeight;
    picture.setAttribute("viewBox", `0 0 ${width} ${height}`);
    picture.setAttribute("width", width);
    picture.setAttribute("height", height);
    const values = o.series.flatMap((s) => s.values).filter((v) => v !== null && v !== undefined);
    const top = o.max || niceScale(Math.max(0, ...values)).max;
    const left = 4;
    const valueSpace = ns > 1 ? 150 : 110;
    const plotW = Math.max(40, width - left - valueSpace);
    const rows = svg("g", { class: "bars" });
    o.categories.forEach((c, ci) => {
      const y0 = 8 + ci * rowHeight;
      rows.append(svg("text", { x: left, y: y0 + FONT_PX + 2, class: "row-label",
        "aria-hidden": "true" }, c.label));
      o.series.forEach((s, si) => {
        const v = s.values[ci];
        const y = y0 + ROW_LABEL + si * (BAR + GAP);
        const g = svg("g");
        g.append(svg("title", {}, o.describe(ci, si)));
        const w = v === null || v === undefined ? 0 : Math.max(v > 0 ? 2 : 0,
          (Math.min(v, top) / top) * plotW);
        if (w > 0) {
          g.append(svg("rect", { x: left, y, width: w, height: BAR, ...paint(id, si,
            s.color || COLORS[si]), "stroke-width": 1.5, "data-value": v }));
        }
        const text = (ns > 1 && s.short ? `${s.short}: ` : "") + o.format(v);
        g.append(svg("text", { x: left + w + 6, y: y + BAR / 2 + FONT_PX / 3, class: "value" },
          text));
        rows.append(g);
      });
    });
    picture.append(rows);
  };
  return figure({ ...o, desc: describe(o), legend: legendOf(o), table: tableOf(o) }, draw);
}

// One bar split into the shares of a whole (the channel mix), with a
// legend that gives each part's number and share in words.
// o: {name, title, parts: [{name, value, color?}], partText(i), describe(i),
// separator, categoryHeader, valueHeader, shareHeader, format(v),
// formatShare(s), tableToggle}
export function stackedBar(o) {
  const total = o.parts.reduce((sum, p) => sum + p.value, 0);
  const share = (p) => (total > 0 ? p.value / total : 0);
  const draw = (picture, width, id) => {
    const height = 48;
    picture.setAttribute("viewBox", `0 0 ${width} ${height}`);
    picture.setAttribute("width", width);
    picture.setAttribute("height", height);
    const g = svg("g", { class: "bars" });
    let x = 2;
    const full = width - 4;
    o.parts.forEach((p, i) => {
      const w = share(p) * full;
      if (w <= 0) return;
      const part = svg("g");
      part.append(svg("title", {}, o.describe(i)));
      // A white gap between parts keeps their edges visible.
      part.append(svg("rect", { x: x + 1, y: 6, width: Math.max(1, w - 2), height: 36,
        ...paint(id, i, p.color || COLORS[i]), "stroke-width": 1.5, "data-value": p.value }));
      g.append(part);
      x += w;
    });
    if (total === 0) {
      g.append(svg("rect", { x: 2, y: 6, width: full, height: 36, class: "empty" }));
    }
    picture.append(g);
  };
  const legend = o.parts.map((p, i) => ({ index: i, color: p.color || COLORS[i],
    text: o.partText(i) }));
  const table = {
    head: [o.categoryHeader, o.valueHeader, o.shareHeader],
    rows: o.parts.map((p) => [p.name, o.format(p.value), o.formatShare(share(p))]),
  };
  const desc = o.parts.map((_, i) => o.describe(i)).join(o.separator);
  return figure({ ...o, desc, legend, table }, draw);
}
