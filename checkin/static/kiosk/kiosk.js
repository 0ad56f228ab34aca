// The ticket kiosk (発券機): walk-in tickets, booking check-in by phone
// number, code or scanned booking link, the ticket on screen while the kiosk
// agent prints it, and the way back to the start screen for the next citizen.
//
// Personal data (the phone number typed, the ticket id in the smartphone
// page's QR) lives only in `state` and the screen until the visit ends; goHome()
// wipes both. Nothing of a citizen is ever written to storage: localStorage
// holds the kiosk's own token and id only.
//
// After a ticket is issued (walk-in or booking) the kiosk offers the My
// Number card step (書かない, "--- the My Number card" below) while the
// ticket prints: optional, skipped with one button, and whatever happens in
// it the ticket stands. The PIN lives in the PIN keypad only until it is
// handed to card.js, which seals it for the kiosk agent; the card's four
// attributes live in one local variable until they are sent to the clerk
// (POST /tickets/{id}/prefill). Neither is ever shown, stored or logged.

import { ApiError, actWith, apiWith, enc } from "/static/queue/common/api.js";
import { OfficeEvents } from "/static/queue/common/events.js";
import { IdleWarning } from "/static/queue/common/idle.js";
import { waitWording } from "/static/queue/common/wait.js";
import { readCard, readerReady } from "./card.js";
import {
  applyI18n, currentLang, formatDate, formatTime, has, loadAll, markLangSwitch, pickName,
  putName, renderLangSwitch, setLang, t,
} from "./i18n.js";
import { groupPhone, Keypad } from "./keypad.js";
import { bookingToken, WedgeScanner } from "./scanner.js";

// A request that hangs (a half-dead network) must not leave the kiosk on
// "please wait" for ever: after this long it fails as "network".
const api = apiWith({ timeoutMs: 15_000 });
// A ticket or a check-in: one Idempotency-Key per touch, sent again with the
// same key while the outcome is unknown, so a retry never prints a second
// ticket (common/api.js act()).
const act = actWith({ timeoutMs: 15_000, tries: 3 });
const IDLE_MS = 60_000;
const IDLE_WARN_MS = 10_000;
const TICKET_SHOWN_MS = 15_000; // after a good print: long enough to take the paper
const PRINT_TIMEOUT_MS = 20_000; // no answer from the printer by then: treat as failed
const REFRESH_MS = 60_000;
const RETRY_MS = 10_000; // start-up without an answer from the server
const CONFIG_SETTLE_MS = 3_000; // other processes' configuration cache (2 s) has expired
const EVENT_REFRESH_MS = 5_000; // at most one services reload per this, on queue events
const COME_BACK_MINUTES = 60; // the default of the office's ticket.come_back_minutes
const PIN_LENGTH = 4; // the card's 券面事項入力補助 PIN
const CARD_DONE_MS = 10_000; // "the clerk will see it", then on to the ticket
const TOKEN_RE = /^[A-Za-z0-9._~-]{8,300}$/;
// Printer states in which nothing will print. paper_near_end still prints,
// and unknown may: for those the print result (or its time-out) decides.
const BROKEN_PRINTER = new Set(["paper_end", "cover_open", "offline", "error", "disconnected"]);

const $ = (id) => document.getElementById(id);
const office = decodeURIComponent(location.pathname.split("/")[2] || "");

const state = {
  token: null,
  kioskId: null,
  officeNames: null,
  timezone: "Asia/Tokyo",
  services: null, // the last answer of GET /offices/{office}/services
  screen: "loading",
  busy: false,
  error: null, // { key, params } or an ApiError: re-rendered on a language change
  fatal: null, // the catalog key of the fatal screen's text
  otherOffices: null, // office id -> names (a booking link of another office)
  entry: { step: "phone", phone: "" },
  ticket: null,
  print: "none", // printing | printed | failed
  printerState: null, // this kiosk's printer, from printer.status events
  recentPrints: [], // print.done events not yet matched (the answer may come later)
  ticketDeadline: 0,
  ticketTimer: null,
  countdownTimer: null,
  printTimer: null,
  lastEventRefresh: 0,
  eventRefreshTimer: null,
  // The card step of the ticket on screen: { failure, busy, doneTimer }, or
  // null outside it. A new object per step: an answer that comes back after
  // the step ended (state.card is another object, or null) is dropped.
  card: null,
};

// --- the kiosk's token (enrolment) ------------------------------------------

function storageKey(what) {
  return `madoguchi.kiosk.${office}.${what}`;
}

function readStored(what) {
  try {
    return localStorage.getItem(storageKey(what));
  } catch {
    return null;
  }
}

function store(what, value) {
  try {
    if (value === null) localStorage.removeItem(storageKey(what));
    else localStorage.setItem(storageKey(what), value);
  } catch {
    // Storage disabled: the value lasts for this page load only.
  }
}

// Takes ?token= out of the address (it must not stay on screen, in the
// history or in a screenshot) and keeps it; returns the kiosk's token.
function enrol() {
  const url = new URL(location.href);
  const given = url.searchParams.get("token");
  if (given === null) return readStored("token");
  url.searchParams.delete("token");
  history.replaceState(null, "", url.pathname + url.search + url.hash);
  if (!TOKEN_RE.test(given)) return readStored("token");
  if (given !== readStored("token")) store("id", null); // another kiosk identity
  store("token", given);
  return given;
}

// --- screens -----------------------------------------------------------------

function show(name, { focus = true, keepError = false } = {}) {
  state.screen = name;
  document.body.dataset.screen = name;
  for (const section of document.querySelectorAll("main > section.screen")) {
    section.hidden = section.dataset.screen !== name;
  }
  $("card-ticket").hidden = !name.startsWith("card-");
  if (!keepError) clearError();
  updateIdle();
  // Start-up is over once a first screen shows (tests wait for this).
  document.body.dataset.ready = "true";
  if (focus) {
    const heading = document.querySelector(`#screen-${name} h1`);
    if (heading) heading.focus({ preventScroll: true });
  }
}

// The inactivity timer runs whenever the screen is not the untouched start
// screen in Japanese. The ticket screen has its own timing.
function updateIdle() {
  const pristine = (state.screen === "home" || state.screen === "closed")
    && currentLang() === "ja" && !state.error;
  // A card read has its own time-out (card.js).
  const own = ["ticket", "working", "card-reading", "loading", "setup", "fatal"]
    .includes(state.screen);
  if (pristine || own) idle.disarm();
  else idle.arm();
}

function isOpen() {
  return Boolean(state.services && state.services.open_now);
}

// Back to the start for the next citizen: Japanese, nothing of the last
// visit left in memory or on screen.
async function goHome() {
  clearTicket();
  keypad.clear();
  state.entry = { step: "phone", phone: "" };
  state.busy = false;
  clearError();
  if (currentLang() !== "ja") await changeLang("ja");
  renderHome();
  renderClosed();
  show(isOpen() ? "home" : "closed");
}

function clearTicket() {
  endCard();
  clearTimeout(state.ticketTimer);
  clearTimeout(state.printTimer);
  clearInterval(state.countdownTimer);
  state.ticketTimer = state.printTimer = state.countdownTimer = null;
  state.ticket = null;
  state.print = "none";
  state.recentPrints = [];
  document.body.dataset.print = "none";
  for (const id of ["ticket-number", "ticket-service", "ticket-booking", "ticket-ahead",
    "ticket-wait", "ticket-come-back-note", "ticket-konbini", "print-status",
    "ticket-countdown", "card-ticket-number", "card-ticket-print"]) {
    $(id).textContent = "";
  }
  // The QR holds the ticket id, the smartphone page's capability.
  $("ticket-qr").replaceChildren();
  $("ticket-qr").hidden = true;
}

// --- errors ------------------------------------------------------------------

// API error codes the kiosk explains; others get the general message.
const ERROR_KEYS = {
  "no_booking": "error.no_booking",
  "too_late": "error.too_late",
  "invalid_phone": "error.invalid_phone",
  "booking_not_active": "error.booking_not_active",
  "unknown_booking": "error.unknown_booking",
  "presence_required": "error.scan_not_accepted",
  "walk_in_not_allowed": "error.walk_in_not_allowed",
  "unknown_service": "error.walk_in_not_allowed",
  "validation_failed": "error.validation_failed",
  "unauthorized": "error.not_enrolled",
  "forbidden": "error.not_enrolled",
  "rate_limited": "error.busy",
  "unavailable": "error.network",
  "outcome_unknown": "error.outcome_unknown",
  "network": "error.network",
};

function errorText(error) {
  if (!error) return "";
  if (error.key) return t(error.key, error.params || {});
  if (error.code === "too_early" && Number.isFinite(error.details.opens_ms)) {
    return t("error.too_early_at", { time: formatTime(error.details.opens_ms, state.timezone) });
  }
  if (error.code === "too_early") return t("error.too_early");
  const key = ERROR_KEYS[error.code];
  return key && has(key) ? t(key) : t("error.general");
}

function showError(error) {
  state.error = error;
  const box = $("alert");
  box.textContent = errorText(error);
  box.hidden = false;
  updateIdle();
}

function clearError() {
  state.error = null;
  $("alert").textContent = "";
  $("alert").hidden = true;
}

// --- office, services, hours ---------------------------------------------------

async function loadOffice() {
  const data = await api("GET", "/offices");
  const mine = (data.offices || []).find((o) => o.id === office);
  if (!mine) throw new ApiError("unknown_office", "", 404);
  state.officeNames = mine.names;
  state.timezone = mine.timezone || "Asia/Tokyo";
  state.otherOffices = new Map((data.offices || []).map((o) => [o.id, o.names]));
  renderOffice();
}

async function refreshServices() {
  state.services = await api("GET", `/offices/${enc(office)}/services`);
  if (state.screen === "home" || state.screen === "closed") {
    renderHome();
    renderClosed();
    // Opening and closing switch the start screen only between visits:
    // someone in the middle of a visit finishes it.
    if (state.screen !== (isOpen() ? "home" : "closed")) {
      show(isOpen() ? "home" : "closed", { focus: false, keepError: true });
    }
  }
}

async function refreshQuietly() {
  try {
    await refreshServices();
  } catch {
    // The last answer stays on screen; the next refresh tries again.
  }
}

// Queue events move the waiting counts: reload, but at most once per
// EVENT_REFRESH_MS however busy the office is.
function refreshSoon() {
  if (state.eventRefreshTimer !== null) return;
  const wait = Math.max(0, state.lastEventRefresh + EVENT_REFRESH_MS - Date.now());
  state.eventRefreshTimer = setTimeout(() => {
    state.eventRefreshTimer = null;
    state.lastEventRefresh = Date.now();
    refreshQuietly();
  }, wait);
}

function walkInServices() {
  return (state.services ? state.services.services : []).filter((s) => s.walk_in);
}

function renderOffice() {
  const el = $("office-name");
  if (state.officeNames) putName(el, state.officeNames);
  document.title = el.textContent ? t("page.title_office", { office: el.textContent })
    : t("page.title");
  renderClock();
}

function renderClock() {
  const now = Date.now();
  $("clock-time").textContent = formatTime(now, state.timezone);
  $("clock-time").dateTime = new Date(now).toISOString();
  $("clock-date").textContent = formatDate(now, state.timezone);
}

// "3 waiting · about 15 min": each part kept whole on one line.
function renderWait(el, service) {
  const parts = [t("home.waiting", { n: service.waiting })];
  const said = waitWording(service.waiting, service.estimated_wait_minutes);
  if (said.kind === "soon") parts.push(t("home.wait_soon"));
  if (said.kind === "minutes") parts.push(t("home.wait_minutes", { minutes: said.minutes }));
  el.replaceChildren();
  parts.forEach((text, i) => {
    if (i > 0) el.append(t("home.separator"));
    const part = document.createElement("span");
    part.className = "nowrap";
    part.textContent = text;
    el.append(part);
  });
}

function renderHome() {
  const list = $("service-list");
  const services = walkInServices();
  const items = services.map((service) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "service";
    button.dataset.service = service.id;
    button.disabled = state.busy;
    const letter = document.createElement("span");
    letter.className = "service-letter";
    letter.setAttribute("aria-hidden", "true");
    letter.textContent = service.letter;
    const name = document.createElement("span");
    name.className = "service-name";
    putName(name, service.names);
    const wait = document.createElement("span");
    wait.className = "service-wait";
    renderWait(wait, service);
    button.append(letter, name, wait);
    if (service.konbini) {
      const note = document.createElement("span");
      note.className = "service-konbini";
      note.textContent = t("home.konbini");
      button.append(note);
    }
    button.addEventListener("click", () => issue(service.id));
    item.append(button);
    return item;
  });
  list.replaceChildren(...items);
  $("service-none").hidden = items.length > 0 || !state.services;
  const otherDay = `/book/${enc(office)}?lang=${enc(currentLang())}&kiosk=1`;
  $("book-other").href = otherDay;
  $("closed-book-other").href = otherDay;
  fitHome();
}

// Every service button is on screen without scrolling (a kiosk shows no
// scroll bar, and a button below the fold is a service nobody finds): the
// start screen gets denser, step by step, until it fits: at each text size
// (down to 60 %) one column, then two, then three (kiosk.css: landscape
// has at least two, portrait at most two).
const HOME_FITS = [1, 0.9, 0.8, 0.72, 0.66, 0.6]
  .flatMap((scale) => [["1", scale], ["2", scale], ["3", scale]]);

function fitHome() {
  const home = $("screen-home");
  if (home.hidden) return;
  const fits = () => document.scrollingElement.scrollHeight <= window.innerHeight + 1;
  for (const [cols, scale] of HOME_FITS) {
    home.dataset.cols = cols;
    home.style.setProperty("--fit", String(scale));
    if (fits()) break;
  }
}

const CLOSED_REASON_KEYS = {
  "weekend": "closed.reason_weekend",
  "holiday": "closed.reason_holiday",
  "year_end": "closed.reason_year_end",
  "closed_day": "closed.reason_closed_day",
};

function renderClosed() {
  const today = state.services ? state.services.today : null;
  const hours = $("closed-hours");
  const booking = $("closed-booking");
  if (!today || !today.open) {
    $("h-closed").textContent = t("closed.title_today");
    const key = today ? CLOSED_REASON_KEYS[today.closed_reason] : null;
    $("closed-reason").textContent = key ? t(key) : t("closed.reason_closed_day");
    hours.hidden = true;
    booking.hidden = true;
    return;
  }
  const opens = formatTime(today.opens, state.timezone);
  const closes = formatTime(today.closes, state.timezone);
  const before = Date.now() < Date.parse(today.opens);
  $("h-closed").textContent = before ? t("closed.title_not_yet") : t("closed.title_ended");
  $("closed-reason").textContent = before ? t("closed.not_yet", { time: opens })
    : t("closed.ended");
  hours.textContent = t("closed.hours_today", { opens, closes });
  hours.hidden = false;
  // Bookings open for check-in a while before the slot: an early booking's
  // holder may check in before the doors open (the server decides).
  booking.hidden = !before;
}

// --- walk-in tickets -----------------------------------------------------------

async function issue(serviceId) {
  if (state.busy) return;
  state.busy = true;
  show("working", { focus: false });
  try {
    const ticket = await act("POST", `/offices/${enc(office)}/tickets`,
      { service: serviceId, lang: currentLang() }, { token: state.token });
    state.busy = false;
    showTicket(ticket);
  } catch (err) {
    state.busy = false;
    renderHome();
    show(isOpen() ? "home" : "closed", { focus: false });
    showError(err);
    refreshQuietly(); // a service may have changed (no longer walk-in)
  }
}

// --- bookings: phone number, code, scanned link --------------------------------

function startBooking() {
  state.entry = { step: "phone", phone: "" };
  renderEntry();
  show("booking");
}

function renderEntry() {
  const phoneStep = state.entry.step === "phone";
  $("entry-help").textContent = phoneStep ? t("booking.phone_help") : t("booking.code_help");
  $("entry-label").textContent = phoneStep ? t("booking.phone_label") : t("booking.code_label");
  const groupCode = (d) => d.padEnd(6, "·").replace(/(.{3})/, "$1 ");
  if (phoneStep) {
    // The booking number (6 digits, as the booking page and its SMS give
    // it) or the phone number booked with (10 or 11 digits, from 0).
    keypad.configure({
      max: (d) => (d.startsWith("0") ? 11 : 6),
      format: (d) => (!d ? "" : d.startsWith("0") ? groupPhone(d) : groupCode(d)),
    });
  } else {
    keypad.configure({ max: 6, format: groupCode });
  }
}

function entryComplete(digits) {
  if (state.entry.step === "code" || digits.length === 6) return digits.length === 6;
  // Japanese numbers have 10 digits (landline, 0 + area) or 11 (mobile, 050).
  return /^0\d{9,10}$/.test(digits);
}

function submitEntry() {
  const digits = keypad.digits;
  if (!entryComplete(digits)) return;
  if (state.entry.step === "phone" && digits.length === 6) {
    checkIn({ code: digits }); // no phone number has six digits
  } else if (state.entry.step === "phone") {
    state.entry.phone = digits;
    checkIn({ phone: digits });
  } else {
    checkIn({ phone: state.entry.phone, code: digits });
  }
}

async function checkIn(body) {
  if (state.busy) return;
  state.busy = true;
  show("working", { focus: false });
  try {
    const ticket = await act("POST", `/offices/${enc(office)}/check-in`, body,
      { token: state.token });
    state.busy = false;
    keypad.clear();
    state.entry = { step: "phone", phone: "" };
    showTicket(ticket);
  } catch (err) {
    state.busy = false;
    if (err.code === "code_required" && body.phone) {
      // Several bookings on this number: the 6-digit code of the SMS says which.
      state.entry = { step: "code", phone: body.phone };
      renderEntry();
      show("booking");
      return;
    }
    if (body.booking_token) {
      state.entry = { step: "phone", phone: "" };
      renderEntry();
    }
    show("booking", { focus: false });
    showError(err);
  }
}

function onScan(text) {
  if (["loading", "setup", "fatal", "working", "card-reading"].includes(state.screen)
    || state.busy) {
    return;
  }
  if (state.screen === "card-pin") {
    // The scan's first characters went into the PIN: they are not the
    // citizen's. Someone is at the PIN pad: the scan is not the next visit.
    pinpad.clear();
    return;
  }
  const token = bookingToken(text);
  if (!token) {
    clearTicket();
    state.entry = { step: "phone", phone: "" };
    renderEntry();
    show("booking", { focus: false });
    showError({ key: "error.scan_unknown" });
    return;
  }
  const tokenOffice = token.split(".")[0];
  if (tokenOffice !== office) {
    clearTicket();
    state.entry = { step: "phone", phone: "" };
    renderEntry();
    show("booking", { focus: false });
    const names = state.otherOffices ? state.otherOffices.get(tokenOffice) : null;
    showError(names ? { key: "error.other_office", params: { office: pickName(names).text } }
      : { key: "error.unknown_booking" });
    return;
  }
  // A scan while a ticket is on screen is the next citizen: the last
  // ticket leaves the screen (it has printed or staff have been told).
  clearTicket();
  checkIn({ booking_token: token });
}

// --- the ticket on screen and its printing ------------------------------------

function comeBackMinutes() {
  const value = state.services && state.services.come_back_minutes;
  return Number.isFinite(value) ? value : COME_BACK_MINUTES;
}

function serviceOf(id) {
  const services = state.services ? state.services.services : [];
  return services.find((s) => s.id === id) || null;
}

// A new ticket: it prints at once, and the card step is offered meanwhile
// (the ticket screen follows it).
function showTicket(ticket) {
  clearTicket();
  state.ticket = ticket;
  state.print = "printing";
  document.body.dataset.print = "printing";
  renderTicket();
  startPrint(ticket);
  loadQr(ticket);
  offerCard();
}

// The ticket screen, after the card step. A printed ticket's time on screen
// starts now (not while the citizen was busy with the card).
function toTicketScreen() {
  endCard();
  if (!state.ticket) {
    goHome();
    return;
  }
  show("ticket");
  if (state.print === "printed") startTicketTimer();
  renderPrint();
}

// The smartphone page's QR, drawn by the server (the page loads no QR
// library): the same address as the printed ticket's QR. Fetched and put
// into the page as inline SVG, so it shows whether the server sends a
// standalone SVG document or an inline fragment (no xmlns, which an <img>
// would not render). Without it the screen still has the number.
async function loadQr(ticket) {
  let text;
  try {
    text = await api("GET", `/tickets/${enc(ticket.id)}/qr.svg`, undefined, { as: "text" });
  } catch {
    return;
  }
  if (state.ticket !== ticket) return; // the visit is over
  const svg = new DOMParser().parseFromString(text, "text/html").querySelector("svg");
  if (!svg) return;
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", t("ticket.qr_alt"));
  const box = $("ticket-qr");
  box.replaceChildren(document.importNode(svg, true));
  box.hidden = false;
}

function renderTicket() {
  const ticket = state.ticket;
  if (!ticket) return;
  const service = serviceOf(ticket.service);
  $("ticket-number").textContent = ticket.number;
  if (service) putName($("ticket-service"), service.names);
  else $("ticket-service").textContent = ticket.service;

  const booking = ticket.booking;
  $("ticket-booking").hidden = !booking;
  $("ticket-booking").textContent = booking
    ? t("ticket.booking", { time: formatTime(booking.slot_start, state.timezone) }) : "";

  $("ticket-ahead").textContent = ticket.ahead > 0 ? t("ticket.ahead", { n: ticket.ahead })
    : t("ticket.ahead_none");

  const wait = ticket.estimated_wait_minutes;
  const note = $("ticket-come-back-note");
  if (ticket.come_back_by) {
    // A held ticket (long wait): the server's come-back time, as printed;
    // the ticket is not called before the citizen is back.
    $("ticket-wait").textContent = t("ticket.come_back", {
      time: formatTime(ticket.come_back_by, state.timezone),
    });
    note.textContent = t("ticket.come_back_note");
    note.hidden = false;
  } else if (wait === null || wait === undefined) {
    $("ticket-wait").textContent = t("ticket.wait_unknown");
    note.hidden = true;
  } else {
    const said = waitWording(ticket.ahead, wait);
    $("ticket-wait").textContent = said.kind === "soon" ? t("ticket.wait_soon")
      : t("ticket.wait", { minutes: said.minutes });
    note.hidden = true;
  }
  const konbini = Boolean(service && service.konbini);
  $("ticket-konbini").hidden = !konbini;
  $("ticket-konbini").textContent = konbini ? t("ticket.konbini") : "";
  const svg = $("ticket-qr").querySelector("svg");
  if (svg) svg.setAttribute("aria-label", t("ticket.qr_alt"));
  renderPrint();
}

function renderPrint() {
  const failed = state.print === "failed";
  $("print-failed").hidden = !failed;
  $("print-status").textContent = state.print === "printing" ? t("print.printing")
    : state.print === "printed" ? t("print.done") : "";
  // The same, short, above the card screens.
  $("card-ticket-print").textContent = failed ? t("print.failed_title")
    : $("print-status").textContent;
  $("ticket-done").textContent = failed ? t("print.failed_done") : t("common.back_to_start");
  renderCountdown();
}

function renderCountdown() {
  const el = $("ticket-countdown");
  if (state.print !== "printed" || state.ticketTimer === null) {
    el.hidden = true;
    el.textContent = "";
    return;
  }
  const seconds = Math.max(0, Math.ceil((state.ticketDeadline - Date.now()) / 1000));
  el.textContent = t("ticket.countdown", { seconds });
  el.hidden = false;
}

async function startPrint(ticket) {
  state.printTimer = setTimeout(() => printFailed(ticket), PRINT_TIMEOUT_MS);
  // Known before this ticket: without an agent nobody will answer, so the
  // ticket shows as not printed at once (the job still waits for the agent).
  // A printer last seen out of paper may have been refilled since: its agent
  // tries and answers within seconds, so that case waits for the answer.
  if (state.printerState === "disconnected") printFailed(ticket);
  let answer;
  try {
    answer = await api("POST", `/tickets/${enc(ticket.id)}/print`, undefined,
      { token: state.token });
  } catch {
    printFailed(ticket);
    return;
  }
  if (answer && typeof answer.kiosk === "string" && answer.kiosk !== state.kioskId) {
    state.kioskId = answer.kiosk;
    store("id", answer.kiosk);
  }
  // The printer may have answered before we knew this kiosk's id.
  for (const event of state.recentPrints) {
    if (event.type === "printer.status") printerStatus(event);
    else printDone(event);
  }
}

function printerStatus(event) {
  if (event.kiosk !== state.kioskId) return;
  state.printerState = event.state;
  if (state.ticket && state.print === "printing" && BROKEN_PRINTER.has(event.state)) {
    printFailed(state.ticket);
  }
}

function printDone(event) {
  const ticket = state.ticket;
  if (!ticket || event.kiosk !== state.kioskId || event.number !== ticket.number) return;
  if (event.ok) printed(ticket);
  else printFailed(ticket);
}

function printed(ticket) {
  if (state.ticket !== ticket || state.print === "printed") return;
  clearTimeout(state.printTimer);
  state.print = "printed";
  document.body.dataset.print = "printed";
  if (state.screen === "ticket") startTicketTimer();
  renderPrint();
}

// A printed ticket leaves the screen after TICKET_SHOWN_MS.
function startTicketTimer() {
  if (state.ticketTimer !== null) return;
  state.ticketDeadline = Date.now() + TICKET_SHOWN_MS;
  state.ticketTimer = setTimeout(() => goHome(), TICKET_SHOWN_MS);
  state.countdownTimer = setInterval(renderCountdown, 1000);
}

// The ticket stays on screen until it is touched (the citizen notes the
// number or photographs it); staff see the failure on their console (the
// print.done / printer.status events and the printers list).
function printFailed(ticket) {
  if (state.ticket !== ticket || state.print === "failed" || state.print === "printed") return;
  clearTimeout(state.printTimer);
  state.print = "failed";
  document.body.dataset.print = "failed";
  renderPrint();
}

function onEvent(event) {
  switch (event.type) {
    case "print.done":
      if (state.ticket) {
        state.recentPrints.push(event);
        state.recentPrints = state.recentPrints.slice(-20);
        printDone(event);
      }
      break;
    case "printer.status":
      if (state.kioskId) printerStatus(event);
      else if (state.ticket) state.recentPrints.push(event); // decided once we know our id
      break;
    case "config.changed":
      loadOffice().catch(() => {});
      refreshQuietly();
      // Other web processes serve their cached configuration for up to 2 s
      // more: ask once again after that.
      setTimeout(() => {
        loadOffice().catch(() => {});
        refreshQuietly();
      }, CONFIG_SETTLE_MS);
      break;
    case "resync":
      refreshQuietly();
      break;
    default:
      if (event.type.startsWith("ticket.") || event.type === "counter.changed") refreshSoon();
  }
}

// --- the My Number card (書かない) ----------------------------------------------
//
// offer (consent) → place the card → PIN → read (card.js: sealed for the
// kiosk agent, relayed by the server) → prefill for the clerk → done → the
// ticket screen. "Without the card" from every step goes to the ticket
// screen; every failure keeps the ticket and says what happened.

// Card failures the citizen cannot fix here: the reader, its PC or the
// relay. The kiosk goes on without the card.
const CARD_UNAVAILABLE = new Set([
  "no_reader", "card_agent_offline", "card_timeout", "busy", "reader_busy",
]);

// What the kiosk says for a failure ({ title, text, params }: catalog keys)
// and where "try again" goes ("pin", "place" or null: no retry).
function cardFailure(error) {
  const code = error && error.code;
  const tries = error && Number.isInteger(error.triesLeft) ? error.triesLeft : null;
  if (code === "wrong_pin" && tries !== null && tries <= 1) {
    // The next try would be the last: the kiosk never uses it (the agent
    // would refuse it anyway). The counter can help, and reset the PIN.
    // The PIN was wrong all the same: the title says so.
    return { title: "card.wrong_pin_title", text: "card.last_try", retry: null };
  }
  switch (code) {
    case "wrong_pin":
      // What is left *here*: the card's tries less the last one, which the
      // kiosk never spends (two left on the card = one more here).
      if (tries === null) {
        return { title: "card.wrong_pin_title", text: "card.wrong_pin", retry: "pin" };
      }
      return tries === 2
        ? { title: "card.wrong_pin_title", text: "card.wrong_pin_one_more", retry: "pin" }
        : { title: "card.wrong_pin_title", text: "card.wrong_pin_tries", params: { n: tries - 1 },
          retry: "pin" };
    case "last_try_protected":
      return { title: "card.last_try_title", text: "card.last_try", retry: null };
    case "pin_blocked":
      return { title: "card.pin_blocked_title", text: "card.pin_blocked", retry: null };
    case "invalid_pin":
      return { title: "card.invalid_pin_title", text: "card.invalid_pin", retry: "pin" };
    case "no_card":
      return { title: "card.no_card_title", text: "card.no_card", retry: "place" };
    case "card_removed":
      return { title: "card.removed_title", text: "card.removed", retry: "place" };
    case "unknown_card":
      return { title: "card.unknown_title", text: "card.unknown", retry: "place" };
    case "network":
      return { title: "card.network_title", text: "card.network", retry: null };
    case "prefill_failed":
      return { title: "card.prefill_failed_title", text: "card.prefill_failed", retry: null };
    default:
      if (CARD_UNAVAILABLE.has(code)) {
        return { title: "card.unavailable_title", text: "card.unavailable", retry: null };
      }
      return { title: "card.failed_title", text: "card.failed", retry: null };
  }
}

// Offered for every service (a service that never needs an application
// form would be the place to leave it out).
function offerCard() {
  endCard();
  state.card = { failure: null, busy: false, doneTimer: null };
  $("card-ticket-number").textContent = state.ticket ? state.ticket.number : "";
  $("card-agree").disabled = false;
  renderPrint();
  show("card-offer");
}

// The step is over (done, skipped, failed and left, or the visit ended):
// nothing of it stays in memory or on screen.
function endCard() {
  const card = state.card;
  state.card = null;
  if (card) clearTimeout(card.doneTimer);
  pinpad.clear();
  $("card-error-text").textContent = "";
  $("h-card-error").textContent = "";
  $("card-retry").textContent = "";
  $("card-retry").hidden = true;
  $("card-error-take").hidden = true;
}

// "I agree": is a card reader ready? Asked of the agent before the citizen
// places the card or types their PIN, so a kiosk whose agent is away, whose
// reader is missing or held by another program says so at once.
async function agreeCard() {
  const card = state.card;
  if (!card || card.busy) return;
  card.busy = true;
  $("card-agree").disabled = true;
  let failure = null;
  try {
    await readerReady(state.token);
  } catch (err) {
    failure = err;
  }
  card.busy = false;
  $("card-agree").disabled = false;
  if (state.card !== card) return; // skipped meanwhile, or the visit ended
  if (failure) cardFailed(failure);
  else show("card-place");
}

function toPin() {
  if (!state.card) return;
  state.card.failure = null;
  pinpad.clear();
  show("card-pin");
}

function renderPin(digits) {
  const boxes = $("pin-boxes").children;
  for (let i = 0; i < boxes.length; i += 1) boxes[i].classList.toggle("filled", i < digits.length);
  $("pin-submit").disabled = digits.length !== PIN_LENGTH;
}

// A keyboard works the PIN pad too: digits, Backspace (one back), Delete
// (all), Enter (read). Enter on a focused button presses that button.
function onPinKey(event) {
  if (state.screen !== "card-pin" || event.defaultPrevented) return;
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const onButton = event.target instanceof Element && event.target.closest("button");
  if (/^[0-9]$/.test(event.key)) {
    pinpad.press(event.key);
  } else if (event.key === "Backspace") {
    pinpad.press("back");
  } else if (event.key === "Delete") {
    pinpad.press("clear");
  } else if (event.key === "Enter" && !onButton) {
    submitPin();
  } else {
    return;
  }
  event.preventDefault();
}

async function submitPin() {
  const card = state.card;
  const ticket = state.ticket;
  if (!card || !ticket || card.busy || pinpad.digits.length !== PIN_LENGTH) return;
  card.busy = true;
  // The PIN goes to card.js (which seals it) and leaves the pad at once.
  const reading = readCard({ office, token: state.token, pin: pinpad.digits, consent: true });
  pinpad.clear();
  show("card-reading");
  let person = null;
  try {
    person = await reading;
  } catch (err) {
    card.busy = false;
    if (state.card === card) cardFailed(err);
    return;
  }
  if (state.card !== card || state.ticket !== ticket) return; // the visit ended: dropped
  let sent = false;
  try {
    await api("POST", `/tickets/${enc(ticket.id)}/prefill`, {
      name: person.name,
      address: person.address || "",
      birth_date: person.birthDate || "",
      sex: person.sex || "",
    }, { token: state.token });
    sent = true;
  } catch {
    sent = false;
  }
  person = null; // the clerk has it now (or nobody does)
  card.busy = false;
  if (state.card !== card) return;
  if (!sent) {
    cardFailed({ code: "prefill_failed" });
    return;
  }
  card.doneTimer = setTimeout(() => {
    if (state.card === card && state.screen === "card-done") toTicketScreen();
  }, CARD_DONE_MS);
  show("card-done");
}

function cardFailed(error) {
  if (!state.card) return;
  state.card.failure = cardFailure(error);
  renderCard();
  show("card-error");
}

function retryCard() {
  const failure = state.card && state.card.failure;
  if (!failure || !failure.retry) return;
  if (failure.retry === "pin") {
    toPin();
  } else {
    state.card.failure = null;
    show("card-place");
  }
}

// The card screens' own texts (on a failure, and after a language change).
function renderCard() {
  pinpad.render();
  const failure = state.card && state.card.failure;
  if (!failure) return;
  $("h-card-error").textContent = t(failure.title);
  $("card-error-text").textContent = t(failure.text, failure.params || {});
  const retry = $("card-retry");
  retry.hidden = !failure.retry;
  retry.textContent = failure.retry === "pin" ? t("card.retry_pin")
    : failure.retry === "place" ? t("card.retry_place") : "";
  // The card may be left on the reader unless it is wanted there again.
  $("card-error-take").hidden = failure.retry === "place";
}

// --- language ------------------------------------------------------------------

async function changeLang(code) {
  await setLang(code);
  applyI18n();
  markLangSwitch($("lang-list"));
  renderOffice();
  renderHome();
  renderClosed();
  if (state.screen === "booking") {
    // Re-label the entry without losing the digits typed so far.
    const digits = keypad.digits;
    renderEntry();
    for (const d of digits) keypad.press(d);
  }
  renderTicket();
  renderCard();
  if (state.fatal) $("fatal-text").textContent = t(state.fatal);
  if (state.error) showError(state.error);
  idle.relabel();
  updateIdle();
}

// --- start-up --------------------------------------------------------------------

// A tap anywhere on the warning (it covers the screen) keeps the visit.
const idle = new IdleWarning({
  idleMs: IDLE_MS,
  warnMs: IDLE_WARN_MS,
  overlay: $("idle-warning"),
  text: $("idle-text"),
  stay: $("idle-stay"),
  message: (seconds) => t("idle.warning", { seconds }),
  onTimeout: () => goHome(),
});

const keypad = new Keypad($("keypad"), $("entry-value"), {
  onChange: (digits) => {
    $("entry-submit").disabled = !entryComplete(digits);
  },
});

// The PIN pad: its digits live only in this object; the screen shows how
// many there are, never which.
const pinpad = new Keypad($("pin-keypad"), $("pin-count"), { onChange: renderPin });
pinpad.configure({
  max: PIN_LENGTH,
  format: (digits) => t("card.pin_entered", { n: digits.length }),
});

function wire() {
  new ResizeObserver(() => fitHome()).observe($("screen-home"));
  $("booking-button").addEventListener("click", startBooking);
  $("closed-booking").addEventListener("click", startBooking);
  $("entry-submit").addEventListener("click", submitEntry);
  $("entry-cancel").addEventListener("click", () => goHome());
  $("ticket-done").addEventListener("click", () => goHome());
  $("card-skip").addEventListener("click", toTicketScreen);
  $("card-agree").addEventListener("click", agreeCard);
  $("card-placed").addEventListener("click", toPin);
  $("card-place-without").addEventListener("click", toTicketScreen);
  $("pin-without").addEventListener("click", toTicketScreen);
  $("pin-submit").addEventListener("click", submitPin);
  $("card-done-continue").addEventListener("click", toTicketScreen);
  $("card-retry").addEventListener("click", retryCard);
  $("card-error-continue").addEventListener("click", toTicketScreen);
  window.addEventListener("keydown", onPinKey);
  new WedgeScanner({ onScan });
  // Coming back from the booking pages through history: start afresh.
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) goHome();
  });
}

// The office and its services, until the server answers. Returns false for
// an office that does not exist (nothing more to do on this page).
async function startServices() {
  for (;;) {
    try {
      await loadOffice();
      await refreshServices();
      return true;
    } catch (err) {
      const unknown = err.code === "unknown_office";
      state.fatal = unknown ? "fatal.unknown_office" : "fatal.network";
      $("fatal-text").textContent = t(state.fatal);
      show("fatal");
      if (unknown) return false;
    }
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}

async function main() {
  state.token = enrol();
  state.kioskId = readStored("id");
  await loadAll();
  await setLang("ja");
  applyI18n();
  renderLangSwitch($("lang-list"), (code) => changeLang(code));
  renderOffice();
  wire();
  setInterval(renderClock, 15_000);
  if (!state.token) {
    $("setup-url").textContent = `${location.origin}/kiosk/${office}?token=…`;
    show("setup");
    loadOffice().catch(() => {}); // the office's name tells staff they opened the right one
    return;
  }
  if (!(await startServices())) return;
  state.fatal = null;
  await goHome();
  setInterval(refreshQuietly, REFRESH_MS);
  // body[data-live] says whether the socket is open.
  new OfficeEvents(office, {
    onEvent,
    onOpen: () => {
      document.body.dataset.live = "true";
      refreshQuietly();
    },
    onClose: () => {
      document.body.dataset.live = "false";
    },
  }).start();
}

main();
