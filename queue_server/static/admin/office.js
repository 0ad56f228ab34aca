// /admin/offices/{office}: the office editor. The whole configuration is
// loaded into `draft`; every control reads and writes one place in it
// (its path, e.g. services.2.names.en), so settings the form does not show
// are kept as they are. Saving sends the whole document (PUT) with the
// version loaded: the server validates all of it and stores it in one step,
// or refuses (422: problems by path, shown next to their fields; 409: someone
// else saved meanwhile). Cheap checks run as one types; all run on save.

import {
  adminErrorText, boot, call, clearError, confirmDialog, contentTypeOf, h, nameOf, problemText,
  send, setStatus, showError, t,
} from "./common.js";
import { renderChanges } from "./changes.js";

const officeId = decodeURIComponent(location.pathname.split("/")[3] || "");
const API = `/api/v1/admin/offices/${encodeURIComponent(officeId)}/config`;

// Content languages of names and texts (the office's citizens read them).
const NAME_LANGS = [
  ["ja", "langs.ja"], ["en", "langs.en"], ["ko", "langs.ko"], ["zh-Hans", "langs.zh_hans"],
  ["vi", "langs.vi"], ["ja-easy", "langs.ja_easy"],
];
const DISPLAY_LANGS = [
  ["ja", "langs.ja"], ["en", "langs.en"], ["ko", "langs.ko"], ["zh-Hans", "langs.zh_hans"],
  ["vi", "langs.vi"],
];
const WEEKDAYS = [
  ["1", "weekday.1"], ["2", "weekday.2"], ["3", "weekday.3"], ["4", "weekday.4"],
  ["5", "weekday.5"], ["6", "weekday.6"], ["7", "weekday.7"],
];
const SMS_KINDS = [
  ["confirmation", "sms.confirmation"], ["reminder", "sms.reminder"],
  ["cancellation", "sms.cancellation"], ["come_now", "sms.come_now"], ["near", "sms.near"],
];
const RULES = {
  id: /^[a-z0-9][a-z0-9_-]{0,39}$/,
  letter: /^[A-Z]$/,
  // 24:00: a closing time at midnight (an office open all day; the server
  // refuses it as an opening time).
  time: /^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$/,
};
const RULE_TYPES = { id: "id_format", letter: "letter_format", time: "time_format" };
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

const sections = document.getElementById("sections");
const form = document.getElementById("editor");
const saveButton = document.getElementById("save");
const saveState = document.getElementById("save-state");
const summaryBox = document.getElementById("summary");

let draft = null; // the configuration being edited
let savedJson = ""; // what the server has (to tell unsaved changes)
let version = 0;
let smsDefaults = {};
let smsPlaceholders = {};
let saving = false;
let shown = null; // the message on screen: {code, details} or {key, params}
let overrideRows = []; // closed days and special hours, as rows
const errors = new Map(); // path -> problem, shown next to the field
const fresh = new Set(); // services and counters added here: their ids may be typed
let warnings = []; // feasibility warnings of the saved configuration
const openCards = new Set(); // cards (objects or keys) shown open
const specs = new Map(); // control element -> its spec (for validating everything)

// --- the draft

function getAt(path) {
  return path.reduce((node, key) => (node === null || node === undefined ? undefined : node[key]),
    draft);
}

function setAt(path, value) {
  let node = draft;
  for (let i = 0; i < path.length - 1; i += 1) {
    if (node[path[i]] === undefined || node[path[i]] === null) {
      node[path[i]] = typeof path[i + 1] === "number" ? [] : {};
    }
    node = node[path[i]];
  }
  const last = path[path.length - 1];
  if (value === undefined) delete node[last];
  else node[last] = value;
}

// Optional groups (what to bring, readings, footer, SMS texts) disappear
// when emptied: "not set" rather than an empty object.
function prune(path) {
  for (let n = path.length - 1; n > 0; n -= 1) {
    const parent = getAt(path.slice(0, n));
    if (parent && typeof parent === "object" && !Array.isArray(parent)
        && Object.keys(parent).length === 0) {
      setAt(path.slice(0, n), undefined);
    }
  }
}

function key(path) {
  return path.join(".");
}

function fieldId(path) {
  return "f-" + key(path).replace(/[^A-Za-z0-9_-]/g, "_");
}

function dirty() {
  return draft !== null && JSON.stringify(draft) !== savedJson;
}

function renderSaveState() {
  const changed = dirty();
  saveState.textContent = changed ? t("editor.unsaved") : t("editor.saved_state", { version });
  saveState.classList.toggle("dirty", changed);
}

// --- checking one value

function check(spec, value, input) {
  if (spec.kind === "check" || spec.kind === "select") return null;
  if (value === undefined || value === null || value === "") {
    if (input && input.validity && input.validity.badInput) {
      return { type: spec.integer ? "int_parsing" : "float_parsing" };
    }
    return spec.required ? { type: "missing" } : null;
  }
  if (spec.kind === "number") {
    if (!Number.isFinite(value)) return { type: spec.integer ? "int_parsing" : "float_parsing" };
    if (spec.integer && !Number.isInteger(value)) return { type: "int_parsing" };
    if (spec.gt !== undefined && !(value > spec.gt)) return { type: "greater_than", ctx: { gt: spec.gt } };
    if (spec.min !== undefined && value < spec.min) {
      return { type: "greater_than_equal", ctx: { ge: spec.min } };
    }
    if (spec.max !== undefined && value > spec.max) {
      return { type: "less_than_equal", ctx: { le: spec.max } };
    }
    return null;
  }
  if (spec.rule && !RULES[spec.rule].test(value)) return { type: RULE_TYPES[spec.rule] };
  return null;
}

function read(spec, input) {
  if (spec.kind === "check") return input.checked;
  if (spec.kind === "select") return input.value;
  if (spec.kind === "number") {
    if (input.value.trim() === "") return null;
    return Number(input.value);
  }
  const text = spec.upper ? input.value.trim().toUpperCase() : input.value.trim();
  if (text === "" && spec.optional) return undefined;
  return text;
}

// --- errors next to their fields

function elementFor(path) {
  // The field itself, else the nearest enclosing thing that has a place for
  // errors (a list, a card): services.0.names -> services.0.
  const parts = path.split(".");
  while (parts.length) {
    const found = document.querySelector(`[data-path="${CSS.escape(parts.join("."))}"]`);
    if (found) return found;
    parts.pop();
  }
  return null;
}

function showFieldError(path, problem) {
  if (problem) errors.set(path, problem);
  else errors.delete(path);
  const el = document.querySelector(`[data-path="${CSS.escape(path)}"]`);
  if (!el) return;
  const box = document.getElementById(el.id + "-error");
  if (box) box.textContent = problem ? problemText(problem) : "";
  if (problem) el.setAttribute("aria-invalid", "true");
  else el.removeAttribute("aria-invalid");
}

function renderErrors() {
  for (const [path, problem] of errors) showFieldError(path, problem);
}

function clearErrors() {
  for (const path of [...errors.keys()]) showFieldError(path, null);
  errors.clear();
  summaryBox.hidden = true;
}

// Opens the cards around a field so it can be seen and focused.
function reveal(el) {
  for (let node = el.parentElement; node; node = node.parentElement) {
    if (node.tagName === "DETAILS" && !node.open) node.open = true;
  }
}

function focusField(el) {
  reveal(el);
  el.focus();
  el.scrollIntoView({ block: "center" });
}

function labelOf(el) {
  const spec = specs.get(el);
  if (spec) return [spec.context, t(spec.label)].filter(Boolean).join(" — ");
  return el.dataset.label || "";
}

// The list at the top: every problem, each a link to its field.
function showSummary(problems) {
  const list = document.getElementById("summary-list");
  list.replaceChildren();
  let first = null;
  for (const { path, problem } of problems) {
    const el = elementFor(path);
    const text = problemText(problem);
    if (el) {
      const exact = el.dataset.path === path;
      if (exact || !errors.has(el.dataset.path)) showFieldError(el.dataset.path, problem);
      first = first || el;
      const link = h("a", { href: `#${el.id}`, onclick: (event) => {
        event.preventDefault();
        focusField(el);
      } }, `${labelOf(el)}: ${text}`);
      list.append(h("li", {}, link));
    } else {
      list.append(h("li", {}, h("code", {}, path), `: ${text}`));
    }
  }
  document.getElementById("h-summary").textContent = t("editor.summary", { count: problems.length });
  summaryBox.hidden = false;
  if (first) focusField(first);
  else summaryBox.focus();
}

// --- building controls

function control(spec) {
  const path = key(spec.path);
  const id = fieldId(spec.path);
  const errorId = `${id}-error`;
  const hintId = spec.hint || spec.hintLines ? `${id}-hint` : null;
  const described = [hintId, errorId].filter(Boolean).join(" ");
  const value = getAt(spec.path);
  let input;
  if (spec.kind === "select") {
    input = h("select", { id, class: spec.cls, "aria-describedby": described },
      ...spec.options.map(([v, label]) => h("option", { value: v }, t(label))));
    input.value = value ?? spec.options[0][0];
  } else if (spec.kind === "textarea") {
    input = h("textarea", {
      id, rows: spec.rows || 2, maxlength: spec.maxlength || 200, "aria-describedby": described,
      placeholder: spec.placeholder, lang: spec.lang,
    });
    input.value = value ?? "";
  } else if (spec.kind === "check") {
    input = h("input", { type: "checkbox", id, "aria-describedby": described });
    input.checked = Boolean(value ?? spec.fallback);
  } else {
    const number = spec.kind === "number";
    input = h("input", {
      type: number ? "number" : "text", id, class: spec.cls,
      inputmode: number ? (spec.integer ? "numeric" : "decimal") : undefined,
      min: spec.min ?? (spec.gt !== undefined ? spec.gt : undefined), max: spec.max,
      step: number ? (spec.step || (spec.integer ? "1" : "any")) : undefined,
      maxlength: number ? undefined : (spec.maxlength || 200), "aria-describedby": described,
      spellcheck: spec.rule ? "false" : undefined, autocomplete: "off", lang: spec.lang,
      placeholder: spec.placeholder,
    });
    input.value = value === undefined || value === null ? "" : String(value);
  }
  if (spec.required) input.setAttribute("aria-required", "true");
  input.dataset.path = path;
  specs.set(input, spec);
  const onChange = () => {
    const next = read(spec, input);
    setAt(spec.path, next);
    if (next === undefined) prune(spec.path);
    if (spec.upper && input.value !== input.value.toUpperCase()) input.value = input.value.toUpperCase();
    showFieldError(path, check(spec, next, input));
    if (spec.onChange) spec.onChange(next);
    renderSaveState();
  };
  input.addEventListener(spec.kind === "check" || spec.kind === "select" ? "change" : "input", onChange);
  const label = h("label", { for: id, class: spec.srLabel ? "sr-only" : undefined },
    t(spec.label, spec.labelParams));
  // A hint of several lines (an SMS text's placeholders and its standard text).
  const lines = spec.hintLines || (spec.hint ? [t(spec.hint)] : []);
  const hint = lines.length ? h("p", { class: "hint", id: hintId },
    ...lines.flatMap((line, i) => (i ? [h("br"), line] : [line]))) : null;
  const error = h("p", { class: "field-error", id: errorId });
  if (spec.kind === "check") {
    return h("div", { class: "field" }, h("label", { class: "check" }, input, " ",
      h("span", {}, t(spec.label, spec.labelParams))), hint, error);
  }
  return h("div", { class: "field" }, label, hint, error, input);
}

// Names per language; Japanese required (`required`) or required once any
// other language is filled (an optional group such as "what to bring").
function namesGroup(path, legend, { required = false, textarea = false, context = "",
  hint = null } = {}) {
  const fields = NAME_LANGS.map(([lang, label]) => control({
    path: [...path, lang], label, kind: textarea ? "textarea" : "text", context: `${context} ${t(legend)}`.trim(),
    required: required && lang === "ja", optional: !(required && lang === "ja"),
    lang: lang === "ja-easy" ? "ja" : lang, maxlength: 200,
  }));
  return h("fieldset", {}, h("legend", {}, t(legend)),
    hint ? h("p", { class: "hint" }, t(hint)) : null, h("div", { class: "names-grid" }, ...fields));
}

function card(keyOf, summaryChildren, bodyChildren, { path = null, label = "", id = null } = {}) {
  const details = h("details", { class: "card" });
  details.open = openCards.has(keyOf);
  details.addEventListener("toggle", () => {
    if (details.open) openCards.add(keyOf);
    else openCards.delete(keyOf);
  });
  const summaryProps = { id };
  let errorBox = null;
  if (path) {
    summaryProps.id = fieldId(path);
    summaryProps["data-path"] = key(path);
    summaryProps["data-label"] = label;
    summaryProps["aria-describedby"] = `${fieldId(path)}-error`;
    errorBox = h("p", { class: "field-error card-error", id: `${fieldId(path)}-error` });
  }
  details.append(h("summary", summaryProps, ...summaryChildren),
    h("div", { class: "card-body" }, errorBox, ...bodyChildren));
  return details;
}

function section(id, titleKey, ...children) {
  return h("section", { id, class: "block", "aria-labelledby": `h-${id}` },
    h("h2", { id: `h-${id}`, tabindex: "-1" }, t(titleKey)), ...children);
}

// --- sections

function namesSection() {
  return section("s-names", "section.names",
    namesGroup(["names"], "editor.office_names", { required: true }),
    namesGroup(["address"], "editor.address"));
}

function hoursSection() {
  draft.hours = draft.hours || {};
  draft.hours.weekly = draft.hours.weekly || {};
  const weekly = () => draft.hours.weekly;
  const rows = WEEKDAYS.map(([day, label]) => {
    const hours = weekly()[day];
    const openBox = h("input", { type: "checkbox", id: `f-hours_weekly_${day}_on` });
    openBox.checked = Boolean(hours);
    const times = ["open", "close"].map((which) => {
      const spec = {
        path: ["hours", "weekly", day, which], label: which === "open" ? "editor.opens" : "editor.closes",
        kind: "text", rule: "time", required: true, cls: "short", context: t(label), srLabel: true,
        placeholder: which === "open" ? "08:30" : "17:00",
        onChange: () => checkDay(day),
      };
      const built = control(spec);
      const input = built.querySelector("input");
      input.disabled = !hours;
      return built;
    });
    openBox.addEventListener("change", () => {
      if (openBox.checked) weekly()[day] = { open: "08:30", close: "17:00" };
      else delete weekly()[day];
      rerenderKeepingFocus(openBox.id);
    });
    return h("tr", {}, h("th", { scope: "row" }, t(label)),
      h("td", {}, h("label", { class: "check" }, openBox, " ", h("span", {}, t("editor.open_day")))),
      h("td", {}, times[0]), h("td", {}, times[1]));
  });
  return section("s-hours", "section.hours",
    h("p", { class: "hint" }, t("editor.hours_hint")),
    h("table", { class: "hours" }, h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, t("editor.weekday")), h("th", { scope: "col" }, t("editor.open_day")),
      h("th", { scope: "col" }, t("editor.opens")), h("th", { scope: "col" }, t("editor.closes")))),
    h("tbody", {}, ...rows)),
    control({ path: ["hours", "year_end_closure"], label: "editor.year_end", kind: "check",
      fallback: true, hint: "editor.year_end_hint" }));
}

function checkDay(day) {
  const hours = (draft.hours.weekly || {})[day];
  if (!hours || !RULES.time.test(hours.open || "") || !RULES.time.test(hours.close || "")) return;
  const path = key(["hours", "weekly", day, "close"]);
  showFieldError(path, hours.close <= hours.open ? { type: "close_before_open" } : null);
}

// Closed days and special hours: rows on screen, a date-keyed map in the
// configuration (written back at every change).
function rowsFromDraft() {
  const overrides = (draft.hours && draft.hours.overrides) || {};
  overrideRows = Object.entries(overrides).sort(([a], [b]) => a.localeCompare(b)).map(
    ([date, hours]) => ({ date, closed: hours === null, open: hours ? hours.open : "08:30",
      close: hours ? hours.close : "17:00" }));
}

function writeOverrides() {
  const out = {};
  for (const row of overrideRows) {
    if (!DATE_RE.test(row.date)) continue;
    out[row.date] = row.closed ? null : { open: row.open, close: row.close };
  }
  draft.hours = draft.hours || {};
  draft.hours.overrides = out;
  renderSaveState();
}

function rowPath(row, index, field) {
  const base = DATE_RE.test(row.date) ? `hours.overrides.${row.date}` : `hours.overrides.#${index}`;
  return field ? `${base}.${field}` : base;
}

function closedSection() {
  const body = h("tbody");
  overrideRows.forEach((row, index) => {
    const base = `f-override-${index}`;
    const dateId = `${base}-date`;
    const date = h("input", { type: "date", id: dateId, value: row.date, class: "short",
      "aria-describedby": `${dateId}-error`, "aria-required": "true" });
    date.dataset.path = rowPath(row, index, "");
    date.dataset.label = t("editor.date");
    const kind = h("select", { id: `${base}-kind`, class: "short" },
      h("option", { value: "closed" }, t("editor.closed_all_day")),
      h("option", { value: "hours" }, t("editor.special_hours")));
    kind.value = row.closed ? "closed" : "hours";
    const time = (which) => {
      const id = `${base}-${which}`;
      const input = h("input", { type: "text", id, class: "short", value: row[which],
        maxlength: 5, disabled: row.closed, "aria-describedby": `${id}-error`,
        placeholder: which === "open" ? "08:30" : "17:00" });
      input.dataset.path = rowPath(row, index, which);
      input.dataset.label = `${row.date} ${t(which === "open" ? "editor.opens" : "editor.closes")}`;
      input.addEventListener("input", () => {
        row[which] = input.value.trim();
        writeOverrides();
        showFieldError(input.dataset.path, RULES.time.test(row[which]) ? null : { type: "time_format" });
      });
      return h("div", {}, h("label", { for: id, class: "sr-only" },
        t(which === "open" ? "editor.opens" : "editor.closes")),
      h("p", { class: "field-error", id: `${id}-error` }), input);
    };
    // Updated in place, not redrawn: a date input reports each complete date
    // while it is being typed, and a redraw would move the typing elsewhere.
    date.addEventListener("change", () => {
      row.date = date.value;
      writeOverrides();
      showFieldError(date.dataset.path, null);
      date.dataset.path = rowPath(row, index, "");
      for (const which of ["open", "close"]) {
        document.getElementById(`${base}-${which}`).dataset.path = rowPath(row, index, which);
      }
      document.getElementById(`${base}-remove`).setAttribute("aria-label",
        t("editor.remove_date_named", { date: row.date || "—" }));
    });
    kind.addEventListener("change", () => {
      row.closed = kind.value === "closed";
      writeOverrides();
      rerenderKeepingFocus(kind.id);
    });
    const remove = h("button", { type: "button", class: "danger small", id: `${base}-remove`,
      "aria-label": t("editor.remove_date_named", { date: row.date || "—" }),
      onclick: () => {
        overrideRows.splice(index, 1);
        writeOverrides();
        rerenderKeepingFocus(overrideRows.length ? `f-override-${Math.max(0, index - 1)}-date`
          : "f-add-override");
      } }, t("editor.remove"));
    body.append(h("tr", {},
      h("td", {}, h("label", { for: dateId, class: "sr-only" }, t("editor.date")),
        h("p", { class: "field-error", id: `${dateId}-error` }), date),
      h("td", {}, h("label", { for: kind.id, class: "sr-only" }, t("editor.day_kind")), kind),
      h("td", {}, time("open")), h("td", {}, time("close")), h("td", {}, remove)));
  });
  const add = h("button", { type: "button", class: "secondary", id: "f-add-override", onclick: () => {
    overrideRows.push({ date: "", closed: true, open: "08:30", close: "17:00" });
    rerenderKeepingFocus(`f-override-${overrideRows.length - 1}-date`);
  } }, t("editor.add_date"));
  return section("s-closed", "section.closed",
    h("p", { class: "hint" }, t("editor.closed_hint")),
    overrideRows.length ? h("table", { class: "hours" }, h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, t("editor.date")), h("th", { scope: "col" }, t("editor.day_kind")),
      h("th", { scope: "col" }, t("editor.opens")), h("th", { scope: "col" }, t("editor.closes")),
      h("th", { scope: "col" }, h("span", { class: "sr-only" }, t("editor.actions"))))), body)
      : h("p", { class: "empty" }, t("editor.no_dates")),
    h("div", { class: "actions" }, add));
}

function serviceTitle(service) {
  return [h("span", { class: "badge", "aria-hidden": "true" }, service.letter || "?"),
    h("span", { class: "card-title" }, t("editor.service_title", {
      letter: service.letter || "?", name: nameOf(service.names) || t("editor.unnamed"),
    })),
    service.id ? h("span", { class: "hint" }, `(${service.id})`) : null];
}

function refreshTitle(details, object, titleOf) {
  const summary = details.querySelector("summary");
  summary.replaceChildren(...titleOf(object));
}

function serviceCard(service, index) {
  const base = ["services", index];
  const context = t("editor.service_title", { letter: service.letter || "?",
    name: nameOf(service.names) || t("editor.unnamed") });
  let details = null;
  const retitle = () => refreshTitle(details, service, serviceTitle);
  let previousId = service.id;
  // A new service's id may still change: the counters (and the display)
  // that already name it follow.
  const renamed = (next) => {
    for (const counter of draft.counters) {
      counter.services = counter.services.map((s) => (s === previousId && previousId ? next : s));
    }
    if (draft.display && Array.isArray(draft.display.services)) {
      draft.display.services = draft.display.services.map((s) => (s === previousId ? next : s));
    }
    previousId = next;
    retitle();
    refreshCounterChoices();
  };
  const num = (field, label, extra) => control({ path: [...base, field], label, kind: "number",
    context, required: true, ...extra });
  const check = (field, label, fallback, hint) => control({ path: [...base, field], label,
    kind: "check", context, fallback, hint });
  const body = [
    fresh.has(service)
      ? control({ path: [...base, "id"], label: "editor.service_id", kind: "text", rule: "id",
        required: true, cls: "short", hint: "editor.id_hint", context, maxlength: 40,
        onChange: renamed })
      : h("p", {}, t("editor.fixed_id", { id: service.id })),
    control({ path: [...base, "letter"], label: "editor.letter", kind: "text", rule: "letter",
      required: true, cls: "tiny", maxlength: 1, upper: true, hint: "editor.letter_hint", context,
      onChange: retitle }),
    namesGroup([...base, "names"], "editor.service_names", { required: true, context }),
    control({ path: [...base, "speech", "ja"], label: "editor.reading", kind: "text",
      optional: true, hint: "editor.reading_hint", context, lang: "ja" }),
    h("div", { class: "grid" },
      num("expected_minutes", "editor.expected_minutes", { gt: 0, max: 480, step: "any",
        hint: "editor.expected_minutes_hint" }),
      num("max_wait_minutes", "editor.max_wait_minutes", { integer: true, min: 1, max: 600,
        hint: "editor.max_wait_hint" })),
    h("fieldset", { class: "plain" }, h("legend", { class: "sr-only" }, t("editor.service_flags")),
      check("walk_in", "editor.walk_in", true), check("bookable", "editor.bookable", false),
      check("same_day_booking", "editor.same_day", true),
      check("konbini", "editor.konbini", false, "editor.konbini_hint")),
    h("fieldset", {}, h("legend", {}, t("editor.booking_slots")), h("div", { class: "grid" },
      num("slot_minutes", "editor.slot_minutes", { integer: true, min: 5, max: 240 }),
      num("slot_capacity", "editor.slot_capacity", { integer: true, min: 1, max: 100 }),
      num("booking_horizon_days", "editor.horizon_days", { integer: true, min: 1, max: 180 }),
      num("booking_lead_minutes", "editor.lead_minutes", { integer: true, min: 0, max: 10080,
        hint: "editor.lead_minutes_hint" }))),
    namesGroup([...base, "bring"], "editor.bring", { textarea: true, context,
      hint: "editor.bring_hint" }),
    h("div", { class: "actions" }, h("button", {
      type: "button", class: "danger", id: `${fieldId(base)}-remove`,
      "aria-disabled": draft.services.length <= 1 ? "true" : undefined,
      onclick: () => removeService(service),
    }, t("editor.remove_service"))),
  ];
  details = card(service, serviceTitle(service), body, { path: base, label: context });
  // The names change the title as one types.
  for (const input of details.querySelectorAll(`[data-path^="${key([...base, "names"])}."]`)) {
    input.addEventListener("input", () => {
      retitle();
      refreshCounterChoices();
    });
  }
  return details;
}

async function removeService(service) {
  if (draft.services.length <= 1) {
    setStatus("");
    showError(t("editor.last_service"));
    return;
  }
  const yes = await confirmDialog(t("editor.remove_service_confirm", {
    name: nameOf(service.names) || service.id || "?" }), t("editor.remove_service"));
  if (!yes) return;
  const index = draft.services.indexOf(service);
  draft.services.splice(index, 1);
  // Nothing may name a service that is gone.
  for (const counter of draft.counters) {
    counter.services = counter.services.filter((s) => s !== service.id);
  }
  if (draft.display && Array.isArray(draft.display.services)) {
    draft.display.services = draft.display.services.filter((s) => s !== service.id);
  }
  errors.clear();
  setStatus(t("editor.service_removed", { name: nameOf(service.names) || service.id }));
  rerenderKeepingFocus("f-add-service");
}

function nextLetter() {
  const used = new Set(draft.services.map((s) => s.letter));
  return "ABCDEFGHIJKLMNOPQRSTUVWXYZ".split("").find((l) => !used.has(l)) || "";
}

function addService() {
  const service = {
    id: "", letter: nextLetter(), names: { ja: "" }, expected_minutes: 10, walk_in: true,
    bookable: false, slot_minutes: 30, slot_capacity: 1, max_wait_minutes: 30, konbini: false,
    booking_horizon_days: 30, booking_lead_minutes: 60, same_day_booking: true,
  };
  draft.services.push(service);
  fresh.add(service);
  openCards.add(service);
  rerenderKeepingFocus(fieldId(["services", draft.services.length - 1, "id"]));
}

function servicesSection() {
  return section("s-services", "section.services",
    h("p", { class: "hint" }, t("editor.services_hint")),
    ...draft.services.map(serviceCard),
    h("div", { class: "actions" }, h("button", { type: "button", class: "secondary",
      id: "f-add-service", onclick: addService }, t("editor.add_service"))));
}

function counterTitle(counter) {
  return [h("span", { class: "card-title" }, nameOf(counter.names) || t("editor.unnamed")),
    counter.id ? h("span", { class: "hint" }, `(${counter.id})`) : null];
}

function serviceName(id) {
  const service = draft.services.find((s) => s.id === id);
  return service ? `${service.letter} ${nameOf(service.names) || service.id}` : id;
}

// A counter's services in priority order: up / down / remove buttons, and
// Alt+Arrow keys on them; the move is announced and focus stays on the
// moved service's button.
function orderList(counter, index) {
  const base = ["counters", index];
  const listId = `${fieldId(base)}-order`;
  const list = h("ol", { class: "order", id: listId, "aria-labelledby": `${listId}-label` });
  const move = (from, to, which) => {
    if (to < 0 || to >= counter.services.length) return;
    const [item] = counter.services.splice(from, 1);
    counter.services.splice(to, 0, item);
    setStatus(t("editor.moved", { name: serviceName(item), position: to + 1,
      count: counter.services.length }));
    rerenderKeepingFocus(`${listId}-${item}-${which}`);
  };
  counter.services.forEach((sid, pos) => {
    const last = counter.services.length - 1;
    const name = serviceName(sid);
    const button = (which, text, labelKey, action, off) => h("button", {
      type: "button", class: "secondary small", id: `${listId}-${sid}-${which}`,
      "aria-label": t(labelKey, { name }), "aria-disabled": off ? "true" : undefined,
      onclick: () => { if (!off) action(); },
      onkeydown: (event) => {
        if (!event.altKey) return;
        if (event.key === "ArrowUp") {
          event.preventDefault();
          move(pos, pos - 1, which);
        } else if (event.key === "ArrowDown") {
          event.preventDefault();
          move(pos, pos + 1, which);
        }
      },
    }, text);
    list.append(h("li", { dataset: { service: sid } },
      h("span", { class: "pos" }, `${pos + 1}.`), h("span", { class: "name" }, name),
      button("up", "↑", "editor.move_up", () => move(pos, pos - 1, "up"), pos === 0),
      button("down", "↓", "editor.move_down", () => move(pos, pos + 1, "down"), pos === last),
      button("remove", t("editor.remove"), "editor.remove_from_counter", () => {
        counter.services.splice(pos, 1);
        setStatus(t("editor.removed_from_counter", { name }));
        const next = counter.services[Math.min(pos, counter.services.length - 1)];
        rerenderKeepingFocus(next ? `${listId}-${next}-remove` : fieldId([...base, "services"]));
      }, false)));
  });
  const selectId = fieldId([...base, "services"]);
  const select = h("select", { id: selectId, "aria-describedby": `${selectId}-error` },
    ...counterChoices(counter));
  // Errors about the list as a whole (none chosen) show at the add control.
  select.dataset.path = key([...base, "services"]);
  select.dataset.label = `${nameOf(counter.names) || counter.id} — ${t("editor.counter_services")}`;
  const add = h("button", { type: "button", class: "secondary", id: selectId + "-button",
    "aria-disabled": select.options.length ? undefined : "true",
    onclick: () => {
      if (!select.value) return;
      counter.services.push(select.value);
      setStatus(t("editor.added_to_counter", { name: serviceName(select.value) }));
      errors.delete(key([...base, "services"]));
      rerenderKeepingFocus(select.id);
    } }, t("editor.add_to_counter"));
  return h("fieldset", {},
    h("legend", { id: `${listId}-label` }, t("editor.counter_services")),
    h("p", { class: "hint" }, t("editor.counter_services_hint")),
    counter.services.length ? list : h("p", { class: "empty" }, t("editor.no_services_yet")),
    h("div", { class: "add-row" }, h("div", { class: "field" },
      h("label", { for: select.id }, t("editor.add_service_to_counter")),
      h("p", { class: "field-error", id: `${select.id}-error` }), select), add));
}

// The services a counter may still add (those with an id, not yet listed).
function counterChoices(counter) {
  return draft.services.filter((s) => s.id && !counter.services.includes(s.id))
    .map((s) => h("option", { value: s.id }, serviceName(s.id)));
}

// A new service's id is typed after the counters were drawn: their "add"
// lists follow without redrawing (the typing stays where it is).
function refreshCounterChoices() {
  draft.counters.forEach((counter, index) => {
    const select = document.getElementById(fieldId(["counters", index, "services"]));
    if (!select) return;
    const chosen = select.value;
    select.replaceChildren(...counterChoices(counter));
    if ([...select.options].some((o) => o.value === chosen)) select.value = chosen;
    const button = document.getElementById(`${select.id}-button`);
    if (select.options.length) button.removeAttribute("aria-disabled");
    else button.setAttribute("aria-disabled", "true");
  });
}

function counterCard(counter, index) {
  const base = ["counters", index];
  const context = nameOf(counter.names) || counter.id || t("editor.unnamed");
  let details = null;
  const retitle = () => refreshTitle(details, counter, counterTitle);
  const body = [
    fresh.has(counter)
      ? control({ path: [...base, "id"], label: "editor.counter_id", kind: "text", rule: "id",
        required: true, cls: "short", hint: "editor.counter_id_hint", context, maxlength: 40,
        onChange: retitle })
      : h("p", {}, t("editor.fixed_id", { id: counter.id })),
    namesGroup([...base, "names"], "editor.counter_names", { required: true, context }),
    control({ path: [...base, "speech", "ja"], label: "editor.reading", kind: "text",
      optional: true, hint: "editor.counter_reading_hint", context, lang: "ja" }),
    orderList(counter, index),
    control({ path: [...base, "order"], label: "editor.order", kind: "select", context,
      options: [["priority", "editor.order_priority"], ["due", "editor.order_due"]],
      hint: "editor.order_hint" }),
    h("div", { class: "actions" }, h("button", {
      type: "button", class: "danger", id: `${fieldId(base)}-remove`,
      "aria-disabled": draft.counters.length <= 1 ? "true" : undefined,
      onclick: () => removeCounter(counter),
    }, t("editor.remove_counter"))),
  ];
  details = card(counter, counterTitle(counter), body, { path: base, label: context });
  for (const input of details.querySelectorAll(`[data-path^="${key([...base, "names"])}."]`)) {
    input.addEventListener("input", retitle);
  }
  return details;
}

async function removeCounter(counter) {
  if (draft.counters.length <= 1) {
    showError(t("editor.last_counter"));
    return;
  }
  const yes = await confirmDialog(t("editor.remove_counter_confirm", {
    name: nameOf(counter.names) || counter.id || "?" }), t("editor.remove_counter"));
  if (!yes) return;
  draft.counters.splice(draft.counters.indexOf(counter), 1);
  errors.clear();
  setStatus(t("editor.counter_removed", { name: nameOf(counter.names) || counter.id }));
  rerenderKeepingFocus("f-add-counter");
}

function nextCounterId() {
  const numbers = draft.counters.map((c) => Number(c.id)).filter(Number.isInteger);
  const next = numbers.length ? Math.max(...numbers) + 1 : draft.counters.length + 1;
  return String(next);
}

function addCounter() {
  const counter = { id: nextCounterId(), names: { ja: "" }, services: [], order: "priority" };
  draft.counters.push(counter);
  fresh.add(counter);
  openCards.add(counter);
  rerenderKeepingFocus(fieldId(["counters", draft.counters.length - 1, "id"]));
}

function countersSection() {
  return section("s-counters", "section.counters",
    h("p", { class: "hint" }, t("editor.counters_hint")),
    ...draft.counters.map(counterCard),
    h("div", { class: "actions" }, h("button", { type: "button", class: "secondary",
      id: "f-add-counter", onclick: addCounter }, t("editor.add_counter"))));
}

function numbers(group, fields) {
  return h("div", { class: "grid" }, ...fields.map(([field, label, min, max, hint]) => control({
    path: [group, field], label, kind: "number", integer: true, min, max, required: true, hint,
  })));
}

function bookingSection() {
  return section("s-booking", "section.booking",
    numbers("booking", [
      ["max_active_per_phone", "editor.max_active_per_phone", 1, 20],
      ["per_ip_per_hour", "editor.per_ip_per_hour", 1, 10000],
      ["checkin_before_minutes", "editor.checkin_before", 0, 240],
      ["checkin_after_minutes", "editor.checkin_after", 0, 240],
      ["grace_minutes", "editor.grace", 0, 60, "editor.grace_hint"],
      ["retention_days", "editor.retention_days", 1, 365, "editor.retention_hint"],
      ["near_minutes", "editor.near_minutes", 1, 240, "editor.near_hint"],
      ["come_now_minutes", "editor.come_now_minutes", 0, 120],
    ]),
    control({ path: ["booking", "early_call"], label: "editor.early_call", kind: "select",
      hint: "editor.early_call_hint",
      options: [["at_slot", "editor.early_call_at_slot"],
        ["when_free", "editor.early_call_when_free"]] }),
    control({ path: ["booking", "reminder_time"], label: "editor.reminder_time", kind: "text",
      rule: "time", required: true, cls: "short", hint: "editor.reminder_hint",
      placeholder: "10:00" }));
}

function queueSection() {
  return section("s-queue", "section.queue", numbers("queue", [
    ["max_recalls", "editor.max_recalls", 0, 10, "editor.max_recalls_hint"],
    ["rejoin_minutes", "editor.rejoin_minutes", 0, 240],
    ["priority_minutes", "editor.priority_minutes", 0, 240, "editor.priority_hint"],
  ]));
}

function displaySection() {
  draft.display = draft.display || {};
  const display = draft.display;
  if (!Array.isArray(display.languages)) display.languages = ["ja", "en"];
  const langs = h("fieldset", {}, h("legend", {}, t("editor.display_languages")),
    h("p", { class: "hint" }, t("editor.display_languages_hint")),
    h("p", { class: "field-error", id: "f-display_languages-error" }),
    ...DISPLAY_LANGS.map(([lang, label]) => {
      const box = h("input", { type: "checkbox", id: `f-display-lang-${lang}`,
        "aria-describedby": "f-display_languages-error" });
      box.checked = display.languages.includes(lang);
      if (lang === DISPLAY_LANGS[0][0]) {
        // Problems with the list (none chosen) belong to its first box.
        box.dataset.path = "display.languages";
        box.id = "f-display_languages";
      }
      box.addEventListener("change", () => {
        // Keep the spoken order of those still chosen; a new one goes last.
        display.languages = box.checked ? [...display.languages, lang]
          : display.languages.filter((l) => l !== lang);
        showFieldError("display.languages", display.languages.length ? null
          : { type: "too_short", ctx: { min_length: 1 } });
        renderSaveState();
      });
      return h("label", { class: "check" }, box, " ", h("span", {}, t(label)));
    }));
  const all = h("input", { type: "checkbox", id: "f-display-all-services" });
  all.checked = !Array.isArray(display.services);
  all.addEventListener("change", () => {
    if (all.checked) delete display.services;
    else display.services = draft.services.map((s) => s.id).filter(Boolean);
    rerenderKeepingFocus(all.id);
  });
  const shownServices = h("fieldset", {}, h("legend", {}, t("editor.display_services")),
    h("label", { class: "check" }, all, " ", h("span", {}, t("editor.display_all_services"))),
    ...(Array.isArray(display.services) ? draft.services.filter((s) => s.id).map((s) => {
      const box = h("input", { type: "checkbox", id: `f-display-svc-${s.id}` });
      box.checked = display.services.includes(s.id);
      box.addEventListener("change", () => {
        display.services = draft.services.map((x) => x.id).filter((id) => id === s.id
          ? box.checked : display.services.includes(id));
        renderSaveState();
      });
      return h("label", { class: "check" }, box, " ", h("span", {}, serviceName(s.id)));
    }) : []));
  return section("s-display", "section.display", langs, shownServices,
    h("div", { class: "grid" },
      control({ path: ["display", "layout"], label: "editor.layout", kind: "select",
        options: [["landscape", "editor.layout_landscape"], ["portrait", "editor.layout_portrait"]] }),
      control({ path: ["display", "theme"], label: "editor.theme", kind: "select",
        options: [["dark", "editor.theme_dark"], ["light", "editor.theme_light"]] }),
      control({ path: ["display", "call_style"], label: "editor.call_style", kind: "select",
        options: [["arrow", "editor.call_arrow"], ["stacked", "editor.call_stacked"]] }),
      control({ path: ["display", "recent_calls"], label: "editor.recent_calls", kind: "number",
        integer: true, min: 6, max: 10, required: true }),
      control({ path: ["display", "volume"], label: "editor.volume", kind: "number", min: 0,
        max: 1, step: "0.1", required: true, hint: "editor.volume_hint" })));
}

// Today in the office's time zone as the ticket prints it in 和暦
// (令和8年12月8日): the example of the setting, never a fixed date.
function todayInEra() {
  const zone = draft.timezone || "Asia/Tokyo";
  try {
    return new Intl.DateTimeFormat("ja-JP-u-ca-japanese", {
      timeZone: zone, era: "long", year: "numeric", month: "long", day: "numeric",
    }).format(new Date());
  } catch {
    return "";
  }
}

function ticketSection() {
  return section("s-ticket", "section.ticket",
    namesGroup(["ticket", "footer"], "editor.footer", { textarea: true, hint: "editor.footer_hint" }),
    control({ path: ["ticket", "wareki"], label: "editor.wareki", kind: "check", fallback: false,
      hint: "editor.wareki_hint", labelParams: { example: todayInEra() } }),
    control({ path: ["ticket", "come_back_minutes"], label: "editor.come_back_minutes",
      kind: "number", integer: true, min: 10, max: 480, required: true,
      hint: "editor.come_back_hint" }),
    // The saved settings' ticket, exactly as the printers print it.
    h("figure", { class: "ticket-preview" },
      h("img", { id: "ticket-preview", alt: t("editor.ticket_preview_alt"), width: "256",
        src: `/api/v1/offices/${encodeURIComponent(officeId)}/ticket-preview.png?v=${version}` }),
      h("figcaption", {}, t("editor.ticket_preview"))));
}

function smsSection() {
  const cards = NAME_LANGS.map(([lang, label]) => {
    const own = (draft.sms_texts || {})[lang] || {};
    const count = Object.keys(own).length;
    const fields = SMS_KINDS.map(([kind, kindLabel]) => {
      const names = (smsPlaceholders[kind] || []).map((n) => `{${n}}`).join(" ");
      const fallback = (smsDefaults[lang] || {})[kind] || "";
      return control({
        path: ["sms_texts", lang, kind], label: kindLabel, kind: "textarea", optional: true,
        maxlength: 500, rows: 3, lang: lang === "ja-easy" ? "ja" : lang,
        context: t(label),
        hintLines: [t("editor.sms_hint", { names }), t("editor.sms_default", { text: fallback })],
      });
    });
    return card(`sms:${lang}`, [h("span", { class: "card-title" }, t(label)),
      h("span", { class: "hint" }, count ? t("editor.sms_own", { count }) : t("editor.sms_standard"))],
    fields, { id: `f-sms-${lang}` });
  });
  return section("s-sms", "section.sms", h("p", { class: "hint" }, t("editor.sms_lead")), ...cards);
}

// --- whole form

function render() {
  if (!draft) return;
  specs.clear();
  document.title = t("editor.page_title_named", { name: nameOf(draft.names) || officeId });
  document.getElementById("h-office").textContent = t("editor.heading", {
    name: nameOf(draft.names) || officeId });
  sections.replaceChildren(namesSection(), hoursSection(), closedSection(), servicesSection(),
    countersSection(), bookingSection(), queueSection(), displaySection(), ticketSection(),
    smsSection());
  renderErrors();
  renderSaveState();
  renderWarnings();
  if (shown && shown.code) showError(adminErrorText(shown.code, shown.details));
  if (shown && shown.key) setStatus(t(shown.key, shown.params || {}));
}

// What the server found the saved configuration cannot keep (warnings, not
// refusals: queue_server/feasibility.py), each with its numbers.
function renderWarnings() {
  const box = document.getElementById("warnings");
  const items = warnings.filter((w) => w.type === "booking_capacity")
    .map((w) => h("li", {}, warningText(w)));
  document.getElementById("warnings-list").replaceChildren(...items);
  box.hidden = items.length === 0;
}

function warningText(w) {
  const service = ((draft && draft.services) || []).find((s) => s.id === w.service);
  const params = {
    service: (service && nameOf(service.names)) || w.service_name || w.service,
    slot: w.slot_minutes, capacity: w.capacity, minutes: w.expected_minutes,
    booked: w.booked_minutes, counters: w.counters, available: w.available_minutes,
    counter_minutes: w.counter_minutes, walk_in: w.walk_in_minutes,
  };
  let text = t("editor.warning_booking_capacity", params);
  if (w.walk_in_minutes > 0) text += ` ${t("editor.warning_walk_in", params)}`;
  return text;
}

function rerenderKeepingFocus(id) {
  const y = window.scrollY;
  render();
  window.scrollTo(0, y);
  const el = document.getElementById(id);
  if (el) {
    reveal(el);
    el.focus({ preventScroll: false });
  }
}

// --- checking everything before saving

function validateAll() {
  const problems = [];
  for (const [input, spec] of specs) {
    if (!input.isConnected || input.disabled) continue;
    const problem = check(spec, getAt(spec.path), input);
    if (problem) problems.push({ path: key(spec.path), problem });
  }
  // Japanese is the fallback of every optional text group: needed once any
  // other language is filled.
  const groups = [["address"], ["ticket", "footer"],
    ...draft.services.flatMap((s, i) => [["services", i, "bring"], ["services", i, "speech"]]),
    ...draft.counters.map((c, i) => ["counters", i, "speech"])];
  for (const path of groups) {
    const names = getAt(path);
    if (names && Object.keys(names).length && !names.ja) {
      problems.push({ path: key([...path, "ja"]), problem: { type: "required_ja" } });
    }
  }
  const seen = (items, field, type, prefix) => {
    const first = new Map();
    items.forEach((item, i) => {
      const value = item[field];
      if (!value) return;
      if (first.has(value)) {
        problems.push({ path: `${prefix}.${i}.${field}`, problem: { type, ctx: { [field]: value } } });
      } else {
        first.set(value, i);
      }
    });
  };
  seen(draft.services, "id", "duplicate_id", "services");
  seen(draft.services, "letter", "duplicate_letter", "services");
  seen(draft.counters, "id", "duplicate_id", "counters");
  draft.counters.forEach((counter, i) => {
    if (!counter.services.length) {
      problems.push({ path: `counters.${i}.services`, problem: { type: "need_service" } });
    }
  });
  for (const [day, hours] of Object.entries((draft.hours || {}).weekly || {})) {
    if (RULES.time.test(hours.open || "") && RULES.time.test(hours.close || "")
        && hours.close <= hours.open) {
      problems.push({ path: `hours.weekly.${day}.close`, problem: { type: "close_before_open" } });
    }
  }
  const dates = new Set();
  overrideRows.forEach((row, index) => {
    if (!DATE_RE.test(row.date)) {
      problems.push({ path: rowPath(row, index, ""), problem: { type: "date_parsing" } });
      return;
    }
    if (dates.has(row.date)) {
      problems.push({ path: rowPath(row, index, ""), problem: { type: "duplicate_date" } });
    }
    dates.add(row.date);
    if (row.closed) return;
    for (const which of ["open", "close"]) {
      if (!RULES.time.test(row[which])) {
        problems.push({ path: rowPath(row, index, which), problem: { type: "time_format" } });
      }
    }
    if (RULES.time.test(row.open) && RULES.time.test(row.close) && row.close <= row.open) {
      problems.push({ path: rowPath(row, index, "close"), problem: { type: "close_before_open" } });
    }
  });
  if (!(draft.display.languages || []).length) {
    problems.push({ path: "display.languages", problem: { type: "too_short", ctx: { min_length: 1 } } });
  }
  return problems;
}

// The server's problems use its paths; a weekday's or a date's order
// problem belongs to its closing time.
function fromServer(problems) {
  return problems.map((p) => {
    let path = p.field;
    if (p.type === "close_before_open") path = `${path}.close`;
    return { path, problem: p };
  });
}

async function save(event) {
  if (event) event.preventDefault();
  if (saving || !draft) return;
  clearError();
  clearErrors();
  shown = null;
  document.getElementById("conflict").hidden = true;
  const problems = validateAll();
  if (problems.length) {
    showSummary(problems);
    return;
  }
  saving = true;
  saveButton.setAttribute("aria-disabled", "true");
  setStatus(t("editor.saving"));
  const answer = await call(API, { method: "PUT", body: draft,
    headers: { "If-Match": `"${version}"` } });
  saving = false;
  saveButton.removeAttribute("aria-disabled");
  if (answer.error) {
    setStatus("");
    const { code, details } = answer.error;
    shown = { code, details };
    showError(adminErrorText(code, details));
    if (code === "validation_failed" && details.problems) {
      showSummary(fromServer(details.problems));
    } else if (code === "config_conflict") {
      document.getElementById("conflict").hidden = false;
      document.getElementById("reload-latest").focus();
    }
    return;
  }
  version = answer.body.version;
  warnings = answer.body.warnings || [];
  savedJson = JSON.stringify(draft);
  fresh.clear(); // saved ids are fixed from now on
  shown = { key: answer.body.changes ? "editor.saved" : "editor.nothing_changed",
    params: { version } };
  render();
  setStatus(t(shown.key, shown.params));
}

async function load() {
  const answer = await call(API);
  if (answer.error) {
    shown = answer.error;
    showError(adminErrorText(answer.error.code, answer.error.details));
    return false;
  }
  draft = answer.body.config;
  version = answer.body.version;
  warnings = answer.body.warnings || [];
  smsDefaults = answer.body.sms_defaults || {};
  smsPlaceholders = answer.body.sms_placeholders || {};
  savedJson = JSON.stringify(draft);
  fresh.clear();
  errors.clear();
  rowsFromDraft();
  render();
  return true;
}

// --- export and import

let pendingImport = null; // {text, type}

async function preview() {
  const input = document.getElementById("import-file");
  const errorBox = document.getElementById("import-file-error");
  errorBox.textContent = "";
  input.removeAttribute("aria-invalid");
  clearError();
  if (!input.files.length) {
    errorBox.textContent = t("transfer.file_required");
    input.setAttribute("aria-invalid", "true");
    input.focus();
    return;
  }
  const file = input.files[0];
  pendingImport = { text: await file.text(), type: contentTypeOf(file.name) };
  const answer = await send(`${API}/diff`, "POST", pendingImport.text, pendingImport.type);
  const box = document.getElementById("preview");
  const problemsList = document.getElementById("preview-problems");
  const changesBox = document.getElementById("preview-changes");
  const note = document.getElementById("preview-note");
  const apply = document.getElementById("import-apply");
  problemsList.replaceChildren();
  changesBox.replaceChildren();
  box.hidden = false;
  if (answer.error) {
    pendingImport = null;
    apply.hidden = true;
    note.textContent = adminErrorText(answer.error.code, answer.error.details);
    for (const p of (answer.error.details || {}).problems || []) {
      problemsList.append(h("li", {}, h("code", {}, p.field || "—"), `: ${problemText(p)}`));
    }
  } else {
    const { changes, imported_from: from } = answer.body;
    apply.hidden = changes.length === 0;
    note.textContent = [
      from ? t("transfer.other_office", { from, to: officeId }) : "",
      changes.length ? t("transfer.change_count", { count: changes.length }) : t("transfer.no_changes"),
    ].filter(Boolean).join(" ");
    changesBox.append(renderChanges(changes, { limit: 200 }));
    // What the imported set-up could not keep: said before it is applied.
    for (const w of answer.body.warnings || []) {
      if (w.type === "booking_capacity") problemsList.append(h("li", {}, warningText(w)));
    }
  }
  const heading = document.getElementById("h-preview");
  heading.focus();
  heading.scrollIntoView({ block: "start" });
}

async function applyImport() {
  if (!pendingImport) return;
  if (dirty()) {
    const yes = await confirmDialog(t("transfer.discard_confirm"), t("transfer.apply"));
    if (!yes) return;
  }
  const answer = await send(API, "PUT", pendingImport.text, pendingImport.type,
    { "If-Match": `"${version}"` });
  if (answer.error) {
    shown = answer.error;
    showError(adminErrorText(answer.error.code, answer.error.details));
    if (answer.error.code === "config_conflict") document.getElementById("conflict").hidden = false;
    return;
  }
  pendingImport = null;
  document.getElementById("preview").hidden = true;
  document.getElementById("import-file").value = "";
  await load();
  shown = { key: "transfer.imported", params: { version } };
  setStatus(t("transfer.imported", { version }));
  document.getElementById("h-office").focus();
}

async function start() {
  const session = await boot(render);
  if (!session) return;
  document.getElementById("export-json").href = `${API}?format=json`;
  document.getElementById("export-yaml").href = `${API}?format=yaml`;
  form.addEventListener("submit", save);
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") {
      event.preventDefault();
      save();
    }
  });
  document.getElementById("reload-latest").addEventListener("click", async () => {
    document.getElementById("conflict").hidden = true;
    clearError();
    shown = null;
    if (await load()) {
      setStatus(t("editor.reloaded", { version }));
      document.getElementById("h-office").focus();
    }
  });
  document.getElementById("import-preview").addEventListener("click", preview);
  document.getElementById("import-apply").addEventListener("click", applyImport);
  document.getElementById("import-cancel").addEventListener("click", () => {
    pendingImport = null;
    document.getElementById("preview").hidden = true;
    document.getElementById("import-file").focus();
  });
  window.addEventListener("beforeunload", (event) => {
    if (dirty()) {
      event.preventDefault();
      event.returnValue = ""; // the browser asks before unsaved changes are lost
    }
  });
  await load();
  document.body.dataset.ready = "true";
}

start();
