// The booking's own page /b/{token} (the link in the SMS and on the done
// page): see the booking, cancel it (asked twice), and check in on the day
// with the code shown on the lobby display, which leads to the ticket page.
//
// The page remembers the booking on this phone (saved.js) so the lobby QR
// page /here/{office} can check it in with one press.

import { showError as showAlert, clearError as clearAlert } from "./alert.js";
import { api, enc } from "./api.js";
import {
  checkInBooking, checkinWindow, normaliseCode, ticketUrl, validCode,
} from "./checkin.js";
import {
  applyI18n, chooseLang, currentLang, dayOf, errorText, formatDay, formatTime, markLangSwitch,
  putName, rememberInUrl, renderLangSwitch, setLang, t,
} from "./i18n.js";
import { forget, rememberBooking } from "./saved.js";

const STATUS_KEYS = {
  "booked": "manage.status_booked",
  "checked_in": "manage.status_checked_in",
  "cancelled": "manage.status_cancelled",
  "no_show": "manage.status_no_show",
};

const $ = (id) => document.getElementById(id);
const token = decodeURIComponent(location.pathname.split("/")[2] || "");

const state = {
  booking: null,
  office: null,
  service: null,
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

function showError(error, options) {
  showAlert(state, error, options);
}

function clearError() {
  clearAlert(state);
}

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

function render() {
  const b = state.booking;
  if (!b) return;
  $("booking").hidden = false;
  $("m-status").textContent = t(STATUS_KEYS[b.status] || "manage.status_booked");
  $("m-status").dataset.status = b.status || "";
  const code = String(b.code || "");
  $("code").textContent = code.length === 6 ? code.slice(0, 3) + " " + code.slice(3) : code;
  $("code-sr").textContent = t("done.code_spoken", { code: code.split("").join(" ") });
  if (state.office) putName($("m-office"), state.office.names);
  if (state.service) putName($("m-service"), state.service.names);
  else $("m-service").textContent = b.service || "";
  if (b.slot_start) {
    $("m-date").textContent = formatDay(dayOf(new Date(b.slot_start), tz()), tz());
    $("m-time").textContent = t("time.range", {
      start: formatTime(b.slot_start, tz()),
      end: b.slot_end ? formatTime(b.slot_end, tz()) : "",
    });
  }
  const bring = state.service && state.service.bring;
  const hasBring = bring && Object.keys(bring).length > 0 && b.status === "booked";
  $("m-bring-box").hidden = !hasBring;
  if (hasBring) putName($("m-bring"), bring);
  $("checkin").hidden = b.status !== "booked";
  if (b.status === "booked" && b.slot_start) renderWindow(b);
  $("ticket-box").hidden = !(b.status === "checked_in" && b.ticket);
  if (b.ticket) $("ticket-link").href = ticketUrl(b.ticket);
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
  } catch {
    // Names are a nicety: the booking itself is shown either way.
  }
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
  try {
    const result = await api("POST", `/bookings/${enc(token)}/cancel`, {});
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
  const input = $("presence");
  const box = $("presence-error");
  if (!spec) {
    box.hidden = true;
    box.textContent = "";
    input.removeAttribute("aria-invalid");
    input.setAttribute("aria-describedby", "presence-hint");
    return;
  }
  box.textContent = spec.key ? t(spec.key) : errorText(spec.error);
  box.hidden = false;
  input.setAttribute("aria-invalid", "true");
  input.setAttribute("aria-describedby", "presence-error presence-hint");
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

async function chooseLanguage(code) {
  try {
    await setLang(code, { remember: true });
  } catch {
    showError({ code: "network" }); // the page stays in the language it has
    return;
  }
  rememberInUrl(code);
  applyI18n(document);
  markLangSwitch($("lang-list"));
  renderTitle();
  render();
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
  await setLang(chooseLang(state.booking && state.booking.lang));
  applyI18n(document);
  renderLangSwitch($("lang-list"), chooseLanguage);
  renderTitle();
  $("cancel").addEventListener("click", askCancel);
  $("cancel-no").addEventListener("click", keepBooking);
  $("cancel-yes").addEventListener("click", confirmCancel);
  $("checkin-form").addEventListener("submit", submitCheckIn);
  if (loadError) showError(loadError, { focus: false });
  else render();
  document.body.dataset.ready = "true";
}

start();
