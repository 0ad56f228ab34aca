// The lobby check-in page /here/{office}, opened by scanning the QR code on
// the lobby display: {public base}/here/{office}?p=<4-digit code>. The code
// (it changes every 5 minutes) proves the phone is in the lobby.
//
// It offers one big button per booking and remote ticket of this office that
// this phone saved (saved.js): a booking is checked in, a remote ticket
// (today's queue joined from afar) arrives; then on to the ticket page
// /t/{id}. Tickets already in the line are offered as links to their page.
// With nothing saved it explains the other ways in: the SMS link, the kiosk.

import { pageAlert, setLoading, showFieldError } from "/static/queue/common/alert.js";
import { api, enc } from "/static/queue/common/api.js";
import { forget, loadSaved, rememberTicket } from "/static/queue/common/saved.js";
import {
  arriveTicket, checkInBooking, normaliseCode, ticketUrl, validCode,
} from "../book/checkin.js";
import {
  currentLang, dayOf, errorText, formatShortDay, formatTime, putName, startLang, t,
} from "../book/i18n.js";

const $ = (id) => document.getElementById(id);
const officeId = decodeURIComponent(location.pathname.split("/")[2] || "");
// A ticket in one of these states is over: nothing to offer, forget it.
const ENDED = new Set(["done", "cancelled"]);
// The item can no longer be acted on: look again at what is saved.
const STALE = new Set(["booking_not_active", "unknown_booking", "unknown_ticket"]);

// The presence code of the QR (?p=1234) is read once and taken out of the
// address at once: it is then in no history entry, bookmark or shared link,
// and it goes nowhere but to our own API with the check-in.
function takeCode() {
  const url = new URL(location.href);
  const raw = url.searchParams.get("p");
  if (raw === null) return "";
  url.searchParams.delete("p");
  history.replaceState(history.state, "", url.pathname + url.search + url.hash);
  const code = normaliseCode(raw);
  return validCode(code) ? code : "";
}

const state = {
  code: takeCode(),
  office: null,
  services: [],
  items: [], // {entry, action: "checkin" | "arrive" | "open", view, id?}
  error: null,
  message: null, // {key, params} of the polite status message
  presenceError: null,
  busy: false,
};

function tz() {
  return (state.office && state.office.timezone) || "Asia/Tokyo";
}

const { showError, clearError } = pageAlert(state, errorText);

function setMessage(key, params = {}) {
  state.message = key ? { key, params } : null;
  $("status-message").textContent = key ? t(key, params) : "";
}

// --- what this phone saved, and what it is now ----------------------------------

async function lookUpTicket(entry) {
  const ticket = await api("GET", `/tickets/${enc(entry.id)}`);
  if (ENDED.has(ticket.state)) {
    forget(entry);
    return null;
  }
  return { entry, action: ["remote", "held"].includes(ticket.state) ? "arrive" : "open", view: ticket,
    id: ticket.id };
}

async function lookUp(entry) {
  try {
    if (entry.kind === "ticket") return await lookUpTicket(entry);
    const booking = await api("GET", `/bookings/${enc(entry.token)}`);
    if (booking.status === "booked") return { entry, action: "checkin", view: booking };
    forget(entry); // used, cancelled or missed: the list is for what is still to do
    if (booking.status === "checked_in" && booking.ticket) {
      const ticket = { kind: "ticket", office: booking.office, id: booking.ticket };
      const item = await lookUpTicket(ticket);
      if (item) rememberTicket(item.view);
      return item;
    }
    return null;
  } catch (error) {
    if (STALE.has(error.code)) {
      forget(entry);
      return null;
    }
    // Not reachable just now: offer the action anyway, the server decides.
    return { entry, action: entry.kind === "booking" ? "checkin" : "arrive", view: null };
  }
}

function when(item) {
  const at = item.view ? item.view.slot_start : item.entry.slot_start;
  return Date.parse(at || "") || 0;
}

async function reload() {
  const mine = loadSaved().filter((e) => e.office === officeId);
  const found = (await Promise.all(mine.map(lookUp))).filter(Boolean);
  // One entry per ticket (a booking checked in and its ticket may both be saved).
  const seen = new Set();
  const items = found.filter((item) => {
    const key = item.id ? "t:" + item.id : "b:" + (item.entry.token || item.entry.id);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  // What can be done here comes first, bookings in the order of their times.
  const rank = { checkin: 0, arrive: 0, open: 1 };
  items.sort((a, b) => rank[a.action] - rank[b.action] || when(a) - when(b));
  state.items = items;
  render();
}

// --- rendering --------------------------------------------------------------

function serviceNames(id) {
  const service = state.services.find((s) => s.id === id);
  return service ? service.names : null;
}

function serviceText(id) {
  const names = serviceNames(id);
  if (!names) return id || "";
  const el = document.createElement("span");
  putName(el, names);
  return el.textContent;
}

function sub(text) {
  const span = document.createElement("span");
  span.className = "choice-sub";
  span.textContent = text;
  return span;
}

function main(text) {
  const span = document.createElement("span");
  span.className = "choice-main";
  span.textContent = text;
  return span;
}

function bookingWhen(item) {
  const at = when(item);
  if (!at) return "";
  const start = new Date(at).toISOString();
  return t("here.booking_when", {
    date: formatShortDay(dayOf(new Date(at), tz()), tz()), time: formatTime(start, tz()),
  });
}

function itemElement(item) {
  const li = document.createElement("li");
  const view = item.view || {};
  const service = view.service || item.entry.service;
  const number = view.number || item.entry.number || "";
  if (item.action === "open") {
    const link = document.createElement("a");
    link.className = "choice";
    link.href = ticketUrl(item.id);
    link.append(main(t("here.open_ticket", { number })), sub(serviceText(service)));
    li.append(link);
    return li;
  }
  const button = document.createElement("button");
  button.type = "button";
  button.className = "choice act";
  if (item.action === "checkin") {
    button.dataset.token = item.entry.token;
    button.append(main(t("here.checkin_booking", { service: serviceText(service) })),
      sub(bookingWhen(item)));
  } else {
    button.dataset.ticket = item.entry.id;
    button.append(main(t("here.arrive_ticket", { number })), sub(serviceText(service)));
  }
  button.addEventListener("click", () => act(item));
  li.append(button);
  return li;
}

function render() {
  const actions = state.items.filter((i) => i.action !== "open");
  $("entries").hidden = state.items.length === 0;
  $("entry-list").replaceChildren(...state.items.map(itemElement));
  $("code-box").hidden = actions.length === 0 || Boolean(state.code);
  $("nothing").hidden = state.items.length > 0;
  $("code-shown").hidden = !state.code;
  $("code-shown").textContent = state.code ? t("here.code_shown", { code: state.code }) : "";
}

function renderTitle() {
  const el = document.createElement("span");
  if (state.office) putName(el, state.office.names);
  $("office-name").textContent = el.textContent;
  document.title = el.textContent ? t("here.page_title_office", { office: el.textContent })
    : t("here.page_title");
  $("book-link").href = `/book/${enc(officeId)}?lang=${enc(currentLang())}`;
}

// The code field's error: {key} or {error}, or null to clear it.
function presenceError(spec) {
  state.presenceError = spec;
  showFieldError("presence", spec && (spec.key ? t(spec.key) : errorText(spec.error)));
}

// Asks for the code on the screen (none scanned, or the scanned one is old).
function askForCode(spec) {
  state.code = "";
  render();
  presenceError(spec);
  $("presence").focus();
}

// --- checking in ------------------------------------------------------------

async function act(item) {
  if (state.busy) return;
  clearError();
  const code = state.code || normaliseCode($("presence").value);
  if (!validCode(code)) {
    askForCode({ key: code ? "checkin.code_format" : "checkin.code_required" });
    return;
  }
  presenceError(null);
  state.busy = true;
  setLoading(true);
  try {
    const ticket = item.action === "checkin"
      ? await checkInBooking(item.entry.token, code, { booking: item.view, timeZone: tz() })
      : await arriveTicket(item.entry.id, code);
    setMessage("here.checked_in", { number: ticket.number });
    location.assign(ticketUrl(ticket.id));
  } catch (error) {
    if (error.code === "presence_required" || error.code === "validation_failed") {
      askForCode({ error: { code: "presence_required" } });
    } else if (error.code === "not_remote") {
      // Already in the line (arrived on another phone or at the kiosk).
      location.assign(ticketUrl(item.entry.id));
    } else {
      showError(error);
      if (STALE.has(error.code)) await reload();
    }
  } finally {
    state.busy = false;
    setLoading(false);
  }
}

// --- language and start -----------------------------------------------------

function languageChanged() {
  renderTitle();
  render();
  if (state.message) setMessage(state.message.key, state.message.params);
  if (state.error) showError(state.error, { focus: false });
  if (state.presenceError) presenceError(state.presenceError);
}

// Enter in the code field presses the one button there is, else moves on
// to the buttons (a form would need one submit for several choices).
function codeKey(event) {
  if (event.key !== "Enter") return;
  event.preventDefault();
  const actions = state.items.filter((i) => i.action !== "open");
  if (actions.length === 1) act(actions[0]);
  else {
    const first = $("entry-list").querySelector("button.act");
    if (first) first.focus();
  }
}

async function start() {
  await startLang($("lang-list"), {
    onChange: languageChanged,
    onError: () => showError({ code: "network" }), // the page stays in the language it has
  });
  renderTitle();
  $("presence").addEventListener("keydown", codeKey);
  setLoading(true);
  try {
    const [offices, services] = await Promise.all([
      api("GET", "/offices"),
      api("GET", `/offices/${enc(officeId)}/services`),
    ]);
    state.office = (offices.offices || []).find((o) => o.id === officeId) || null;
    state.services = services.services || [];
    renderTitle();
    await reload();
  } catch (error) {
    showError(error, { focus: false });
    $("book-link").hidden = true;
  } finally {
    setLoading(false);
  }
  document.body.dataset.ready = "true";
}

start();
