// The booking's own page /b/{token} (the link in the SMS and on the done
// page): see the booking, change its date and time, cancel it (asked
// twice), and check in on the day with the code shown on the lobby display,
// which leads to the ticket page.
//
// Changing the date and time happens here, on this page, with the booking
// page's date and time steps (picker.js): the token is a capability, so it
// stays in this page's own address and goes only to the booking API; no
// other address, storage or page gets it. Like the booking page, each step
// moves the focus to its heading and pushes a history entry (the phone's
// back button goes back one step); the confirm step shows the old and the
// new time before anything is sent, and a refused change leaves the
// booking as it was.
//
// The page remembers the booking on this phone (saved.js) so the lobby QR
// page /here/{office} can check it in with one press.

import { pageAlert, showFieldError } from "/static/queue/common/alert.js";
import { act, api, enc } from "/static/queue/common/api.js";
import { forget, rememberBooking } from "/static/queue/common/saved.js";
import {
  checkInBooking, checkinWindow, normaliseCode, ticketUrl, validCode,
} from "./checkin.js";
import {
  currentLang, dayOf, errorText, formatDay, formatTime, putName, startLang, t,
} from "./i18n.js";
import {
  MAX_PAGES, anySlot, dayBookable, dayItem, fetchDays, fetchSlots, focusAfterMoreDays, slotItem,
} from "./picker.js";

const STATUS_KEYS = {
  "booked": "manage.status_booked",
  "checked_in": "manage.status_checked_in",
  "cancelled": "manage.status_cancelled",
  "no_show": "manage.status_no_show",
};

// The views of the page: the booking, and the steps of changing its time.
const VIEWS = ["booking", "date", "time", "confirm"];
const CHANGE_STEPS = ["date", "time", "confirm"]; // "step n of 3"
// What the confirmation SMS of the new time will do (the change's `sms`).
const CHANGE_SMS_KEYS = {
  "queued": "change.sms_queued",
  "sent": "change.sms_queued",
  "not_mobile": "change.sms_not_mobile",
  "disabled": "change.sms_none",
  "none": "change.sms_none",
  "sms_limit_phone": "change.sms_limit",
  "sms_limit_office": "change.sms_limit",
};
// Refusals of a change after which another time (or day) can be chosen;
// the booking itself stayed as it was.
const PICK_AGAIN = new Set([
  "slot_full", "same_slot", "slot_unavailable", "beyond_horizon", "office_closed",
]);
// Refusals that mean the booking can no longer be changed at all.
const NOT_CHANGEABLE = new Set(["booking_not_active", "unknown_booking"]);

const $ = (id) => document.getElementById(id);
const token = decodeURIComponent(location.pathname.split("/")[2] || "");

const state = {
  booking: null,
  office: null,
  service: null,
  today: null, // the office's date today, "YYYY-MM-DD", from the services answer
  view: "booking",
  // The change being made: {days, nextFrom, pages, date, slots, slot}; null
  // when none (never started, or done: back then shows the booking).
  change: null,
  changeSms: null, // catalog key of the SMS note after a change
  error: null,
  message: null, // {key, params} of the polite status message shown
  presenceError: null, // the code field's own error, re-rendered on a language change
  busy: false,
};

function tz() {
  return (state.office && state.office.timezone) || "Asia/Tokyo";
}

function officeIdOf(booking) {
  if (booking && booking.office) return booking.office;
  const dot = token.indexOf(".");
  return dot > 0 ? token.slice(0, dot) : "";
}

const { busy, showError, clearError } = pageAlert(state, errorText);

function setMessage(key, params = {}) {
  state.message = key ? { key, params } : null;
  $("status-message").textContent = key ? t(key, params) : "";
}

function renderTitle() {
  const el = document.createElement("span");
  if (state.office) putName(el, state.office.names);
  $("office-name").textContent = el.textContent;
  document.title = t("manage.page_title");
}

function serviceText() {
  const el = document.createElement("span");
  if (state.service) putName(el, state.service.names);
  else el.textContent = (state.booking && state.booking.service) || "";
  return el.textContent;
}

function dayText(iso) {
  return formatDay(dayOf(new Date(iso), tz()), tz());
}

function rangeText(start, end) {
  return t("time.range", { start: formatTime(start, tz()), end: end ? formatTime(end, tz()) : "" });
}

function render() {
  const b = state.booking;
  if (!b) return;
  $("booking").hidden = state.view !== "booking";
  $("m-status").textContent = t(STATUS_KEYS[b.status] || "manage.status_booked");
  $("m-status").dataset.status = b.status || "";
  const code = String(b.code || "");
  $("code").textContent = code.length === 6 ? code.slice(0, 3) + " " + code.slice(3) : code;
  $("code-sr").textContent = t("done.code_spoken", { code: code.split("").join(" ") });
  if (state.office) putName($("m-office"), state.office.names);
  if (state.service) putName($("m-service"), state.service.names);
  else $("m-service").textContent = b.service || "";
  if (b.slot_start) {
    $("m-date").textContent = dayText(b.slot_start);
    $("m-time").textContent = rangeText(b.slot_start, b.slot_end);
  }
  $("m-sms").hidden = !state.changeSms;
  $("m-sms").textContent = state.changeSms ? t(state.changeSms) : "";
  const bring = state.service && state.service.bring;
  const hasBring = bring && Object.keys(bring).length > 0 && b.status === "booked";
  $("m-bring-box").hidden = !hasBring;
  if (hasBring) putName($("m-bring"), bring);
  $("checkin").hidden = b.status !== "booked";
  if (b.status === "booked" && b.slot_start) renderWindow(b);
  $("ticket-box").hidden = !(b.status === "checked_in" && b.ticket);
  if (b.ticket) $("ticket-link").href = ticketUrl(b.ticket);
  $("change-box").hidden = b.status !== "booked";
  $("cancel-box").hidden = b.status !== "booked";
  const office = officeIdOf(b);
  $("book-again").href = office ? `/book/${enc(office)}?lang=${enc(currentLang())}` : "#";
  $("book-again").hidden = !office;
}

// When check-in is open, in the office's time zone (the server decides; this
// only tells the citizen when to come).
function renderWindow(b) {
  const { opens, closes } = checkinWindow(b);
  if (!Number.isFinite(opens) || !Number.isFinite(closes)) return;
  $("checkin-window").textContent = t("checkin.window", {
    date: formatDay(dayOf(new Date(opens), tz()), tz()),
    start: formatTime(new Date(opens).toISOString(), tz()),
    end: formatTime(new Date(closes).toISOString(), tz()),
  });
}

// Keeps this phone's list (for the lobby QR page) in step with the booking.
function rememberState(b) {
  if (b.status === "booked") rememberBooking({ ...b, office: officeIdOf(b) }, token);
  else forget({ kind: "booking", token });
}

async function load() {
  state.booking = await api("GET", `/bookings/${enc(token)}`);
  rememberState(state.booking);
  const office = officeIdOf(state.booking);
  if (!office) return;
  try {
    const [offices, services] = await Promise.all([
      api("GET", "/offices"),
      api("GET", `/offices/${enc(office)}/services`),
    ]);
    state.office = (offices.offices || []).find((o) => o.id === office) || null;
    state.service = (services.services || []).find((s) => s.id === state.booking.service) || null;
    if (services.today && services.today.date) state.today = services.today.date;
  } catch {
    // Names are a nicety: the booking itself is shown either way.
  }
}

// --- views: the booking, or a step of changing its date and time -----------

function ready(view) {
  const c = state.change;
  switch (view) {
    case "booking": return true;
    case "date": return Boolean(c && state.booking && state.booking.status === "booked");
    case "time": return Boolean(c && c.date && ready("date"));
    case "confirm": return Boolean(c && c.slot && ready("time"));
    default: return false;
  }
}

function currentText() {
  const b = state.booking;
  return t("change.current", { date: dayText(b.slot_start), time: rangeText(b.slot_start,
    b.slot_end) });
}

function renderDate() {
  const c = state.change;
  $("date-service").textContent = t("date.chosen_service", { service: serviceText() });
  $("date-current").textContent = currentText();
  $("date-list").replaceChildren(...c.days.map((day) => dayItem(day, tz(), pickDate)));
  $("date-none").hidden = c.days.some(dayBookable);
  $("date-more").hidden = c.pages >= MAX_PAGES || c.nextFrom === null;
}

function renderTime() {
  const c = state.change;
  const current = state.booking.slot_start;
  $("time-date").textContent = t("time.chosen_date", { date: formatDay(c.date, tz()) });
  $("time-current").textContent = currentText();
  $("time-list").replaceChildren(...c.slots.map((slot) => slotItem(slot, tz(), pickSlot,
    current)));
  $("time-none").hidden = anySlot(c.slots, current);
}

function renderConfirm() {
  const b = state.booking;
  const slot = state.change.slot;
  if (state.office) putName($("c-office"), state.office.names);
  else $("c-office").textContent = officeIdOf(b);
  if (state.service) putName($("c-service"), state.service.names);
  else $("c-service").textContent = b.service || "";
  $("c-old-date").textContent = dayText(b.slot_start);
  $("c-old-time").textContent = rangeText(b.slot_start, b.slot_end);
  $("c-new-date").textContent = formatDay(state.change.date, tz());
  $("c-new-time").textContent = rangeText(slot.start, slot.end);
}

const RENDER = { booking: render, date: renderDate, time: renderTime, confirm: renderConfirm };

function progressText(view) {
  const n = CHANGE_STEPS.indexOf(view) + 1;
  return n > 0 ? t("common.progress", { n, total: CHANGE_STEPS.length }) : "";
}

// Shows one view; `push` adds a history entry, `focus` moves the keyboard
// focus to the view's heading (a screen reader reads it).
function showView(view, { push = true, focus = true, keepError = false } = {}) {
  if (!ready(view)) view = "booking";
  if (!keepError) clearError();
  recover(false);
  state.view = view;
  for (const step of CHANGE_STEPS) $("step-" + step).hidden = step !== view;
  $("booking").hidden = view !== "booking" || !state.booking;
  RENDER[view]();
  $("progress").textContent = progressText(view);
  if (push) history.pushState({ view }, "", location.href);
  if (focus) $(view === "booking" ? "h-booking" : "h-" + view).focus();
}

// Offer another time or day after a refused change (instead of sending the
// same one again).
function recover(on) {
  $("confirm-recover").hidden = !on;
  $("change-submit").hidden = on;
}

window.addEventListener("popstate", (event) => {
  const asked = event.state && event.state.view;
  if (!asked || !VIEWS.includes(asked)) return;
  // A step of a change that is over (made, or the booking was used or
  // cancelled meanwhile) shows the booking, never the steps again.
  const view = ready(asked) ? asked : "booking";
  if (view !== asked) history.replaceState({ view }, "", location.href);
  showView(view, { push: false, focus: view !== "booking" });
  if (view === "booking") {
    // Back from the change: the focus returns to where the change began.
    $(!$("change-box").hidden ? "change" : "h-booking").focus();
  }
});

function back() {
  // The phone's back button and ours do the same thing.
  history.back();
}

async function loadDays() {
  const c = state.change;
  const from = c.nextFrom || state.today || dayOf(new Date(), tz());
  const { days, nextFrom } = await fetchDays(officeIdOf(state.booking), state.booking.service,
    from);
  c.days = c.days.concat(days);
  c.pages += 1;
  c.nextFrom = nextFrom;
  return days;
}

async function loadSlots() {
  const c = state.change;
  c.slots = await fetchSlots(officeIdOf(state.booking), state.booking.service, c.date);
}

function startChange() {
  busy(async () => {
    state.change = { days: [], nextFrom: null, pages: 0, date: null, slots: [], slot: null };
    state.changeSms = null;
    setMessage(null);
    await loadDays();
    showView("date");
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
    state.change.date = day;
    state.change.slot = null;
    await loadSlots();
    showView("time");
  });
}

function pickSlot(slot) {
  state.change.slot = slot;
  showView("confirm");
}

function otherTime() {
  busy(async () => {
    state.change.slot = null;
    await loadSlots();
    showView("time");
  });
}

function otherDay() {
  busy(async () => {
    Object.assign(state.change, { days: [], nextFrom: null, pages: 0, date: null, slot: null });
    await loadDays();
    showView("date");
  });
}

function submitChange() {
  busy(async () => {
    let changed;
    try {
      changed = await act("POST", `/bookings/${enc(token)}/change`,
        { slot: state.change.slot.start });
    } catch (error) {
      if (error.code === "slot_full") error.key = "change.error_slot_full";
      if (NOT_CHANGEABLE.has(error.code)) {
        // Used, cancelled or gone meanwhile: show what it is now.
        state.change = null;
        await refresh();
        history.replaceState({ view: "booking" }, "", location.href);
        showView("booking", { push: false, focus: false });
        showError(error);
        return;
      }
      showError(error);
      if (PICK_AGAIN.has(error.code)) recover(true);
      return;
    }
    state.booking = { ...state.booking, ...changed };
    rememberState(state.booking); // the lobby QR page sees the new time
    state.changeSms = CHANGE_SMS_KEYS[changed.sms]
      || (String(changed.sms || "").startsWith("sms_limit") ? "change.sms_limit"
        : "change.sms_none");
    // The change is made: back never shows its steps again, nor resends it.
    state.change = null;
    history.replaceState({ view: "booking" }, "", location.href);
    showView("booking", { push: false, focus: false });
    setMessage("change.done");
    $("h-booking").focus();
  });
}

function askCancel() {
  $("cancel-confirm").hidden = false;
  $("cancel").hidden = true;
  $("cancel-question").focus();
}

function keepBooking() {
  $("cancel-confirm").hidden = true;
  $("cancel").hidden = false;
  $("cancel").focus();
}

async function confirmCancel() {
  if (state.busy) return;
  state.busy = true;
  clearError();
  state.changeSms = null;
  try {
    const result = await act("POST", `/bookings/${enc(token)}/cancel`, {});
    state.booking = result && result.status ? { ...state.booking, ...result } : state.booking;
    if (!result || !result.status) state.booking.status = "cancelled";
    $("cancel-confirm").hidden = true;
    $("cancel").hidden = false;
    render();
    forget({ kind: "booking", token });
    setMessage("manage.cancelled");
    $("h-booking").focus();
  } catch (error) {
    showError(error);
  } finally {
    state.busy = false;
  }
}

// The code field's error: {key} (a catalog key) or {error} (from the API),
// or null to clear it.
function presenceError(spec) {
  state.presenceError = spec;
  showFieldError("presence", spec && (spec.key ? t(spec.key) : errorText(spec.error)));
}

async function submitCheckIn(event) {
  event.preventDefault();
  if (state.busy) return;
  clearError();
  const code = normaliseCode($("presence").value);
  if (!validCode(code)) {
    presenceError({ key: code ? "checkin.code_format" : "checkin.code_required" });
    $("presence").focus();
    return;
  }
  presenceError(null);
  state.busy = true;
  $("checkin-submit").disabled = true;
  try {
    const ticket = await checkInBooking(token, code, { booking: state.booking, timeZone: tz() });
    state.booking = { ...state.booking, status: "checked_in", ticket: ticket.id };
    render();
    setMessage("manage.checked_in", { number: ticket.number });
    // On to the ticket page, where the citizen is called (back returns here).
    location.assign(ticketUrl(ticket.id));
  } catch (error) {
    if (error.code === "presence_required" || error.code === "validation_failed") {
      presenceError(error.code === "validation_failed" ? { key: "checkin.code_format" }
        : { error });
      $("presence").select();
      $("presence").focus();
    } else {
      showError(error);
      if (error.code === "booking_not_active") await refresh();
    }
  } finally {
    state.busy = false;
    $("checkin-submit").disabled = false;
  }
}

// The booking changed elsewhere (checked in at the kiosk, cancelled by SMS).
async function refresh() {
  try {
    state.booking = await api("GET", `/bookings/${enc(token)}`);
    rememberState(state.booking);
    render();
  } catch {
    // the error already shown says enough
  }
}

function languageChanged() {
  renderTitle();
  if (state.booking) {
    RENDER[state.view]();
    $("progress").textContent = progressText(state.view);
  }
  if (state.message) setMessage(state.message.key, state.message.params);
  if (state.error) showError(state.error, { focus: false });
  if (state.presenceError) presenceError(state.presenceError);
}

async function start() {
  let loadError = null;
  try {
    await load();
  } catch (error) {
    loadError = error;
  }
  await startLang($("lang-list"), {
    hint: state.booking && state.booking.lang,
    onChange: languageChanged,
    onError: () => showError({ code: "network" }), // the page stays in the language it has
  });
  renderTitle();
  $("cancel").addEventListener("click", askCancel);
  $("cancel-no").addEventListener("click", keepBooking);
  $("cancel-yes").addEventListener("click", confirmCancel);
  $("checkin-form").addEventListener("submit", submitCheckIn);
  $("change").addEventListener("click", startChange);
  $("date-more").addEventListener("click", moreDays);
  $("change-submit").addEventListener("click", submitChange);
  $("pick-other-time").addEventListener("click", otherTime);
  $("pick-other-day").addEventListener("click", otherDay);
  for (const button of document.querySelectorAll("[data-back]")) {
    button.addEventListener("click", back);
  }
  // Shown again from the back-forward cache: the booking may have changed.
  window.addEventListener("pageshow", (event) => {
    if (event.persisted && state.booking && state.view === "booking") refresh();
  });
  history.replaceState({ view: "booking" }, "", location.href);
  if (loadError) showError(loadError, { focus: false });
  else render();
  document.body.dataset.ready = "true";
}

start();
