// Statistics (/dashboard/stats): one office over a day or a range of days
// (GET /api/v1/offices/{office}/stats), or every office's totals for an
// all-office account (GET /api/v1/stats). The numbers are the API's; this
// page only lays them out as figures, charts and tables.
//
// "Today" is the office's date by the server's clock (offices.json), never
// the PC's: presets and defaults match the API's own idea of the day.

import { t } from "../login/i18n.js";
import { clearError, setStatus, showError } from "../login/messages.js";
import { COLORS, barChart, columnChart, stackedBar } from "./charts.js";
import {
  dateRange, daysBetween, hourRange, hourShort, isDate, minutes, number, orNone, percent,
  previousMonth, weekStart,
} from "./format.js";
import {
  ALL, chooseOffice, fillOfficeSelect, getJson, nameIn, problemText, renderChrome,
  showInAddress, startChrome,
} from "./page.js";

const MAX_DAYS = 366; // the API's limit
const DEFAULT_TARGETS = [15, 30];
const CHANNELS = ["kiosk", "phone", "online", "staff"];

const form = document.getElementById("range-form");
const select = document.getElementById("office");
const fields = {
  from: document.getElementById("from"),
  to: document.getElementById("to"),
  target1: document.getElementById("target1"),
  target2: document.getElementById("target2"),
};
const csv = document.getElementById("csv");
const results = document.getElementById("results");
const chartsBox = document.getElementById("charts");

let offices = [];
let cityWide = false;
let shown = null; // {office, from, to, targets, data} of the figures on screen
let loading = 0;

function officeById(id) {
  return offices.find((o) => o.id === id);
}

function today() {
  const office = officeById(select.value) || offices[0];
  return office.today;
}

// --- the form

function fieldError(input, key, params) {
  const box = document.getElementById(input.id + "-error");
  box.textContent = key ? t(key, params) : "";
  if (key) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

function targetOf(input) {
  const value = Number(input.value);
  return input.value.trim() && Number.isInteger(value) && value >= 1 && value <= 480 ? value : null;
}

// The form's query, or null after marking what is wrong (focus on the first).
function readForm() {
  for (const input of Object.values(fields)) fieldError(input, "");
  const from = fields.from.value;
  const to = fields.to.value;
  if (!isDate(from)) fieldError(fields.from, "stats.error_date");
  if (!isDate(to)) fieldError(fields.to, "stats.error_date");
  if (isDate(from) && isDate(to)) {
    if (daysBetween(from, to) < 0) fieldError(fields.to, "stats.error_order");
    else if (daysBetween(from, to) >= MAX_DAYS) {
      fieldError(fields.to, "stats.error_span", { days: String(MAX_DAYS) });
    }
  }
  for (const input of [fields.target1, fields.target2]) {
    if (targetOf(input) === null) fieldError(input, "stats.error_target");
  }
  const wrong = Object.values(fields).find((input) => input.hasAttribute("aria-invalid"));
  if (wrong) {
    showError(t("error.check_input"));
    wrong.focus();
    return null;
  }
  return { office: select.value, from, to, targets: [targetOf(fields.target1),
    targetOf(fields.target2)] };
}

function setPreset(name) {
  const day = today();
  if (name === "today") [fields.from.value, fields.to.value] = [day, day];
  if (name === "week") [fields.from.value, fields.to.value] = [weekStart(day), day];
  if (name === "last_month") [fields.from.value, fields.to.value] = previousMonth(day);
}

function updateCsvLink(query) {
  const perOffice = query.office !== ALL;
  csv.hidden = !perOffice;
  if (perOffice) {
    csv.href = `/api/v1/offices/${encodeURIComponent(query.office)}/stats.csv?` +
      new URLSearchParams({ from: query.from, to: query.to });
  }
}

// --- loading

async function load(query) {
  clearError();
  const mine = ++loading; // a slower earlier answer must not overwrite a later one
  updateCsvLink(query);
  showInAddress({ office: query.office, from: query.from, to: query.to,
    targets: query.targets.join(",") });
  setStatus(t("stats.loading"));
  try {
    const range = new URLSearchParams({ from: query.from, to: query.to });
    let data;
    if (query.office === ALL) {
      data = await getJson(`/api/v1/stats?${range}`);
    } else {
      range.set("targets", query.targets.join(","));
      data = await getJson(`/api/v1/offices/${encodeURIComponent(query.office)}/stats?${range}`);
    }
    if (mine !== loading) return;
    shown = { ...query, data };
    render();
    setStatus(t("stats.shown", { range: dateRange(query.from, query.to) }));
  } catch (error) {
    if (mine !== loading) return;
    setStatus("");
    showError(problemText(error));
  }
}

// --- drawing

function el(name, attrs = {}, text) {
  const node = document.createElement(name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

const separator = () => t("chart.separator");
const minutesOrNone = (v) => orNone(v, minutes);
const percentOrNone = (v) => orNone(v, percent);
const count = (v) => orNone(v, (n) => number(n, 0));

function serviceLabel(office, id) {
  const service = office && office.services.find((s) => s.id === id);
  return service ? `${service.letter} ${nameIn(service.names)}` : id;
}

function counterLabel(office, id) {
  const counter = office && office.counters.find((c) => c.id === id);
  return counter ? nameIn(counter.names) : id;
}

function levelOf(group, target) {
  const value = group.service_level ? group.service_level[String(target)] : null;
  return value === undefined ? null : value;
}

function kpis(totals, targets) {
  const list = document.getElementById("kpis");
  const items = [
    ["arrivals", t("stats.kpi_arrivals"), count(totals.arrivals)],
    ["served", t("stats.kpi_served"), count(totals.served)],
    ["avg_wait", t("stats.kpi_avg_wait"), minutesOrNone(totals.avg_wait_minutes)],
    ["p90_wait", t("stats.kpi_p90_wait"), minutesOrNone(totals.p90_wait_minutes)],
    ...targets.map((target, i) => [`level_${i + 1}`,
      t("stats.kpi_level", { minutes: number(target) }), percentOrNone(levelOf(totals, target))]),
    ["avg_service", t("stats.kpi_avg_service"), minutesOrNone(totals.avg_service_minutes)],
    ["no_shows", t("stats.kpi_no_shows"), count(totals.no_shows)],
    ["cancelled", t("stats.kpi_cancelled"), count(totals.cancelled)],
  ];
  list.replaceChildren();
  for (const [key, term, value] of items) {
    const box = el("div", { class: "kpi", "data-kpi": key });
    box.append(el("dt", {}, term), el("dd", {}, value));
    list.append(box);
  }
}

function section(title, ...content) {
  const box = el("section", { class: "chart-section" });
  box.append(el("h3", {}, title), ...content);
  chartsBox.append(box);
  return box;
}

// Every hour from the first to the last with arrivals, the empty ones too:
// a gap in the day should show as a gap.
function hours(byHour) {
  if (!byHour.length) return [];
  const first = byHour[0].hour;
  const last = byHour[byHour.length - 1].hour;
  const found = new Map(byHour.map((h) => [h.hour, h]));
  const out = [];
  for (let hour = first; hour <= last; hour += 1) out.push(found.get(hour) || { hour, arrivals: 0,
    avg_wait_minutes: null, p90_wait_minutes: null });
  return out;
}

function officeCharts(office, data, targets, days) {
  const perHour = hours(data.by_hour);
  const categories = perHour.map((h) => ({ short: hourShort(h.hour), long: hourRange(h.hour) }));
  const toggle = t("chart.show_table");
  const total = days > 1 ? t("stats.range_total", { days: number(days) }) : "";

  const arrivals = perHour.map((h) => h.arrivals);
  section(t("stats.h_arrivals"), columnChart({
    name: "arrivals", title: t("stats.chart_arrivals") + total,
    categoryHeader: t("stats.col_hour"), categories, tableToggle: toggle,
    series: [{ name: t("stats.series_arrivals"), values: arrivals }],
    format: count, axisFormat: (v) => number(v, 0), integer: true, separator: separator(),
    describe: (ci) => t("stats.desc_arrivals", { hour: categories[ci].long,
      n: number(arrivals[ci], 0) }),
  }));

  const waits = [
    { name: t("stats.series_avg_wait"), values: perHour.map((h) => h.avg_wait_minutes) },
    { name: t("stats.series_p90_wait"), values: perHour.map((h) => h.p90_wait_minutes) },
  ];
  section(t("stats.h_wait"), columnChart({
    name: "wait", title: t("stats.chart_wait"), categoryHeader: t("stats.col_hour"),
    categories, series: waits, format: minutesOrNone, axisFormat: (v) => number(v),
    tableToggle: toggle, separator: separator(),
    lines: targets.map((target) => ({ value: target,
      label: t("stats.target_line", { minutes: number(target) }) })),
    describe: (ci, si) => t("stats.desc_series", { label: categories[ci].long,
      series: waits[si].name, value: minutesOrNone(waits[si].values[ci]) }),
  }));

  const services = data.by_service.filter((s) => s.arrivals > 0);
  const levelRows = [{ label: t("stats.all_services"), group: data.totals },
    ...services.map((s) => ({ label: serviceLabel(office, s.service), group: s }))];
  const levels = targets.map((target, i) => ({
    name: t("stats.series_level", { minutes: number(target) }),
    short: t("unit.minutes", { n: number(target) }), color: COLORS[i],
    values: levelRows.map((r) => levelOf(r.group, target)),
  }));
  section(t("stats.h_level"), barChart({
    name: "level", title: t("stats.chart_level"), categoryHeader: t("stats.col_service"),
    categories: levelRows.map((r) => ({ label: r.label })), series: levels, max: 1,
    format: percentOrNone, tableToggle: toggle, separator: separator(),
    describe: (ci, si) => t("stats.desc_series", { label: levelRows[ci].label,
      series: levels[si].name, value: percentOrNone(levels[si].values[ci]) }),
  }));

  const byService = services.map((s) => ({ label: serviceLabel(office, s.service),
    value: s.avg_service_minutes }));
  const byCounter = data.by_counter.map((c) => ({ label: counterLabel(office, c.counter),
    value: c.avg_service_minutes, served: c.served }));
  const serviceTime = (rows, name, title) => barChart({
    name, title, categoryHeader: name === "service_time" ? t("stats.col_service")
      : t("stats.col_counter"),
    categories: rows.map((r) => ({ label: r.label })), tableToggle: toggle,
    series: [{ name: t("stats.series_avg_service"), values: rows.map((r) => r.value),
      color: COLORS[2] }],
    format: minutesOrNone, separator: separator(),
    describe: (ci) => t("stats.desc_value", { label: rows[ci].label,
      value: minutesOrNone(rows[ci].value) }),
  });
  const timeSection = section(t("stats.h_service_time"));
  if (byService.length) {
    timeSection.append(serviceTime(byService, "service_time", t("stats.chart_service_time")));
  }
  if (byCounter.length) {
    timeSection.append(serviceTime(byCounter, "counter_time", t("stats.chart_counter_time")));
  } else {
    timeSection.append(el("p", {}, t("stats.no_served")));
  }

  const channels = [...CHANNELS, ...Object.keys(data.channels).filter((c) => !CHANNELS.includes(c))];
  const parts = channels.map((c, i) => ({ name: t(`channel.${c}`) === `channel.${c}` ? c
    : t(`channel.${c}`), value: data.channels[c] || 0, color: COLORS[i % COLORS.length] }));
  const all = parts.reduce((sum, p) => sum + p.value, 0);
  const partText = (i) => t("stats.channel_part", { channel: parts[i].name,
    n: number(parts[i].value, 0), share: percent(all ? parts[i].value / all : 0) });
  section(t("stats.h_channels"), stackedBar({
    name: "channels", title: t("stats.chart_channels"), parts, partText, describe: partText,
    separator: separator(), categoryHeader: t("stats.col_channel"),
    valueHeader: t("stats.col_count"), shareHeader: t("stats.col_share"),
    format: (v) => number(v, 0), formatShare: percent, tableToggle: toggle,
  }), el("p", { class: "note" }, t("stats.booked", { n: number(data.booked, 0) })));

  section(t("stats.h_services"), serviceTable(office, data, targets));
}

function tableWrap(table) {
  const wrap = el("div", { class: "table-wrap" });
  wrap.append(table);
  return wrap;
}

function table(caption, head, rows) {
  const box = el("table", { class: "data" });
  box.append(el("caption", { class: "sr-only" }, caption));
  const thead = el("thead");
  const tr = el("tr");
  head.forEach((cell, i) => tr.append(el("th", { scope: "col", class: i ? "num" : "" }, cell)));
  thead.append(tr);
  const tbody = el("tbody");
  for (const [first, ...rest] of rows) {
    const row = el("tr");
    row.append(el("th", { scope: "row" }, first));
    for (const cell of rest) row.append(el("td", { class: "num" }, cell));
    tbody.append(row);
  }
  box.append(thead, tbody);
  return tableWrap(box);
}

function serviceTable(office, data, targets) {
  const head = [t("stats.col_service"), t("stats.col_arrivals"), t("stats.col_called"),
    t("stats.col_served"), t("stats.col_no_shows"), t("stats.col_cancelled"),
    t("stats.col_avg_wait"), t("stats.col_p90_wait"),
    ...targets.map((m) => t("stats.series_level", { minutes: number(m) })),
    t("stats.col_avg_service")];
  const row = (label, g) => [label, count(g.arrivals), count(g.called), count(g.served),
    count(g.no_shows), count(g.cancelled), minutesOrNone(g.avg_wait_minutes),
    minutesOrNone(g.p90_wait_minutes), ...targets.map((m) => percentOrNone(levelOf(g, m))),
    minutesOrNone(g.avg_service_minutes)];
  return table(t("stats.h_services"), head, [
    ...data.by_service.map((s) => row(serviceLabel(office, s.service), s)),
    row(t("stats.all_services"), data.totals),
  ]);
}

function cityCharts(data) {
  const targets = Object.keys(data.totals.service_level || {}).map(Number);
  const rows = data.offices.map((o) => ({ label: nameIn(o.names), group: o }));
  section(t("stats.h_offices"), barChart({
    name: "offices", title: t("stats.chart_offices"), categoryHeader: t("office.label"),
    categories: rows.map((r) => ({ label: r.label })), tableToggle: t("chart.show_table"),
    series: [{ name: t("stats.series_arrivals"), values: rows.map((r) => r.group.arrivals) }],
    format: count, separator: separator(),
    describe: (ci) => t("stats.desc_value", { label: rows[ci].label,
      value: count(rows[ci].group.arrivals) }),
  }), table(t("stats.h_offices"), [t("office.label"), t("stats.col_arrivals"),
    t("stats.col_served"), t("stats.col_no_shows"), t("stats.col_avg_wait"),
    t("stats.col_p90_wait"), ...targets.map((m) => t("stats.series_level", { minutes: number(m) })),
    t("stats.col_avg_service")], [...rows, { label: t("stats.all_offices"), group: data.totals }]
    .map(({ label, group: g }) => [label, count(g.arrivals), count(g.served), count(g.no_shows),
      minutesOrNone(g.avg_wait_minutes), minutesOrNone(g.p90_wait_minutes),
      ...targets.map((m) => percentOrNone(levelOf(g, m))), minutesOrNone(g.avg_service_minutes)])));
  return targets;
}

function render() {
  fillOfficeSelect(select, offices, { allowAll: cityWide, selected: select.value });
  if (!shown) return;
  const { office: id, from, to, data } = shown;
  const office = officeById(id);
  results.hidden = false;
  const where = id === ALL ? t("office.all") : nameIn(office.names);
  document.getElementById("h-results").textContent = t("stats.results_heading", {
    office: where, range: dateRange(from, to) });
  chartsBox.replaceChildren();
  const empty = !data.totals.arrivals;
  document.getElementById("empty").hidden = !empty;
  if (id === ALL) {
    const targets = Object.keys(data.totals.service_level || {}).map(Number);
    kpis(data.totals, targets);
    if (!empty) cityCharts(data);
    return;
  }
  kpis(data.totals, data.targets_minutes);
  if (!empty) officeCharts(office, data, data.targets_minutes, daysBetween(from, to) + 1);
}

// --- start-up

async function start() {
  const session = await startChrome({ nav: "stats", titleKey: "stats.page_title",
    onLang: render });
  if (!session) return;
  try {
    const data = await getJson("/dashboard/offices.json");
    offices = data.offices;
    cityWide = data.city_wide;
  } catch (error) {
    showError(problemText(error));
    document.body.dataset.ready = "true";
    return;
  }
  if (!offices.length) {
    showError(t("office.none"));
    document.body.dataset.ready = "true";
    return;
  }
  const { id, refused } = chooseOffice(offices, { allowAll: cityWide });
  fillOfficeSelect(select, offices, { allowAll: cityWide, selected: id });
  const params = new URLSearchParams(location.search);
  const day = today();
  fields.from.value = isDate(params.get("from")) ? params.get("from") : day;
  fields.to.value = isDate(params.get("to")) ? params.get("to") : fields.from.value;
  const asked = (params.get("targets") || "").split(",").map(Number);
  [fields.target1.value, fields.target2.value] = DEFAULT_TARGETS.map((d, i) =>
    String(Number.isInteger(asked[i]) && asked[i] >= 1 && asked[i] <= 480 ? asked[i] : d));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearError();
    const query = readForm();
    if (query) load(query);
  });
  select.addEventListener("change", () => {
    const query = readForm();
    if (query) load(query);
  });
  for (const button of document.querySelectorAll("button[data-preset]")) {
    button.addEventListener("click", () => {
      setPreset(button.dataset.preset);
      const query = readForm();
      if (query) load(query);
    });
  }
  for (const input of Object.values(fields)) {
    input.addEventListener("input", () => fieldError(input, ""));
  }
  renderChrome();
  const query = readForm();
  if (query) await load(query);
  if (refused) showError(t("office.refused")); // after load(), which clears the alert
  document.body.dataset.ready = "true";
}

start();
