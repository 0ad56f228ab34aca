// The staffing planner (/dashboard/staffing): arrivals per hour, either
// forecast from the same weekday of the last four weeks or typed in, and a
// service-level target go to GET /api/v1/offices/{office}/staffing, which
// answers the fewest counters per hour (Erlang C) with the service level
// and mean wait they give. Shown as a table and a chart.

import { t } from "../login/i18n.js";
import { clearError, setStatus, showError } from "../login/messages.js";
import { columnChart } from "./charts.js";
import { hourRange, hourShort, isDate, longDate, minutes, number, orNone, percent } from "./format.js";
import {
  chooseOffice, fillOfficeSelect, getJson, nameIn, problemText, renderChrome, showInAddress,
  startChrome,
} from "./page.js";

const FIRST_HOUR = 8; // Kitakyushu's ward offices open 8:30–17:00
const LAST_HOUR = 16;
const MAX_ARRIVALS = 10_000;

const form = document.getElementById("plan-form");
const officeSelect = document.getElementById("office");
const serviceSelect = document.getElementById("service");
const dateInput = document.getElementById("date");
const firstHour = document.getElementById("first-hour");
const lastHour = document.getElementById("last-hour");
const arrivalBox = document.getElementById("arrival-inputs");
const serviceMinutes = document.getElementById("service-minutes");
const targetShare = document.getElementById("target-share");
const targetMinutes = document.getElementById("target-minutes");
const editForecast = document.getElementById("edit-forecast");

let offices = [];
let shown = null; // {answer, typedMinutes, hours} on screen
const typed = new Map(); // hour -> text typed, kept while the hour range changes

function office() {
  return offices.find((o) => o.id === officeSelect.value) || offices[0];
}

function source() {
  return form.elements.source.value;
}

function el(name, attrs = {}, text) {
  const node = document.createElement(name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

// --- the form

function fillServices() {
  const chosen = serviceSelect.value;
  serviceSelect.replaceChildren(new Option(t("staffing.all_services"), ""));
  for (const s of office().services) {
    serviceSelect.append(new Option(`${s.letter} ${nameIn(s.names)}`, s.id));
  }
  serviceSelect.value = office().services.some((s) => s.id === chosen) ? chosen : "";
}

function fillHours() {
  const first = firstHour.value || String(FIRST_HOUR);
  const last = lastHour.value || String(LAST_HOUR);
  for (const [box, value] of [[firstHour, first], [lastHour, last]]) {
    box.replaceChildren();
    for (let hour = 0; hour < 24; hour += 1) box.append(new Option(hourRange(hour), String(hour)));
    box.value = value;
  }
}

function arrivalInputs() {
  for (const input of arrivalBox.querySelectorAll("input")) typed.set(input.dataset.hour, input.value);
  let first = Number(firstHour.value);
  let last = Number(lastHour.value);
  if (last < first) [first, last] = [last, first];
  arrivalBox.replaceChildren();
  for (let hour = first; hour <= last; hour += 1) {
    const field = el("div", { class: "field" });
    const id = `arrivals-${hour}`;
    field.append(el("label", { for: id }, t("staffing.arrivals_label", { hour: hourRange(hour) })));
    field.append(el("p", { id: `${id}-error`, class: "field-error" }));
    const input = el("input", { id, type: "number", min: "0", max: String(MAX_ARRIVALS),
      step: "any", inputmode: "decimal", "data-hour": String(hour),
      "aria-describedby": `arrivals-hint ${id}-error` });
    input.value = typed.get(String(hour)) || "";
    input.addEventListener("input", () => fieldError(input, ""));
    field.append(input);
    arrivalBox.append(field);
  }
}

function showSource() {
  const history = source() === "history";
  document.getElementById("history-fields").hidden = !history;
  document.getElementById("typed-fields").hidden = history;
}

function fieldError(input, key, params) {
  const box = document.getElementById(input.id + "-error");
  if (box) box.textContent = key ? t(key, params) : "";
  if (key) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

function numberIn(input, { min, max, allowEmpty = false, above = false }) {
  const text = input.value.trim();
  if (!text) return allowEmpty ? "" : null;
  const value = Number(text);
  if (!Number.isFinite(value) || value > max || (above ? value <= min : value < min)) return null;
  return value;
}

// The API query, or null after marking what is wrong (focus on the first).
function readForm() {
  const inputs = [dateInput, serviceMinutes, targetShare, targetMinutes,
    ...arrivalBox.querySelectorAll("input")];
  for (const input of inputs) fieldError(input, "");
  const query = new URLSearchParams();
  if (serviceSelect.value) query.set("service", serviceSelect.value);
  if (source() === "history") {
    if (!isDate(dateInput.value)) fieldError(dateInput, "stats.error_date");
    else query.set("date", dateInput.value);
  } else {
    const values = [];
    for (const input of arrivalBox.querySelectorAll("input")) {
      const value = numberIn(input, { min: 0, max: MAX_ARRIVALS, allowEmpty: true });
      if (value === null) fieldError(input, "staffing.error_arrivals");
      values.push(value === "" ? 0 : value);
    }
    query.set("arrivals", values.join(","));
    query.set("first_hour", String(Math.min(Number(firstHour.value), Number(lastHour.value))));
  }
  const minutesValue = numberIn(serviceMinutes, { min: 0, max: 480, allowEmpty: true,
    above: true });
  if (minutesValue === null) fieldError(serviceMinutes, "staffing.error_service_minutes");
  else if (minutesValue !== "") query.set("service_minutes", String(minutesValue));
  const share = numberIn(targetShare, { min: 1, max: 99 });
  if (share === null) fieldError(targetShare, "staffing.error_share");
  else query.set("target_share", String(share / 100));
  const within = numberIn(targetMinutes, { min: 0, max: 480 });
  if (within === null) fieldError(targetMinutes, "staffing.error_target_minutes");
  else query.set("target_minutes", String(within));
  const wrong = inputs.find((input) => input.hasAttribute("aria-invalid"));
  if (wrong) {
    showError(t("error.check_input"));
    wrong.focus();
    return null;
  }
  return query;
}

// --- the answer

function shownHours(answer) {
  if (answer.forecast === "given") return answer.hours;
  // A forecast covers the whole day: show the hours people came in.
  const busy = answer.hours.filter((h) => h.arrivals > 0).map((h) => h.hour);
  if (!busy.length) return [];
  const [first, last] = [Math.min(...busy), Math.max(...busy)];
  return answer.hours.filter((h) => h.hour >= first && h.hour <= last);
}

// The form's texts in the chosen language (rebuilding the options keeps
// their values).
function renderForm() {
  fillOfficeSelect(officeSelect, offices, { allowAll: false, selected: officeSelect.value });
  fillServices();
  fillHours();
  arrivalInputs();
}

function renderResult() {
  if (!shown) return;
  const { answer, typedMinutes } = shown;
  const hours = shownHours(answer);
  document.getElementById("result").hidden = false;
  const given = answer.forecast === "given";
  const service = office().services.find((s) => s.id === answer.service);
  document.getElementById("summary").textContent = [
    given ? t("staffing.from_typed")
      : t("staffing.from_history", { date: longDate(answer.date) }),
    t(typedMinutes ? "staffing.minutes_typed" : "staffing.minutes_learned", {
      minutes: minutes(answer.service_minutes),
      service: service ? `${service.letter} ${nameIn(service.names)}` : t("staffing.all_services"),
    }),
    t("staffing.target_text", { share: percent(answer.target_share),
      minutes: minutes(answer.target_minutes) }),
  ].join(" ");
  document.getElementById("no-history").hidden = hours.length > 0;
  editForecast.hidden = given || !hours.length;
  const peak = hours.reduce((best, h) => (best && best.counters >= h.counters ? best : h), null);
  document.getElementById("peak").textContent = peak && peak.counters
    ? t("staffing.peak", { n: number(peak.counters, 0), hour: hourRange(peak.hour) }) : "";
  const chartBox = document.getElementById("plan-chart");
  const tableBox = document.getElementById("plan-table");
  chartBox.replaceChildren();
  tableBox.replaceChildren();
  if (!hours.length) return;
  const categories = hours.map((h) => ({ short: hourShort(h.hour), long: hourRange(h.hour) }));
  const describe = (ci) => t("staffing.desc_hour", { hour: categories[ci].long,
    n: number(hours[ci].counters, 0), level: percent(hours[ci].service_level),
    wait: orNone(hours[ci].mean_wait_minutes, minutes) });
  chartBox.append(columnChart({
    name: "counters", title: t("staffing.chart_title"), categoryHeader: t("stats.col_hour"),
    categories, series: [{ name: t("staffing.col_counters"), values: hours.map((h) => h.counters) }],
    format: (v) => number(v, 0), axisFormat: (v) => number(v, 0), integer: true,
    separator: t("chart.separator"), describe, tableBeside: true,
  }));
  const table = el("table", { class: "data", id: "plan" });
  table.append(el("caption", { class: "sr-only" }, t("staffing.result_heading")));
  const head = el("tr");
  for (const key of ["stats.col_hour", "staffing.col_arrivals", "staffing.col_erlangs",
    "staffing.col_counters", "staffing.col_level", "staffing.col_mean_wait",
    "staffing.col_p_wait"]) {
    head.append(el("th", { scope: "col", class: key === "stats.col_hour" ? "" : "num" }, t(key)));
  }
  const thead = el("thead");
  thead.append(head);
  const tbody = el("tbody");
  for (const h of hours) {
    const row = el("tr", { "data-hour": String(h.hour) });
    row.append(el("th", { scope: "row" }, hourRange(h.hour)));
    for (const [key, text] of [
      ["arrivals", number(h.arrivals, 2)], ["erlangs", number(h.erlangs, 2)],
      ["counters", number(h.counters, 0)], ["level", percent(h.service_level)],
      ["mean_wait", orNone(h.mean_wait_minutes, (v) => t("unit.minutes", { n: number(v, 2) }))],
      ["p_wait", percent(h.p_wait)],
    ]) {
      row.append(el("td", { class: "num", "data-col": key }, text));
    }
    tbody.append(row);
  }
  table.append(thead, tbody);
  tableBox.append(table);
}

async function compute() {
  clearError();
  const query = readForm();
  if (!query) return;
  showInAddress({ office: officeSelect.value });
  setStatus(t("staffing.computing"));
  try {
    const answer = await getJson(
      `/api/v1/offices/${encodeURIComponent(officeSelect.value)}/staffing?${query}`);
    shown = { answer, typedMinutes: query.has("service_minutes") };
    renderResult();
    setStatus(t("staffing.done"));
  } catch (error) {
    setStatus("");
    showError(problemText(error));
  }
}

// The forecast as a starting point: its hours and numbers into the typed form.
function editTheForecast() {
  const hours = shownHours(shown.answer);
  typed.clear();
  for (const h of hours) typed.set(String(h.hour), String(h.arrivals));
  firstHour.value = String(hours[0].hour);
  lastHour.value = String(hours[hours.length - 1].hour);
  document.getElementById("source-typed").checked = true;
  showSource();
  arrivalInputs();
  arrivalBox.querySelector("input").focus();
}

async function start() {
  const session = await startChrome({ nav: "staffing", titleKey: "staffing.page_title",
    onLang: () => {
      renderForm();
      renderResult();
    } });
  if (!session) return;
  try {
    offices = (await getJson("/dashboard/offices.json")).offices;
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
  const { id, refused } = chooseOffice(offices, { allowAll: false });
  fillOfficeSelect(officeSelect, offices, { allowAll: false, selected: id });
  showInAddress({ office: id });
  if (refused) showError(t("office.refused"));
  dateInput.value = office().today;
  targetShare.value = "80";
  targetMinutes.value = "15";
  renderForm();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    compute();
  });
  officeSelect.addEventListener("change", () => {
    shown = null;
    document.getElementById("result").hidden = true;
    showInAddress({ office: officeSelect.value });
    dateInput.value = office().today;
    fillServices();
  });
  for (const radio of form.elements.source) radio.addEventListener("change", showSource);
  firstHour.addEventListener("change", arrivalInputs);
  lastHour.addEventListener("change", arrivalInputs);
  editForecast.addEventListener("click", editTheForecast);
  showSource();
  renderChrome();
  document.body.dataset.ready = "true";
}

start();
