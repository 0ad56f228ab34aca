// The smartphone ticket page /t/{ticket_id}: number, service, state, people
// ahead and estimated wait (or when to come back), live over
// /ws/tickets/{id}; when called, the counter very large, a chime and
// vibration (after the citizen's first tap) and Web Push for a page in the
// background. Also: "I have arrived" for a ticket taken from afar, cancel
// (asked twice), rejoin after a no-show, six languages.

import { pageAlert } from "/static/queue/common/alert.js";
import { act as send, api, enc } from "/static/queue/common/api.js";
import { forgetTicket, rememberTicket, savedTicket } from "/static/queue/common/saved.js";
import { waitWording } from "/static/queue/common/wait.js";
import {
  currentLang, errorText, formatTime, putName, startLang, t,
} from "./i18n.js";
import { connectLive } from "./live.js";
import { enablePush, permission } from "./push.js";
import { chime, unlock, vibrate } from "./sound.js";

// A held ticket (left the lobby with a come-back time, issue 11) is shown as
// a remote one: away, keeping its place, not called before it is back.
const STATE_KEYS = {
  "remote": "state.remote",
  "held": "state.remote",
  "waiting": "state.waiting",
  "called": "state.called",
  "serving": "state.serving",
  "done": "state.done",
  "no_show": "state.no_show",
  "parked": "state.parked",
  "cancelled": "state.cancelled",
};
const STATE_TEXT_KEYS = {
  "remote": "state_text.remote",
  "held": "state_text.remote",
  "waiting": "state_text.waiting",
  "called": "state_text.called",
  "serving": "state_text.serving",
  "done": "state_text.done",
  "no_show": "state_text.no_show",
  "parked": "state_text.parked",
  "cancelled": "state_text.cancelled",
};
const FINAL = new Set(["done", "cancelled"]);
// Once the number is called the clerk has it: no cancelling from the phone
// (a missed call, no_show, may still be given up).
const AWAY = new Set(["remote", "held"]);
const CANCELLABLE = new Set(["remote", "held", "waiting", "no_show"]);
const CALL_VIBRATION = [400, 200, 400, 200, 400];
const OFFLINE_AFTER_MS = 2000; // a quick reconnect is not worth alarming anyone
const REMOTE_REFRESH_MS = 60000;
const DEFAULT_TZ = "Asia/Tokyo";

const $ = (id) => document.getElementById(id);
const ticketId = decodeURIComponent(location.pathname.split("/")[2] || "");
const officeId = ticketId.includes(".") ? ticketId.slice(0, ticketId.indexOf(".")) : "";

const state = {
  ticket: null,
  office: null,       // {id, names, timezone}
  service: null,      // {id, names, estimated_wait_minutes, ...}
  counters: new Map(), // id -> names per language
  notFound: false,
  error: null,
  message: null,      // key of the last status message (re-rendered on a language switch)
  recalled: false,
  soundOn: false,
  push: "off",        // "on" | "denied" | "unsupported" | "failed" | "not-asked" | "off"
  comeBackBy: null,   // earliest "come back by" shown for a remote ticket (ms)
  busy: false,
  live: null,
  offlineTimer: null,
  remoteTimer: null,
};

function tz() {
  return (state.office && state.office.timezone) || DEFAULT_TZ;
}

const { showError, clearError } = pageAlert(state, errorText);

// -- rendering ---------------------------------------------------------------

function counterName() {
  const counter = state.ticket && state.ticket.counter;
  if (!counter) return { text: t("called.counter_unknown"), names: null };
  const names = state.counters.get(counter.id);
  return { text: counter.name || counter.id, names };
}

function putCounter(el) {
  const { text, names } = counterName();
  if (names) putName(el, names);
  else {
    el.textContent = text;
    el.removeAttribute("lang");
  }
}

function counterText() {
  const el = document.createElement("span");
  putCounter(el);
  return el.textContent;
}

function renderTitle() {
  const tk = state.ticket;
  if (state.notFound) document.title = t("notfound.page_title");
  else if (tk) document.title = t("ticket.page_title_number", { number: tk.number });
  else document.title = t("ticket.page_title");
  const el = $("office-name");
  if (state.office) putName(el, state.office.names);
}

function renderWaiting(tk) {
  const waiting = tk.state === "waiting";
  $("waiting-info").hidden = !waiting;
  if (!waiting) return;
  $("ahead").textContent = tk.ahead === 0 ? t("info.ahead_next")
    : t("info.ahead_value", { n: tk.ahead ?? "?" });
  const said = waitWording(tk.ahead ?? null, tk.estimated_wait_minutes);
  $("wait").textContent = said.kind === "unknown" ? t("info.wait_unknown")
    : said.kind === "soon" ? t("info.wait_soon") : t("info.wait_value", { n: said.minutes });
}

// A remote ticket waits outside the line, so its own view has no estimate:
// the service's current wait, less a margin (as when joining: 80 %, down to
// 5 minutes), says when to be back. The earliest time ever shown is kept, so
// the advice never moves later and leaves the citizen short.
function comeBackBy() {
  const wait = state.service ? state.service.estimated_wait_minutes : null;
  if (state.ticket.come_back_by) return Date.parse(state.ticket.come_back_by);
  if (wait === null || wait === undefined) return null;
  return Date.now() + Math.floor((wait * 0.8) / 5) * 5 * 60000;
}

function renderRemote(tk) {
  const remote = AWAY.has(tk.state);
  $("remote").hidden = !remote;
  if (!remote) return;
  const back = comeBackBy();
  if (back !== null && Number.isFinite(back)) {
    state.comeBackBy = state.comeBackBy === null ? back : Math.min(state.comeBackBy, back);
  }
  const line = $("come-back");
  if (state.comeBackBy === null) line.textContent = t("remote.come_back_unknown");
  else if (state.comeBackBy <= Date.now() + 60000) line.textContent = t("remote.come_back_now");
  else line.textContent = t("remote.come_back", { time: formatTime(new Date(state.comeBackBy), tz()) });
}

function renderAlerts(tk) {
  const active = !FINAL.has(tk.state) && tk.state !== "serving";
  $("alerts").hidden = !active;
  $("alerts-on").hidden = state.soundOn;
  $("alerts-help").hidden = state.soundOn;
  $("alerts-state").hidden = !state.soundOn;
  const push = $("push-state");
  const failed = ["denied", "unsupported", "failed"].includes(state.push);
  push.hidden = !(state.push === "on" || (state.soundOn && failed));
  push.textContent = state.push === "on" ? t("alerts.push_on") : t("alerts.push_off");
}

function render() {
  const tk = state.ticket;
  $("loading").hidden = true;
  $("not-found").hidden = !state.notFound;
  $("ticket").hidden = state.notFound || !tk;
  renderTitle();
  if (state.notFound || !tk) return;

  $("ticket").dataset.state = tk.state;
  $("number").textContent = tk.number;
  if (state.service) putName($("service"), state.service.names);
  else $("service").textContent = "";
  const badge = $("state");
  badge.textContent = t(STATE_KEYS[tk.state] || "state.waiting");
  badge.dataset.state = tk.state;

  const called = tk.state === "called";
  $("called").hidden = !called;
  if (called) putCounter($("counter"));
  $("called-again").hidden = !(called && state.recalled);

  renderWaiting(tk);
  renderRemote(tk);
  $("no-show").hidden = tk.state !== "no_show";
  renderAlerts(tk);
  $("keep").hidden = FINAL.has(tk.state); // nothing more will change
  $("cancel-box").hidden = !CANCELLABLE.has(tk.state);
  if (!CANCELLABLE.has(tk.state)) $("cancel-confirm").hidden = true;
  setStatus();
}

// The polite live region: what the state means, plus the last action's
// confirmation (cancelled, arrived, rejoined).
function setStatus() {
  const tk = state.ticket;
  if (!tk) return;
  const parts = [];
  if (state.message) parts.push(t(state.message));
  const key = STATE_TEXT_KEYS[tk.state];
  if (key && !(state.message === "cancel.done" && tk.state === "cancelled")) {
    parts.push(t(key, { counter: counterText() }));
  }
  const text = parts.join(" ");
  if ($("status").textContent !== text) $("status").textContent = text;
}

function setMessage(key) {
  state.message = key;
  setStatus();
}

// -- the ticket changes --------------------------------------------------------

function callAlert(again) {
  // Counted for the tests and for a second look by staff: "did this phone ring?"
  document.body.dataset.calls = String(Number(document.body.dataset.calls || "0") + 1);
  vibrate(CALL_VIBRATION);
  if (state.soundOn) chime();
  $("announce").textContent = t("called.announce", {
    number: state.ticket.number, counter: counterText(),
  }) + (again ? " " + t("called.recalled") : "");
}

function remember(tk) {
  if (FINAL.has(tk.state)) {
    forgetTicket(tk.id);
    return;
  }
  const extra = state.comeBackBy !== null && AWAY.has(tk.state)
    ? { come_back_by: new Date(state.comeBackBy).toISOString() } : {};
  rememberTicket(tk, extra);
}

function update(next) {
  const before = state.ticket ? state.ticket.state : null;
  state.ticket = next;
  if (next.state !== "called") state.recalled = false;
  if (before !== next.state && before !== null) {
    // A new state makes the last action's confirmation old news.
    if (!(state.message === "cancel.done" && next.state === "cancelled")
      && !(state.message === "remote.arrived" && next.state === "waiting")
      && !(state.message === "no_show.rejoined" && next.state === "waiting")) {
      state.message = null;
    }
  }
  render();
  remember(next);
  if (before !== null && before !== "called" && next.state === "called") callAlert(false);
  if (FINAL.has(next.state) && state.live) {
    state.live.stop(); // the server closes the socket too: nothing more will come
    state.live = null;
    showOnline();
    document.body.dataset.live = "ended";
  }
  if (AWAY.has(next.state)) startRemoteRefresh();
  else stopRemoteRefresh();
}

function onEvent(event) {
  if (event.type === "ticket.recalled" && state.ticket && state.ticket.state === "called") {
    state.recalled = true;
    render();
    callAlert(true);
  }
}

// -- connection --------------------------------------------------------------

function showOnline() {
  document.body.dataset.live = "open";
  clearTimeout(state.offlineTimer);
  state.offlineTimer = null;
  $("conn").textContent = "";
}

function showOffline() {
  document.body.dataset.live = "down";
  if (state.offlineTimer || $("conn").textContent) return;
  state.offlineTimer = setTimeout(() => {
    state.offlineTimer = null;
    $("conn").textContent = t("conn.offline");
  }, OFFLINE_AFTER_MS);
}

// Asks over HTTP: says whether the ticket is gone (404), and keeps the page
// current while the socket is down or the page was frozen in the background.
async function refresh() {
  try {
    update(await api("GET", `/tickets/${enc(ticketId)}`));
  } catch (error) {
    if (error.status === 404) {
      state.notFound = true;
      if (state.live) state.live.stop();
      state.live = null;
      showOnline();
      render();
    }
  }
}

async function onDown(attempt) {
  showOffline();
  if (attempt >= 1) await refresh(); // the socket keeps failing
}

function startLive() {
  if (state.live || FINAL.has(state.ticket.state)) return;
  state.live = connectLive(ticketId, {
    onTicket: update,
    onEvent,
    onOpen: showOnline,
    onDown,
  });
}

function startRemoteRefresh() {
  if (state.remoteTimer) return;
  state.remoteTimer = setInterval(async () => {
    if (!state.ticket) return;
    await loadService(state.ticket.service);
    render();
  }, REMOTE_REFRESH_MS);
}

function stopRemoteRefresh() {
  clearInterval(state.remoteTimer);
  state.remoteTimer = null;
}

// -- names (the office, the service, the counters) -------------------------------------

async function loadService(serviceId) {
  try {
    const services = await api("GET", `/offices/${enc(officeId)}/services`);
    state.service = (services.services || []).find((s) => s.id === serviceId) || null;
  } catch {
    // Names and the service estimate are a nicety: the ticket shows without them.
  }
}

async function loadNames(serviceId) {
  const office = api("GET", "/offices").then((data) => {
    state.office = (data.offices || []).find((o) => o.id === officeId) || null;
  });
  const counters = api("GET", `/offices/${enc(officeId)}/counters`).then((data) => {
    for (const c of data.counters || []) state.counters.set(c.id, c.names);
  });
  await Promise.allSettled([office, counters, loadService(serviceId)]);
}

// -- actions -------------------------------------------------------------------

async function turnOnAlerts() {
  // Inside the tap: the one moment browsers allow sound, vibration and the
  // notification prompt.
  state.soundOn = unlock();
  vibrate([200]);
  if (state.soundOn) chime();
  document.body.dataset.sound = state.soundOn ? "on" : "unavailable";
  state.push = "pending";
  render();
  $("alerts-state").focus();
  state.push = await enablePush(ticketId, currentLang(), { ask: true });
  render();
}

async function pushIfAllowed() {
  // Permission given on an earlier visit: subscribe without asking again.
  if (permission() !== "granted") return;
  state.push = await enablePush(ticketId, currentLang());
  render();
}

function askCancel() {
  $("cancel-question").textContent = t("cancel.question", { number: state.ticket.number });
  $("cancel-confirm").hidden = false;
  $("cancel").hidden = true;
  $("cancel-question").focus();
}

function keepTicket() {
  $("cancel-confirm").hidden = true;
  $("cancel").hidden = false;
  $("cancel").focus();
}

async function act(path, body, done) {
  if (state.busy) return;
  state.busy = true;
  clearError();
  try {
    // One Idempotency-Key per press, repeated while the outcome is unknown.
    const view = await send("POST", `/tickets/${enc(ticketId)}/${path}`, body);
    done(view);
  } catch (error) {
    // Too late to rejoin: the button would only fail again.
    if (error.code === "rejoin_window_passed") $("rejoin").hidden = true;
    showError(error);
  } finally {
    state.busy = false;
  }
}

function confirmCancel() {
  act("cancel", {}, (view) => {
    $("cancel-confirm").hidden = true;
    $("cancel").hidden = false;
    state.message = "cancel.done";
    update(view);
    $("h-ticket").tabIndex = -1;
    $("h-ticket").focus();
  });
}

function rejoin() {
  act("rejoin", {}, (view) => {
    state.message = "no_show.rejoined";
    update(view);
    startLive();
  });
}

// Full-width digits (from a Japanese keyboard) count as digits.
function digits(text) {
  return text.replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0))
    .replace(/[\s-]/g, "");
}

function codeProblem(key) {
  const error = $("presence-error");
  const input = $("presence");
  if (!key) {
    error.hidden = true;
    error.textContent = "";
    error.dataset.key = "";
    input.removeAttribute("aria-invalid");
    return;
  }
  error.hidden = false;
  error.dataset.key = key;
  error.textContent = t(key);
  input.setAttribute("aria-invalid", "true");
  input.focus();
}

function arrive(submit) {
  submit.preventDefault();
  const code = digits($("presence").value);
  if (!/^[0-9]{4}$/.test(code)) {
    codeProblem("remote.code_required");
    return;
  }
  codeProblem(null);
  if (state.busy) return;
  state.busy = true;
  clearError();
  send("POST", `/tickets/${enc(ticketId)}/arrive`, { presence_code: code })
    .then((view) => {
      $("presence").value = "";
      state.message = "remote.arrived";
      update(view);
      $("h-ticket").tabIndex = -1;
      $("h-ticket").focus();
    })
    .catch((error) => {
      if (error.code === "presence_required" || error.code === "validation_failed") {
        codeProblem("error.presence_required");
      } else showError(error);
    })
    .finally(() => {
      state.busy = false;
    });
}

async function languageChanged(code) {
  if (!$("cancel-confirm").hidden && state.ticket) {
    $("cancel-question").textContent = t("cancel.question", { number: state.ticket.number });
  }
  const fieldError = $("presence-error");
  if (!fieldError.hidden && fieldError.dataset.key) fieldError.textContent = t(fieldError.dataset.key);
  if ($("conn").textContent) $("conn").textContent = t("conn.offline");
  render();
  if (state.error) showError(state.error, { focus: false });
  // The notification's language follows the page's.
  if (state.push === "on") state.push = await enablePush(ticketId, code);
}

// -- start ---------------------------------------------------------------------

// The server answers an unknown ticket's page with 404: no need to ask the
// API again (browsers that do not tell the status fall back to asking).
function servedAsNotFound() {
  try {
    const navigation = performance.getEntriesByType("navigation")[0];
    return Boolean(navigation && navigation.responseStatus === 404);
  } catch {
    return false;
  }
}

async function start() {
  let ticket = null;
  let loadError = null;
  if (servedAsNotFound()) state.notFound = true;
  else {
    try {
      ticket = await api("GET", `/tickets/${enc(ticketId)}`);
    } catch (error) {
      if (error.status === 404) state.notFound = true;
      else loadError = error;
    }
  }
  try {
    await startLang($("lang-list"), {
      hint: ticket && ticket.lang,
      onChange: languageChanged,
      onError: () => showError({ code: "network" }), // the page stays in the language it has
    });
  } catch {
    // No catalog: the keys show, which is still better than nothing.
  }
  $("alerts-on").addEventListener("click", turnOnAlerts);
  $("cancel").addEventListener("click", askCancel);
  $("cancel-no").addEventListener("click", keepTicket);
  $("cancel-yes").addEventListener("click", confirmCancel);
  $("rejoin").addEventListener("click", rejoin);
  $("arrive-form").addEventListener("submit", arrive);

  if (ticket) {
    await loadNames(ticket.service);
    const saved = savedTicket(ticket.id);
    if (saved && saved.come_back_by) state.comeBackBy = Date.parse(saved.come_back_by) || null;
    update(ticket);
    startLive();
    pushIfAllowed();
    if (navigator.serviceWorker) {
      // The service worker got a push for this ticket: the socket of a page
      // that was in the background may not have caught up yet.
      navigator.serviceWorker.addEventListener("message", (event) => {
        if (event.data && event.data.type === "push" && !state.notFound) refresh();
      });
    }
  } else {
    render();
    if (loadError) {
      $("loading").hidden = true;
      showError(loadError, { focus: false });
    }
  }
  document.body.dataset.ready = "true";
}

start();
