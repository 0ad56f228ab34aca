// The online booking page /book/{office}:
// service → date → time → phone (+ name) → confirm → done,
// or, for a service that takes walk-ins while the office is open today:
// service (→ date) → join today's queue (+ optional mobile number) → number.
//
// One page, one section per step. Each step change moves the keyboard focus
// to the step's heading (a screen reader reads it), updates the polite
// progress line and pushes a history entry, so the phone's back button goes
// back one step. Nothing here runs on a timer: nobody is hurried (but on
// the kiosk, where the page returns to the kiosk's start screen when left
// alone: kiosk.js).
//
// "Today" and whether the office is open now are the server's (the services
// answer), not the phone's clock, which may be wrong or in another zone.

import { pageAlert, setLoading, showFieldError } from "/static/queue/common/alert.js";
import { act, api, enc, newIdempotencyKey, UNKNOWN_OUTCOME } from "/static/queue/common/api.js";
import { rememberBooking, rememberTicket } from "/static/queue/common/saved.js";
import { waitWording } from "/static/queue/common/wait.js";
import { ticketUrl } from "./checkin.js";
import {
  currentLang, dayOf, errorText, formatDay, formatTime, putName, startLang, t,
} from "./i18n.js";
import { KIOSK, kioskKey, relabelKiosk, startKioskMode } from "./kiosk.js";
import {
  MAX_PAGES, anySlot, choiceButton, dayBookable, dayItem, fetchDays, fetchSlots,
  focusAfterMoreDays, slotItem,
} from "./picker.js";

const STEPS = ["service", "date", "time", "phone", "confirm", "done", "queue", "queued"];
const NUMBERED = 5; // "step n of 5" for the booking steps; the others are not counted
const SMS_KEYS = {
  "queued": "done.sms_queued",
  "sent": "done.sms_queued",
  "not_mobile": "done.sms_not_mobile",
  "disabled": "done.sms_disabled",
};
// What the "your turn is near" SMS of a queue ticket will do.
const QUEUE_SMS_KEYS = {
  "on": "queued.sms_queued",
  "queued": "queued.sms_queued",
  "sent": "queued.sms_queued",
  "not_mobile": "queued.sms_not_mobile",
  "disabled": "queued.sms_disabled",
  "sms_limit_phone": "queued.sms_limit",
  "sms_limit_office": "queued.sms_limit",
};
// Joining the queue fails differently from booking: say it in its own words.
const QUEUE_ERROR_KEYS = {
  "rate_limited": "queue.error_rate_limited",
  "office_closed": "queue.error_closed",
  "queue_closed": "queue.error_closed",
};
const PHONE_ERRORS = new Set(["invalid_phone", "not_mobile"]);

const $ = (id) => document.getElementById(id);
const officeId = decodeURIComponent(location.pathname.split("/")[2] || "");

const state = {
  step: null,
  office: null, // {id, names, timezone}
  services: [], // bookable
  walkIns: [], // take walk-ins but cannot be booked: today's queue only
  service: null,
  days: [],
  nextFrom: null,
  pages: 0,
  date: null,
  slots: [],
  slot: null,
  phone: "",
  name: "",
  booking: null,
  queueService: null,
  queuePhone: "",
  ticket: null,
  today: null, // the office's date today, "YYYY-MM-DD", from the services answer
  openNow: false, // the office is open now: today's queue can be joined
  error: null, // the error shown, re-rendered on a language change
  fieldErrors: {}, // input id -> its error, re-rendered on a language change
  busy: false,
};

function tz() {
  return (state.office && state.office.timezone) || "Asia/Tokyo";
}

// Today's queue can be joined while the office is open (the server says so
// when the page loads and when a service is chosen; it refuses otherwise).
// Not on the kiosk: its own buttons give today's numbers, on paper.
function queueOpen() {
  return state.openNow && !KIOSK;
}

function waitText(service) {
  const waiting = Number(service.waiting) || 0;
  const minutes = service.estimated_wait_minutes;
  if (waiting === 0) return t("queue.wait_none");
  const said = waitWording(waiting, minutes);
  if (said.kind !== "minutes") return t("queue.wait_unknown", { n: waiting });
  return t("queue.wait_now", { n: waiting, minutes: said.minutes });
}

// --- messages -------------------------------------------------------------

const alerts = pageAlert(state, errorText);
const { busy, showError } = alerts;

function clearError() {
  alerts.clearError();
  $("confirm-recover").hidden = true;
}

// --- rendering --------------------------------------------------------------

function serviceChoice(service) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "choice";
  const main = document.createElement("span");
  main.className = "choice-main";
  putName(main, service.names);
  button.append(main);
  if (service.konbini) {
    const sub = document.createElement("span");
    sub.className = "choice-sub";
    sub.textContent = t("service.konbini");
    button.append(sub);
  }
  button.dataset.service = service.id;
  button.addEventListener("click", () => pickService(service));
  return button;
}

function queueChoice(service) {
  const button = choiceButton("", waitText(service), () => joinQueueFor(service));
  putName(button.querySelector(".choice-main"), service.names);
  button.dataset.service = service.id;
  return button;
}

function renderService() {
  const list = $("service-list");
  list.replaceChildren();
  for (const service of state.services) {
    const item = document.createElement("li");
    item.append(serviceChoice(service));
    list.append(item);
  }
  $("service-none").hidden = state.services.length > 0;
  const walkIns = queueOpen() ? state.walkIns : [];
  $("queue-offer").hidden = walkIns.length === 0;
  $("queue-service-list").replaceChildren(...walkIns.map((service) => {
    const item = document.createElement("li");
    item.append(queueChoice(service));
    return item;
  }));
}

function renderDate() {
  $("date-service").textContent = t("date.chosen_service", { service: nameText(state.service) });
  const instead = Boolean(state.service.walk_in) && queueOpen();
  $("queue-instead-box").hidden = !instead;
  if (instead) $("queue-instead-text").textContent = t("queue.instead_help", {
    wait: waitText(state.service) });
  const list = $("date-list");
  list.replaceChildren(...state.days.map((day) => dayItem(day, tz(), pickDate)));
  $("date-none").hidden = state.days.some(dayBookable);
  $("date-more").hidden = state.pages >= MAX_PAGES || state.nextFrom === null;
}

function renderTime() {
  $("time-date").textContent = t("time.chosen_date", { date: formatDay(state.date, tz()) });
  $("time-list").replaceChildren(...state.slots.map((slot) => slotItem(slot, tz(), pickSlot)));
  $("time-none").hidden = anySlot(state.slots);
}

function renderPhone() {
  $("phone").value = state.phone;
  $("name").value = state.name;
}

function renderQueue() {
  const service = state.queueService;
  $("queue-service").textContent = t("date.chosen_service", { service: nameText(service) });
  $("queue-wait").textContent = waitText(service);
  $("queue-phone").value = state.queuePhone;
}

// come_back_by: an ISO 8601 time (or just "HH:MM"); none, or not after the
// ticket was issued (the server's "now"; nobody is waiting), means come now.
function comeBackText(ticket) {
  const value = ticket.come_back_by;
  if (typeof value === "string" && /^\d{1,2}:\d{2}$/.test(value)) return value;
  const back = Date.parse(value || "");
  const issued = Date.parse(ticket.issued_at || "");
  if (!Number.isFinite(back) || back - issued < 60_000) return t("queued.come_now");
  return formatTime(value, tz());
}

function renderQueued() {
  const ticket = state.ticket;
  $("q-number").textContent = ticket.number || "";
  fillName($("q-office"), state.office.names);
  fillName($("q-service"), state.queueService.names);
  $("q-back").textContent = comeBackText(ticket);
  let smsKey = "queued.no_sms";
  if (state.queuePhone) {
    smsKey = QUEUE_SMS_KEYS[ticket.sms]
      || (String(ticket.sms || "").startsWith("sms_limit") ? "queued.sms_limit"
        : "queued.sms_disabled");
  }
  $("q-sms").textContent = t(smsKey, { phone: state.queuePhone });
  $("ticket-link").href = ticketUrl(ticket.id);
}

function nameText(names) {
  const el = document.createElement("span");
  putName(el, names && names.names ? names.names : names);
  return el.textContent;
}

function fillName(el, names) {
  putName(el, names);
}

function renderBring(box, textEl, service) {
  const bring = service && service.bring;
  const has = bring && Object.keys(bring).length > 0;
  box.hidden = !has;
  if (has) fillName(textEl, bring);
}

function renderConfirm() {
  fillName($("c-office"), state.office.names);
  fillName($("c-service"), state.service.names);
  $("c-date").textContent = formatDay(state.date, tz());
  $("c-time").textContent = t("time.range", {
    start: formatTime(state.slot.start, tz()), end: formatTime(state.slot.end, tz()),
  });
  $("c-phone").textContent = state.phone;
  $("c-name").textContent = state.name || t("confirm.no_name");
  renderBring($("c-bring-box"), $("c-bring"), state.service);
}

function renderDone() {
  const b = state.booking;
  const code = String(b.code || "");
  $("code").textContent = code.length === 6 ? code.slice(0, 3) + " " + code.slice(3) : code;
  $("code-sr").textContent = t("done.code_spoken", { code: code.split("").join(" ") });
  fillName($("d-office"), state.office.names);
  fillName($("d-service"), state.service.names);
  const start = b.slot_start || state.slot.start;
  const end = b.slot_end || state.slot.end;
  $("d-date").textContent = formatDay(dayOf(new Date(start), tz()), tz());
  $("d-time").textContent = t("time.range", {
    start: formatTime(start, tz()), end: formatTime(end, tz()),
  });
  // Older servers say only whether the number can get SMS.
  const smsKey = SMS_KEYS[b.sms]
    || (b.sms_capable === false ? "done.sms_not_mobile" : "done.keep_code");
  $("d-sms").textContent = t(kioskKey(smsKey), { phone: state.phone });
  renderBring($("d-bring-box"), $("d-bring"), state.service);
  const link = $("manage-link");
  const url = new URL(b.manage_url || "/b/" + b.token, location.origin);
  url.searchParams.set("lang", currentLang());
  link.href = url.pathname + url.search;
}

const RENDER = {
  service: renderService, date: renderDate, time: renderTime,
  phone: renderPhone, confirm: renderConfirm, done: renderDone,
  queue: renderQueue, queued: renderQueued,
};

function progressText(step) {
  const n = STEPS.indexOf(step) + 1;
  return n <= NUMBERED ? t("common.progress", { n, total: NUMBERED }) : "";
}

function renderTitle() {
  const office = state.office ? nameText(state.office.names) : "";
  $("office-name").textContent = office;
  document.title = office ? t("book.page_title_office", { office }) : t("book.page_title");
}

// --- steps ------------------------------------------------------------------

function ready(step) {
  switch (step) {
    case "service": return true;
    case "date": return Boolean(state.service);
    case "time": return Boolean(state.service && state.date);
    case "phone": return Boolean(state.slot);
    case "confirm": return Boolean(state.slot && state.phone);
    case "done": return Boolean(state.booking);
    case "queue": return Boolean(state.queueService);
    case "queued": return Boolean(state.queueService && state.ticket);
    default: return false;
  }
}

function showStep(step, { push = true, focus = true, keepError = false } = {}) {
  if (!ready(step)) step = "service";
  if (!keepError) clearError();
  state.step = step;
  for (const name of STEPS) $("step-" + name).hidden = name !== step;
  RENDER[step]();
  $("progress").textContent = progressText(step);
  if (push) history.pushState({ step }, "", location.href);
  if (focus) $("h-" + step).focus();
}

function back() {
  // The phone's back button and ours do the same thing.
  history.back();
}

window.addEventListener("popstate", (event) => {
  const step = event.state && event.state.step;
  if (!step || !STEPS.includes(step)) return;
  if ((state.step === "done" || state.step === "queued") && step !== state.step) {
    // The booking is made (or the number taken): going back starts afresh,
    // never sends it again.
    resetBooking();
    history.replaceState({ step: "service" }, "", location.href);
    showStep("service", { push: false });
    return;
  }
  showStep(step, { push: false });
});

function resetBooking() {
  Object.assign(state, {
    service: null, days: [], nextFrom: null, pages: 0, date: null, slots: [], slot: null,
    booking: null, queueService: null, ticket: null,
  });
}

async function loadDays() {
  const from = state.nextFrom || state.today || dayOf(new Date(), tz());
  const { days, nextFrom } = await fetchDays(officeId, state.service.id, from);
  state.days = state.days.concat(days);
  state.pages += 1;
  state.nextFrom = nextFrom;
  return days;
}

async function loadSlots() {
  state.slots = await fetchSlots(officeId, state.service.id, state.date);
}

function pickService(service) {
  busy(async () => {
    Object.assign(state, { service, days: [], nextFrom: null, pages: 0, date: null, slot: null });
    await loadDays();
    showStep("date");
  });
}

function moreDays() {
  busy(async () => {
    const added = await loadDays();
    renderDate();
    focusAfterMoreDays(added);
  });
}

function pickDate(day) {
  busy(async () => {
    state.date = day;
    state.slot = null;
    await loadSlots();
    showStep("time");
  });
}

function pickSlot(slot) {
  state.slot = slot;
  showStep("phone");
}

// Full-width digits and the many dashes a Japanese keyboard types become
// plain ones; the server decides what is a valid number.
function normalisePhone(raw) {
  return raw
    .replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/[‐－ー−―–—]/g, "-")
    .replace(/[＋]/g, "+")
    .replace(/\s+/g, "")
    .trim();
}

// A field's own error (the field `id`, its hint `id-hint`, its error box
// `id-error`): {key} (a catalog key) or {error} (from the API), or null to
// clear it. Kept so a language change can re-render it.
function fieldError(id, spec) {
  state.fieldErrors[id] = spec;
  showFieldError(id, spec && (spec.key ? t(spec.key) : errorText(spec.error)));
}

function submitPhone(event) {
  event.preventDefault();
  const phone = normalisePhone($("phone").value);
  state.name = $("name").value.trim();
  if (!/[0-9]/.test(phone)) {
    fieldError("phone", { key: phone ? "error.invalid_phone" : "phone.required" });
    $("phone").focus();
    return;
  }
  fieldError("phone", null);
  state.phone = phone;
  showStep("confirm");
}

// The booking (or queue join) whose outcome is not known yet ({body, key}):
// pressing the button again for the same details resends it with the same
// Idempotency-Key, so it is done once whatever happened to the first answer.
let unsure = null;

function actionKey(body) {
  const text = JSON.stringify(body);
  if (!unsure || unsure.body !== text) unsure = { body: text, key: newIdempotencyKey() };
  return unsure.key;
}

function submitBooking() {
  busy(async () => {
    const body = { service: state.service.id, slot: state.slot.start, phone: state.phone,
      lang: currentLang() };
    if (state.name) body.name = state.name;
    try {
      state.booking = await act("POST", `/offices/${enc(officeId)}/bookings`, body,
        { idempotencyKey: actionKey(body) });
      unsure = null;
    } catch (error) {
      if (!UNKNOWN_OUTCOME.has(error.code)) unsure = null;
      if (error.code === "invalid_phone") {
        // Back to the number, with the reason next to the field.
        showStep("phone");
        fieldError("phone", { error });
        $("phone").focus();
        return;
      }
      showError(error);
      if (error.code === "slot_full" || error.code === "slot_unavailable") {
        $("confirm-recover").hidden = false;
      }
      return;
    }
    rememberBooking({ ...state.booking, office: state.booking.office || officeId },
      state.booking.token);
    // The done page replaces the confirm step: back never resends.
    history.replaceState({ step: "done" }, "", location.href);
    showStep("done", { push: false });
  });
}

function otherTime() {
  busy(async () => {
    state.slot = null;
    await loadSlots();
    showStep("time");
  });
}

function bookAnother() {
  resetBooking();
  showStep("service");
}

// The services' waiting counts and estimates, fresh for the queue step.
async function refreshServices() {
  const res = await api("GET", `/offices/${enc(officeId)}/services`);
  takeServices(res);
  const id = state.queueService && state.queueService.id;
  state.queueService = (res.services || []).find((s) => s.id === id) || state.queueService;
}

function takeServices(res) {
  const all = res.services || [];
  state.services = all.filter((s) => s.bookable);
  state.walkIns = all.filter((s) => s.walk_in && !s.bookable);
  state.openNow = res.open_now === true;
  if (res.today && res.today.date) state.today = res.today.date;
}

function joinQueueFor(service) {
  busy(async () => {
    state.queueService = service;
    state.ticket = null;
    fieldError("queue-phone", null);
    await refreshServices();
    if (!queueOpen()) {
      // Closed since the page was loaded: say so where the offer was.
      RENDER[state.step]();
      showError({ code: "office_closed", key: "queue.error_closed" });
      return;
    }
    showStep("queue");
  });
}

function submitQueue(event) {
  event.preventDefault();
  const phone = normalisePhone($("queue-phone").value);
  if (phone && !/[0-9]/.test(phone)) {
    fieldError("queue-phone", { key: "error.invalid_phone" });
    $("queue-phone").focus();
    return;
  }
  fieldError("queue-phone", null);
  state.queuePhone = phone;
  busy(async () => {
    const body = { service: state.queueService.id, lang: currentLang() };
    if (phone) body.phone = phone;
    try {
      state.ticket = await act("POST", `/offices/${enc(officeId)}/queue`, body,
        { idempotencyKey: actionKey(body) });
      unsure = null;
    } catch (error) {
      if (!UNKNOWN_OUTCOME.has(error.code)) unsure = null;
      if (PHONE_ERRORS.has(error.code)) {
        fieldError("queue-phone", { error });
        $("queue-phone").focus();
        return;
      }
      if (QUEUE_ERROR_KEYS[error.code]) error.key = QUEUE_ERROR_KEYS[error.code];
      showError(error);
      return;
    }
    rememberTicket({ ...state.ticket, office: state.ticket.office || officeId });
    // The number replaces the queue step: back never takes a second one.
    history.replaceState({ step: "queued" }, "", location.href);
    showStep("queued", { push: false });
  });
}

// --- language ---------------------------------------------------------------

function languageChanged() {
  renderTitle();
  relabelKiosk();
  if (state.step) {
    RENDER[state.step]();
    $("progress").textContent = progressText(state.step);
  }
  if (state.error) showError(state.error, { focus: false });
  for (const [id, spec] of Object.entries(state.fieldErrors)) if (spec) fieldError(id, spec);
}

// --- start ------------------------------------------------------------------

async function start() {
  startKioskMode(officeId);
  await startLang($("lang-list"), {
    onChange: languageChanged,
    onError: () => showError({ code: "network" }), // the page stays in the language it has
  });
  renderTitle();
  for (const button of document.querySelectorAll("[data-back]")) {
    button.addEventListener("click", back);
  }
  $("date-more").addEventListener("click", moreDays);
  $("phone-form").addEventListener("submit", submitPhone);
  $("submit").addEventListener("click", submitBooking);
  $("pick-other-time").addEventListener("click", otherTime);
  $("book-another").addEventListener("click", bookAnother);
  $("queue-instead").addEventListener("click", () => joinQueueFor(state.service));
  $("queue-form").addEventListener("submit", submitQueue);

  setLoading(true);
  try {
    const [offices, services] = await Promise.all([
      api("GET", "/offices"),
      api("GET", `/offices/${enc(officeId)}/services`),
    ]);
    state.office = (offices.offices || []).find((o) => o.id === officeId)
      || { id: officeId, names: {}, timezone: "Asia/Tokyo" };
    takeServices(services);
  } catch (error) {
    setLoading(false);
    showError(error, { focus: false });
    return;
  }
  setLoading(false);
  renderTitle();
  history.replaceState({ step: "service" }, "", location.href);
  // The first step appears without moving focus: the page has just loaded.
  showStep("service", { push: false, focus: false });
  document.body.dataset.ready = "true";
}

start();
