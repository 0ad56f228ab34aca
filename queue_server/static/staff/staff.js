// The staff console /staff (issue 5): a clerk at one counter calls, serves
// and moves tickets, one key per action.
//
// The screen always shows what the server said last: every action is one
// request, answered by reading the counter board again (success or not),
// so a refused action (another counter took the ticket a moment ago, the
// counter is paused, the screen was stale) leaves nothing half-done. The
// office's event socket only says when to read the board again. One action
// at a time: keys pressed while one is on its way are refused and said so.

import { newIdempotencyKey, UNKNOWN_OUTCOME } from "../common/api.js";
import { OfficeEvents } from "../common/events.js";
import {
  applyI18n, chooseLang, formatTime, markLangSwitch, renderLangSwitch, setLang, t, useCatalogs,
} from "../login/i18n.js";
import { clearError, errorOf, setStatus, showError } from "../login/messages.js";
import { api, getSession, loginUrl, logout } from "../login/session.js";
import { installDialog, openDialog, renderChoices } from "./dialogs.js";
import { staffErrorText } from "./errors.js";
import { installKeys } from "./keys.js";
import { TicketList } from "./lists.js";
import { isProblem, kioskLabel, printerText, renderPrinters } from "./printers.js";
import { fromAddress, remember, remembered } from "./remember.js";
import {
  blocker, describeNoShow, describeParked, describeQueued, renderActions, renderCurrent,
  renderHeader, renderLists,
} from "./render.js";
import { counterName, nameOf, officeName, serviceName, state } from "./state.js";

useCatalogs(["login", "staff"]);

const $ = (id) => document.getElementById(id);
// Events come in bursts (a call is ticket.called + counter state): one read.
const REFRESH_DEBOUNCE_MS = 150;
// Waiting minutes grow without events, and a lost event must not last.
const SAFETY_REFRESH_MS = 30_000;
// A socket that has not opened by then is reported as offline.
const CONNECT_GRACE_MS = 5_000;
// The longest wait between two attempts at the event socket.
const LIVE_CAP_MS = 15_000;
// A board read that did not reach the server is tried again after this.
const RETRY_MS = 2_000;

let live = null;
let lists = null;
let boardSeq = 0; // the last board request sent
let boardShown = 0; // the request whose answer is on screen
let refreshTimer = null;
let printersTimer = null;
let announcePrinters = false;
let graceTimer = null;
let linkDown = false; // the socket closed, or never opened
let fetchFailed = false; // the last board read did not reach the server
let actionsDone = 0;
let boardsShown = 0;
let message = null; // {kind, text()}: said again in a newly chosen language
let pendingConfirm = null;
let sessionOver = false;

const officePath = (office = state.office) => `/api/v1/offices/${encodeURIComponent(office)}`;
const counterPath = () => `${officePath()}/counters/${encodeURIComponent(state.counter)}`;

// --- messages (#status: results, #alert: refusals), kept for re-translation

function say(text) {
  message = { kind: "status", text };
  clearError();
  const value = text();
  const box = $("status");
  // The same sentence twice ("nobody is waiting") must be announced twice.
  setStatus(box.textContent === value ? value + "\u00a0" : value);
}

function complain(text) {
  message = { kind: "error", text };
  showError(text());
}

function fail(error, about = {}) {
  complain(() => staffErrorText(error.code, error.details,
    { office: officeName(state.office), ...about }));
}

function sayAgain() {
  if (!message) return;
  if (message.kind === "status") setStatus(message.text());
  else showError(message.text());
}

// --- the server

// One request through session.js (cookie, CSRF header, 401 → login page).
// → {ok, status, body} or {ok: false, error: {code, details}}; never throws.
// A change (call, finish, transfer, …) goes with one Idempotency-Key, and
// again with the same key while its outcome is unknown (the server said
// outcome_unknown, or no answer came): a retried call-next returns the
// ticket it called instead of skipping one. run() reads the board afterwards
// whatever the answer, so the clerk sees what happened before acting again.
const ACT_TRIES = 3;
const ACT_PAUSE_MS = 1000;

async function call(path, options = {}) {
  if (!options.method || options.method === "GET") return callOnce(path, options);
  const headers = { ...(options.headers || {}), "Idempotency-Key": newIdempotencyKey() };
  let result;
  for (let attempt = 1; ; attempt += 1) {
    result = await callOnce(path, { ...options, headers });
    if (result.ok || attempt >= ACT_TRIES || sessionOver
        || !UNKNOWN_OUTCOME.has(result.error.code)) return result;
    await new Promise((resolve) => setTimeout(resolve, ACT_PAUSE_MS * attempt));
  }
}

async function callOnce(path, options = {}) {
  // Once the session is over, nothing more is sent: the page is leaving,
  // and one more 401 would send it to the login page without the reason.
  if (sessionOver) {
    return { ok: false, status: 401, error: { code: "session_expired", details: {} } };
  }
  let response;
  try {
    response = await api(path, options);
  } catch {
    return { ok: false, status: 0, error: { code: "network", details: {} } };
  }
  if (response.status === 401) {
    sessionOver = true;
    // The session is over. api() is already on its way to the login page;
    // this asks it to say why (the login page explains ?error= codes), and
    // brings the clerk back to this very counter afterwards.
    location.assign(`${loginUrl()}&error=session_expired`);
  }
  if (!response.ok) {
    return { ok: false, status: response.status, error: await errorOf(response) };
  }
  let body = null;
  if (response.status !== 204) {
    try {
      body = await response.json();
    } catch {
      body = null;
    }
  }
  return { ok: true, status: response.status, body };
}

async function loadConfig(office) {
  return call(`/staff/${encodeURIComponent(office)}/config.json`);
}

async function loadOffices() {
  const user = state.session.user;
  const result = await call("/api/v1/offices");
  const all = result.ok ? result.body.offices : [];
  state.allOffices = all;
  state.offices = user.offices.includes("*") ? all
    : user.offices.map((id) => all.find((o) => o.id === id) || { id, names: null });
}

// Reads the board; an answer older than the one on screen, or for another
// counter than the one now chosen, is dropped.
async function loadBoard() {
  if (!state.office || !state.counter) return;
  const seq = ++boardSeq;
  const where = `${state.office}/${state.counter}`;
  const result = await call(`${counterPath()}/board`);
  if (seq < boardShown || where !== `${state.office}/${state.counter}`) return;
  if (!result.ok) {
    const code = result.error.code;
    fetchFailed = code === "network" || code === "unavailable";
    // Not reached: try again soon (the banner says so meanwhile).
    if (fetchFailed) scheduleRefresh(RETRY_MS);
    if (code === "forbidden" || code === "unknown_counter" || code === "unknown_office") {
      boardShown = seq;
      shutOut(result.error);
    }
    renderConnection();
    return;
  }
  fetchFailed = false;
  boardShown = seq;
  state.board = result.body;
  $("console").hidden = false;
  render();
  boardsShown += 1;
  document.body.dataset.boards = String(boardsShown);
}

function scheduleRefresh(delay = REFRESH_DEBOUNCE_MS) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(loadBoard, delay);
}

async function loadPrinters() {
  const office = state.office;
  if (!office) return;
  const result = await call(`${officePath(office)}/printers`);
  // A side panel: when it cannot be read, the console goes on without it.
  if (!result.ok || office !== state.office) return;
  const before = new Map(state.printers.map((p) => [p.kiosk, p]));
  state.printers = result.body.printers;
  renderPrinterBanner();
  if (announcePrinters) {
    announcePrinters = false;
    const news = state.printers.filter((p) => {
      const old = before.get(p.kiosk);
      return (isProblem(p.state) && (!old || old.state !== p.state))
        || p.failed.length > (old ? old.failed.length : 0);
    });
    if (news.length) {
      $("printers-live").textContent = news.map((p) => printerText(p)
        + (p.failed.length ? " " + t("staff.printer.failed", { count: p.failed.length }) : ""))
        .join(" ");
    }
  }
}

function schedulePrinters(announce) {
  announcePrinters = announcePrinters || announce;
  clearTimeout(printersTimer);
  printersTimer = setTimeout(loadPrinters, REFRESH_DEBOUNCE_MS);
}

// --- live events

function onEvent(msg) {
  const type = typeof msg.type === "string" ? msg.type : "";
  if (type === "print.done") {
    schedulePrinters(msg.ok === false);
    return;
  }
  if (type === "printer.status") {
    schedulePrinters(isProblem(msg.state));
    return;
  }
  if (type === "config.changed") reloadConfig();
  if (type === "hello" || type === "resync" || type === "config.changed"
      || type === "counter.changed" || type.startsWith("ticket.") || type.startsWith("booking.")) {
    scheduleRefresh();
  }
}

function onLinkState(online) {
  state.online = online;
  clearTimeout(graceTimer);
  linkDown = !online;
  if (online) {
    // Whatever happened while away: read it all again.
    scheduleRefresh();
    schedulePrinters(false);
  }
  renderConnection();
  renderHeader();
}

function startLive() {
  if (live) live.stop();
  state.online = false;
  linkDown = false;
  // The office's public events are a nudge to read the board again, not data
  // to build the screen from (they carry no ticket ids). onLinkState hears
  // of changes only (a failed attempt while down is not news).
  let linkUp = false;
  const link = (up) => {
    if (up === linkUp) return;
    linkUp = up;
    onLinkState(up);
  };
  live = new OfficeEvents(state.office, {
    onEvent,
    onOpen: () => link(true),
    onClose: () => link(false),
    capMs: LIVE_CAP_MS,
  });
  live.start();
  clearTimeout(graceTimer);
  graceTimer = setTimeout(() => {
    if (!state.online) {
      linkDown = true;
      renderConnection();
    }
  }, CONNECT_GRACE_MS);
}

async function reloadConfig() {
  const office = state.office;
  const result = await loadConfig(office);
  if (result.ok && office === state.office) {
    state.config = result.body;
    render();
  }
}

// --- drawing

function renderConnection() {
  $("offline").hidden = !state.office || !(linkDown || fetchFailed);
}

function renderPrinterBanner() {
  renderPrinters($("printers"), $("printer-list"), state.printers, reprint);
}

function render() {
  renderHeader();
  renderCurrent();
  renderActions();
  renderLists(lists);
  renderPrinterBanner();
  renderConnection();
}

function setBusy(busy) {
  state.busy = busy;
  document.body.dataset.busy = String(busy);
  $("main").setAttribute("aria-busy", String(busy));
  renderActions();
}

// Where this account may not work (403), or the counter is gone: said
// plainly, and nothing of that office stays on screen.
function shutOut(error, office = state.office) {
  state.board = null;
  $("console").hidden = true;
  complain(() => staffErrorText(error.code, error.details, { office: officeName(office) })
    + " " + t("staff.hint.choose_counter"));
  render();
}

// --- actions

// Runs one action: refuses while another is on its way, and reads the
// board again afterwards whatever the answer was.
async function run(work) {
  if (state.busy) {
    say(() => t("staff.busy"));
    return;
  }
  setBusy(true);
  try {
    await work();
  } finally {
    await loadBoard();
    setBusy(false);
    actionsDone += 1;
    document.body.dataset.actions = String(actionsDone);
  }
}

function callNext() {
  const before = state.board.current;
  // The line may hold only bookings that came early: they wait for their
  // slot (booking.early_call), and the clerk is told until when.
  const next = state.board.queue[0];
  const until = next && next.callable_from ? next : null;
  return run(async () => {
    const result = await call(`${counterPath()}/call-next`, { method: "POST" });
    if (!result.ok) {
      fail(result.error);
    } else if (result.status === 204 && until) {
      say(() => t("staff.result.nobody_until", {
        number: until.number, time: formatTime(until.callable_from),
      }));
    } else if (result.status === 204) {
      say(() => (before ? t("staff.result.finished_nobody", { number: before.number })
        : t("staff.result.nobody")));
    } else {
      const ticket = result.body;
      say(() => t("staff.result.called", {
        number: ticket.number, service: serviceName(ticket.service),
      }));
    }
  });
}

// recall, start, finish, no-show, park: on the ticket this screen shows,
// named in the request so a stale screen gets ticket_mismatch.
function ticketAction(action, okKey) {
  const ticket = state.board.current;
  return run(async () => {
    const result = await call(`${counterPath()}/${action}`, {
      method: "POST", body: { ticket: ticket.id },
    });
    if (result.ok) say(() => t(okKey, { number: ticket.number }));
    else fail(result.error, { number: ticket.number });
  });
}

function openTransfer() {
  const ticket = state.board.current; // the ticket the dialog is about, whatever comes later
  const config = state.config;
  $("transfer-h").textContent = t("staff.transfer.heading_number", { number: ticket.number });
  const services = config.services.filter((s) => s.id !== ticket.service).map((s) => ({
    label: `${nameOf(s.names, s.id)} (${s.letter})`,
    onChoose: () => transfer(ticket, { service: s.id }, serviceName(s.id)),
  }));
  const counters = config.counters.filter((c) => c.id !== state.counter).map((c) => ({
    label: nameOf(c.names, c.id),
    detail: c.services.map((id) => serviceName(id)).join("・"),
    onChoose: () => transfer(ticket, { counter: c.id }, counterName(c.id)),
  }));
  const next = renderChoices($("transfer-services"), services, 1);
  renderChoices($("transfer-counters"), counters, next);
  openDialog($("transfer"));
}

function transfer(ticket, target, targetName) {
  $("transfer").close();
  return run(async () => {
    const result = await call(`${counterPath()}/transfer`, {
      method: "POST", body: { ticket: ticket.id, ...target },
    });
    if (result.ok) {
      say(() => t("staff.result.transferred", { number: ticket.number, target: targetName }));
    } else {
      fail(result.error, { number: ticket.number });
    }
  });
}

function setCounterState(action, okKey) {
  return run(async () => {
    const result = await call(`${counterPath()}/${action}`, { method: "POST" });
    if (result.ok) say(() => t(okKey, { counter: counterName(state.counter) }));
    else fail(result.error);
  });
}

function toggleCounter() {
  const open = state.board.counter.state === "open";
  return open ? setCounterState("pause", "staff.result.paused")
    : setCounterState("open", "staff.result.opened");
}

function resume(ticket) {
  return run(async () => {
    const result = await call(`${counterPath()}/resume`, {
      method: "POST", body: { ticket: ticket.id },
    });
    if (result.ok) say(() => t("staff.result.resumed", { number: ticket.number }));
    else fail(result.error, { number: ticket.number });
  });
}

function rejoin(ticket) {
  return run(async () => {
    const result = await call(`/api/v1/tickets/${encodeURIComponent(ticket.id)}/rejoin`, {
      method: "POST",
    });
    if (result.ok) say(() => t("staff.result.rejoined", { number: ticket.number }));
    else fail(result.error, { number: ticket.number });
  });
}

function confirmCancel(ticket) {
  if (state.busy) return say(() => t("staff.busy"));
  $("confirm-text").textContent = t("staff.confirm.cancel_text", {
    number: ticket.number, service: serviceName(ticket.service),
  });
  const yes = $("confirm-yes");
  yes.textContent = t("staff.confirm.cancel_yes", { number: ticket.number });
  pendingConfirm = () => cancelTicket(ticket);
  openDialog($("confirm"), yes);
  return null;
}

function cancelTicket(ticket) {
  return run(async () => {
    const result = await call(`${counterPath()}/cancel`, {
      method: "POST", body: { ticket: ticket.id },
    });
    if (result.ok) say(() => t("staff.result.cancelled", { number: ticket.number }));
    else fail(result.error, { number: ticket.number });
  });
}

function openIssue() {
  const config = state.config;
  const services = config.services.filter((s) => s.walk_in).map((s) => ({
    label: `${nameOf(s.names, s.id)} (${s.letter})`,
    onChoose: () => issue(s),
  }));
  renderChoices($("issue-services"), services, 1);
  $("issue-priority").checked = false;
  $("issue-lang").value = "ja";
  const select = $("issue-print");
  const none = new Option(t("staff.issue.no_print"), "");
  select.replaceChildren(none, ...state.printers.map((p) => new Option(
    t(isProblem(p.state) ? "staff.issue.print_on_broken" : "staff.issue.print_on",
      { kiosk: kioskLabel(p) }), p.kiosk)));
  $("issue-print-field").hidden = state.printers.length === 0;
  openDialog($("issue"));
}

function issue(service) {
  const priority = $("issue-priority").checked;
  const lang = $("issue-lang").value;
  const kiosk = $("issue-print").value;
  $("issue").close();
  return run(async () => {
    const result = await call(`${officePath()}/tickets`, {
      method: "POST", body: { service: service.id, priority, lang },
    });
    if (!result.ok) {
      fail(result.error);
      return;
    }
    const ticket = result.body;
    const words = {
      number: ticket.number, service: serviceName(service.id), ahead: ticket.ahead ?? 0,
    };
    if (!kiosk) {
      say(() => t("staff.result.issued", words));
      return;
    }
    const printed = await call(`/api/v1/tickets/${encodeURIComponent(ticket.id)}/print`, {
      method: "POST", body: { kiosk },
    });
    // The ticket exists either way: say so, and whether the paper follows.
    if (printed.ok) say(() => t("staff.result.issued_printing", words));
    else complain(() => t("staff.result.issued_not_printed", words));
  });
}

function reprint(printer, failed) {
  return run(async () => {
    const result = await call(`/api/v1/tickets/${encodeURIComponent(failed.ticket)}/print`, {
      method: "POST", body: { kiosk: printer.kiosk },
    });
    if (result.ok) {
      say(() => t("staff.result.reprinting", {
        number: failed.number, kiosk: kioskLabel(printer),
      }));
    } else {
      fail(result.error, { number: failed.number });
    }
    await loadPrinters();
  });
}

const ACTIONS = {
  call: callNext,
  recall: () => ticketAction("recall", "staff.result.recalled"),
  start: () => ticketAction("start", "staff.result.started"),
  finish: () => ticketAction("finish", "staff.result.finished"),
  noshow: () => ticketAction("no-show", "staff.result.no_show"),
  park: () => ticketAction("park", "staff.result.parked"),
  transfer: openTransfer,
  toggle: toggleCounter,
  close: () => setCounterState("close", "staff.result.closed"),
  issue: openIssue,
};

// A key or a button: says at once why an action cannot run now, else runs it.
function action(name) {
  if (name === "picker") {
    openPicker();
    return;
  }
  if (state.busy) {
    say(() => t("staff.busy"));
    return;
  }
  if (!state.board || !state.config) {
    complain(() => t("staff.why.no_board"));
    return;
  }
  const why = blocker(name);
  if (why) {
    const number = state.board.current ? state.board.current.number : "";
    complain(() => t(why, { number }));
    return;
  }
  ACTIONS[name]();
}

// --- office and counter

async function renderPickerCounters(office) {
  const alert = $("picker-alert");
  alert.textContent = "";
  delete $("picker-counters").dataset.office; // until this office's counters are in
  const result = await loadConfig(office);
  if ($("picker-office").value !== office && state.offices.length > 1) return; // changed again
  if (!result.ok) {
    alert.textContent = staffErrorText(result.error.code, result.error.details,
      { office: officeName(office) });
    renderChoices($("picker-counters"), []);
    return;
  }
  const config = result.body;
  $("picker-counters").dataset.office = office;
  renderChoices($("picker-counters"), config.counters.map((c) => ({
    label: nameOf(c.names, c.id),
    detail: c.services.map((id) => serviceName(id, config)).join("・"),
    current: office === state.office && c.id === state.counter,
    onChoose: () => {
      $("picker").close();
      // Focus lands on the counter's name, not on the page (nor on the call
      // button, where a stray Enter would call someone).
      $("counter-name").focus();
      choose(office, c.id, config);
    },
  })));
}

async function openPicker(office = null) {
  const select = $("picker-office");
  select.replaceChildren(...state.offices.map((o) => new Option(nameOf(o.names, o.id), o.id)));
  $("picker-office-field").hidden = state.offices.length <= 1;
  const ids = state.offices.map((o) => o.id);
  const wanted = [office, state.office].find((id) => id && ids.includes(id)) || ids[0];
  if (!wanted) {
    complain(() => t("staff.error.no_offices"));
    return;
  }
  select.value = wanted;
  await renderPickerCounters(wanted);
  openDialog($("picker"));
}

// Works at `counter` of `office` from now on (this window; remembered).
async function choose(office, counter, config = null) {
  if (!config) {
    const result = await loadConfig(office);
    if (!result.ok) {
      shutOut(result.error, office);
      return false;
    }
    config = result.body;
  }
  if (!config.counters.some((c) => c.id === counter)) {
    shutOut({ code: "unknown_counter", details: {} }, office);
    return false;
  }
  const newOffice = office !== state.office || !live;
  state.office = office;
  state.counter = counter;
  state.config = config;
  state.board = null;
  boardShown = boardSeq; // nothing read for the previous counter is shown now
  remember(office, counter);
  if (newOffice) {
    state.printers = [];
    startLive();
  }
  clearError();
  render();
  await Promise.all([loadBoard(), loadPrinters()]);
  if (state.board) {
    say(() => t("staff.result.counter_chosen", {
      counter: counterName(counter), office: officeName(office),
    }));
  }
  return true;
}

// --- start-up

async function chooseLanguage(code) {
  await setLang(code, { remember: true });
  applyI18n();
  markLangSwitch($("lang-list"));
  render();
  sayAgain();
}

function makeLists() {
  const cancel = { key: "cancel", cls: "cancel-row", label: () => t("staff.row.cancel"),
    run: confirmCancel };
  const make = (name, describe, actions) => new TicketList($(name), {
    heading: $(`${name}-h`), help: $(`${name}-help`), describe, actions,
  });
  return {
    queue: make("queue", describeQueued, [cancel]),
    parked: make("parked", describeParked, [
      { key: "primary", cls: "primary-row", label: () => t("staff.row.resume"), run: resume },
      cancel,
    ]),
    noshows: make("noshows", describeNoShow, [
      { key: "primary", cls: "primary-row", label: () => t("staff.row.rejoin"), run: rejoin },
      cancel,
    ]),
  };
}

function wire() {
  for (const button of document.querySelectorAll("button.act[data-action]")) {
    button.addEventListener("click", () => action(button.dataset.action));
  }
  $("change-counter").addEventListener("click", () => openPicker());
  $("logout").addEventListener("click", () => logout());
  $("picker-office").addEventListener("change", (event) => {
    renderPickerCounters(event.target.value);
  });
  $("confirm-yes").addEventListener("click", () => {
    const confirmed = pendingConfirm;
    pendingConfirm = null;
    $("confirm").close();
    if (confirmed) confirmed();
  });
  $("confirm").addEventListener("close", () => {
    pendingConfirm = null;
  });
  for (const id of ["picker", "transfer", "issue", "confirm"]) installDialog($(id));
  installKeys({
    action,
    list: (name) => {
      if (state.board) lists[name].focus({ first: true });
    },
    // Back to "nothing focused", where every shortcut (Space too) works.
    escape: () => {
      if (document.activeElement && document.activeElement !== document.body) {
        document.activeElement.blur();
      }
    },
  });
}

async function start() {
  await setLang(chooseLang());
  renderLangSwitch($("lang-list"), chooseLanguage);
  applyI18n();
  lists = makeLists();
  wire();
  const session = await getSession();
  if (!session) return; // on the way to the login page
  state.session = session;
  await loadOffices();
  render();
  const asked = fromAddress();
  const saved = remembered();
  const mine = (choice) => choice && state.offices.some((o) => o.id === choice.office);
  if (asked && asked.counter) {
    // Asked for by address: tried, and a refusal (403) is said plainly.
    await choose(asked.office, asked.counter);
  } else if (mine(saved) && saved.counter && !asked) {
    await choose(saved.office, saved.counter);
  } else {
    say(() => t("staff.hint.choose_counter"));
    await openPicker(asked ? asked.office : saved && saved.office);
  }
  setInterval(() => {
    if (!state.busy) loadBoard();
  }, SAFETY_REFRESH_MS);
  document.body.dataset.ready = "true";
}

start().catch(() => {
  // The server could not be asked who is logged in (it is down or
  // unreachable): say so rather than show an empty page; a reload retries.
  complain(() => t("error.unavailable"));
  document.body.dataset.ready = "true";
});
