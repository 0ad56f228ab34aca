// The lobby call display /display/{office} (DESIGN §1, §11).
//
// Data: the office's display configuration (/display/{office}/config.json),
// the public live board (/api/v1/offices/{office}/status) and the office's
// event stream (/ws/offices/{office}/display). Calls are shown the moment
// their event arrives; waiting counts and estimates follow from the board,
// re-read shortly after any change. Nothing comes from another host.

import * as i18n from "./i18n.js";
import { ApiError, enc, fetchJson } from "/static/queue/common/api.js";
import { OfficeEvents } from "/static/queue/common/events.js";
import { waitWording } from "/static/queue/common/wait.js";
import { Announcer } from "./announcer.js";
import { enrolToken, CheckinPanel } from "./checkin.js";

const office = decodeURIComponent(location.pathname.split("/")[2] || "");
const params = new URLSearchParams(location.search);

// Calls replayed after a reconnect are announced only if this recent:
// older ones are shown, but a lobby should not hear a call from ten minutes ago.
const ANNOUNCE_WINDOW_MS = 2 * 60_000;
// A new call stands out this long: one steady colour change, no blinking
// (WCAG 2.3.1 allows at most three flashes a second; this is one in five seconds).
const FRESH_MS = 5000;
const LANG_CYCLE_MS = 10_000;
const STATUS_DEBOUNCE_MS = 300;
const STATUS_POLL_MS = 60_000;
const OFFLINE_GRACE_MS = 1500;
const CONFIG_CACHE_MS = 2500; // the server caches an office's configuration for 2 s
const KEPT_CALLS = 20;
const SOUND_KEY = "madoguchi.display.sound";
const SOUND_MODES = ["on", "quiet", "off"];
const SOUND_LABELS = { on: "sound.on", quiet: "sound.quiet", off: "sound.off" };

const $ = (id) => document.getElementById(id);

const state = {
  config: null,
  tz: "Asia/Tokyo",
  status: null,
  calls: [], // newest first: {key, number, service, counterId, counterName, at, ms, recall}
  heard: new Set(), // keys of calls already announced (or present when the page loaded)
  freshKey: null,
  freshTimer: null,
  currentKey: null,
  langs: ["ja"],
  langIndex: 0,
  waitingPage: 0, // which page of the waiting table shows (when it needs pages)
  serverOffset: 0, // server clock minus this TV's clock, ms
  hellos: 0,
  opens: 0,
  online: false,
  offlineTimer: null,
};

function serverNow() {
  return Date.now() + state.serverOffset;
}

let dayFormat = null;

// The office's calendar date of an instant (ms), as "YYYY-MM-DD" (en-CA
// writes dates that way).
function dayOf(ms) {
  if (!dayFormat || dayFormat.resolvedOptions().timeZone !== state.tz) {
    dayFormat = new Intl.DateTimeFormat("en-CA", {
      timeZone: state.tz, year: "numeric", month: "2-digit", day: "2-digit",
    });
  }
  return dayFormat.format(new Date(ms));
}

// ---- calls --------------------------------------------------------------

function makeCall({ number, service, counter, at, recall }) {
  const ms = Date.parse(at);
  if (!number || !Number.isFinite(ms)) return null;
  const counterId = counter && counter.id ? String(counter.id) : "";
  return {
    key: number + "|" + at,
    number,
    service: service || "",
    counterId,
    counterName: (counter && counter.name) || counterId,
    at,
    ms,
    recall: Boolean(recall),
  };
}

function fromRecent(entry) {
  return entry && makeCall({ number: entry.number, service: entry.service,
    counter: entry.counter, at: entry.at, recall: entry.kind === "recall" });
}

function fromEvent(event) {
  return makeCall({ number: event.ticket && event.ticket.number,
    service: event.ticket && event.ticket.service, counter: event.counter, at: event.at,
    recall: event.type === "ticket.recalled" });
}

// Adds calls to the list (newest first, one entry per event).
function mergeCalls(calls) {
  const byKey = new Map(state.calls.map((c) => [c.key, c]));
  for (const call of calls) if (call) byKey.set(call.key, call);
  state.calls = [...byKey.values()].sort((a, b) => b.ms - a.ms).slice(0, KEPT_CALLS);
}

// What the board shows: today's calls, newest first, each ticket once (a
// recall moves the number back to the top).
function shownCalls() {
  const today = dayOf(serverNow());
  const seen = new Set();
  const out = [];
  for (const call of state.calls) {
    if (seen.has(call.number) || dayOf(call.ms) !== today) continue;
    seen.add(call.number);
    out.push(call);
  }
  const limit = (state.config && state.config.display.recent_calls) || 8;
  return out.slice(0, limit);
}

function counterNames(call) {
  const counter = state.config && state.config.counters.find((c) => c.id === call.counterId);
  return counter ? counter.names : { ja: call.counterName };
}

// A call arrived on the stream: show it, and announce it if it is recent.
function onCall(event) {
  const call = fromEvent(event);
  if (!call) return;
  mergeCalls([call]);
  if (!state.heard.has(call.key) && serverNow() - call.ms <= ANNOUNCE_WINDOW_MS) {
    heard(call);
    highlight(call);
    announcer.enqueue({ number: call.number, counterId: call.counterId,
      counterName: call.counterName, service: call.service, recall: call.recall });
  }
  renderCalls();
}

// Calls found on the board but never seen as events (they were made while
// the display was away and their events are gone): the recent ones are
// announced, oldest first.
function announceMissed() {
  const missed = state.calls.filter((c) => !state.heard.has(c.key)
    && serverNow() - c.ms <= ANNOUNCE_WINDOW_MS).reverse();
  for (const call of missed) {
    onCall({ type: call.recall ? "ticket.recalled" : "ticket.called", at: call.at,
      ticket: { number: call.number, service: call.service },
      counter: { id: call.counterId, name: call.counterName } });
  }
}

function heard(call) {
  state.heard.add(call.key);
  if (state.heard.size > 500) { // a long day: forget the oldest
    state.heard = new Set([...state.heard].slice(-300));
  }
}

function highlight(call) {
  state.freshKey = call.key;
  clearTimeout(state.freshTimer);
  state.freshTimer = setTimeout(() => {
    state.freshKey = null;
    renderCalls();
  }, FRESH_MS);
}

// ---- rendering ----------------------------------------------------------

function renderCalls() {
  const calls = shownCalls();
  const current = calls[0] || null;
  const box = $("current");
  $("current-none").hidden = Boolean(current);
  $("current-call").hidden = !current;
  $("current-recall").hidden = !(current && current.recall);
  box.classList.toggle("fresh", Boolean(current && current.key === state.freshKey));
  if (current) {
    $("current-number").textContent = current.number;
    i18n.putName($("current-counter"), counterNames(current));
    box.dataset.number = current.number;
    box.dataset.counter = current.counterId;
  } else {
    delete box.dataset.number;
    delete box.dataset.counter;
  }
  // The live region's sentence changes only with the call (not with the
  // cycling screen language), so a screen reader reads each call once.
  const key = current ? current.key : null;
  if (key !== state.currentKey) {
    state.currentKey = key;
    $("current-sr").textContent = current
      ? i18n.t(current.recall ? "current.sr_recall" : "current.sr", {
        number: current.number, counter: i18n.pickName(counterNames(current)).text,
      })
      : "";
  }

  const list = $("recent-list");
  const limit = (state.config && state.config.display.recent_calls) || 8;
  const portrait = document.body.dataset.layout === "portrait";
  list.dataset.rows = String(portrait ? Math.ceil(limit / 2) : limit);
  list.replaceChildren(...calls.map((call) => {
    const item = document.createElement("li");
    item.className = "recent-item";
    item.classList.toggle("fresh", call.key === state.freshKey);
    item.dataset.number = call.number;
    item.dataset.counter = call.counterId;
    const number = document.createElement("span");
    number.className = "recent-number";
    number.textContent = call.number;
    const arrow = document.createElement("span");
    arrow.className = "recent-arrow";
    arrow.setAttribute("aria-hidden", "true");
    arrow.textContent = "→";
    const counter = document.createElement("span");
    counter.className = "recent-counter";
    i18n.putName(counter, counterNames(call));
    item.append(number, arrow, counter);
    return item;
  }));
  $("recent-none").hidden = calls.length > 0;
}

function shownServices() {
  if (!state.status) return [];
  const services = state.status.services || [];
  const chosen = state.config && state.config.display.services;
  if (!chosen) return services;
  const byId = new Map(services.map((s) => [s.id, s]));
  return chosen.map((id) => byId.get(id)).filter(Boolean);
}

function renderWaiting() {
  const rows = shownServices().map((service) => {
    const row = document.createElement("tr");
    row.dataset.service = service.id;
    const name = document.createElement("th");
    name.scope = "row";
    const letter = document.createElement("span");
    letter.className = "letter";
    letter.textContent = service.letter;
    const label = document.createElement("span");
    label.className = "service-name";
    i18n.putName(label, service.names);
    name.append(letter, label);
    const people = document.createElement("td");
    people.className = "num people";
    people.textContent = i18n.t("waiting.people", { n: service.waiting });
    const wait = document.createElement("td");
    wait.className = "num wait";
    // A newcomer has everyone waiting ahead of them.
    const said = waitWording(service.waiting, service.estimated_wait_minutes);
    wait.textContent = said.kind === "unknown" ? i18n.t("waiting.unknown")
      : said.kind === "soon" ? i18n.t("waiting.now")
        : i18n.t("waiting.minutes", { n: said.minutes });
    row.append(name, people, wait);
    return row;
  });
  $("waiting-body").replaceChildren(...rows);
  fitWaiting();
}

// Every service shown must be seen whole (a TV has no scroll bar): the
// table's text steps down until it fits its panel; if even the smallest
// does not fit, the rows are shown a page at a time, the page turning every
// few seconds, with "1/2" beside the title.
const WAITING_SCALES = [1, 0.92, 0.84, 0.77, 0.7, 0.64, 0.58, 0.53];
const WAITING_PAGE_MS = 8000;

function fitWaiting() {
  const panel = $("waiting");
  const rows = [...$("waiting-body").rows];
  const note = $("waiting-page");
  for (const row of rows) row.hidden = false;
  note.hidden = true;
  const fits = () => panel.scrollHeight <= panel.clientHeight + 1
    && panel.scrollWidth <= panel.clientWidth + 1;
  for (const scale of WAITING_SCALES) {
    panel.style.setProperty("--waiting-scale", String(scale));
    if (fits()) break;
  }
  let pages = [rows];
  if (!fits() && rows.length > 1) {
    note.hidden = false;
    note.textContent = i18n.t("waiting.page", { page: 9, pages: 9 }); // its widest
    pages = [];
    let page = [];
    for (const row of rows) row.hidden = true;
    for (const row of rows) {
      row.hidden = false;
      if (page.length && !fits()) {
        for (const done of page) done.hidden = true;
        pages.push(page);
        page = [];
      }
      page.push(row);
    }
    pages.push(page);
  }
  const index = state.waitingPage % pages.length;
  for (const row of rows) row.hidden = !pages[index].includes(row);
  note.hidden = pages.length < 2;
  note.textContent = i18n.t("waiting.page", { page: index + 1, pages: pages.length });
  panel.dataset.pages = String(pages.length);
  panel.dataset.page = String(index + 1);
  panel.dataset.fitted = String(fits());
}

function turnWaitingPage() {
  if (Number($("waiting").dataset.pages || 1) < 2) return;
  state.waitingPage += 1;
  fitWaiting();
}

function renderOffice() {
  if (!state.config) return;
  i18n.putName($("office-name"), state.config.names);
  document.title = i18n.t("page.title_office", { office: i18n.pickName(state.config.names).text });
}

function renderSound() {
  $("sound-state").textContent = i18n.t(SOUND_LABELS[announcer.mode]);
}

const clockFormats = new Map();

function clockFormat(kind) {
  const key = kind + "|" + i18n.currentLang() + "|" + state.tz;
  if (!clockFormats.has(key)) {
    const options = kind === "time"
      ? { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }
      : { year: "numeric", month: "long", day: "numeric", weekday: "short" };
    clockFormats.set(key, new Intl.DateTimeFormat(i18n.locale(), { timeZone: state.tz, ...options }));
  }
  return clockFormats.get(key);
}

// The office's local time (the TV may be set to any zone, or be a little
// off: the server's clock, as seen in the board's "at", corrects it).
function renderClock() {
  const now = new Date(serverNow());
  const time = $("clock-time");
  const text = clockFormat("time").format(now);
  if (time.textContent !== text) {
    time.textContent = text;
    time.dateTime = now.toISOString();
  }
  const date = clockFormat("date").format(now);
  if ($("clock-date").textContent !== date) {
    $("clock-date").textContent = date;
    renderCalls(); // a new day starts with an empty board
  }
}

function tickClock() {
  renderClock();
  setTimeout(tickClock, 1000 - (serverNow() % 1000) + 5);
}

function renderAll() {
  i18n.applyI18n();
  renderOffice();
  renderCalls();
  renderWaiting();
  renderSound();
  renderClock();
  checkin.render();
}

// ---- board and configuration -------------------------------------------

function applyStatus(status, receivedAt) {
  if (!status || typeof status !== "object") return;
  state.status = status;
  const at = Date.parse(status.at);
  if (Number.isFinite(at)) state.serverOffset = at - receivedAt;
  mergeCalls((status.recent_calls || []).map(fromRecent));
  renderCalls();
  renderWaiting();
}

let statusTimer = null;
let statusBusy = false;
let statusAgain = false;
let resyncing = false; // the next board read follows a resync

async function loadStatus() {
  if (statusBusy) {
    statusAgain = true;
    return;
  }
  statusBusy = true;
  try {
    const sent = Date.now();
    const after = resyncing;
    const status = await fetchJson(`/api/v1/offices/${enc(office)}/status`);
    applyStatus(status, (sent + Date.now()) / 2);
    if (after) {
      resyncing = false;
      announceMissed();
    }
  } catch (err) {
    // The server is unreachable although the socket looks open: it may be
    // half dead (a TV's network can drop without a close). Start over.
    if (err instanceof ApiError && err.code === "network" && socket.open) socket.reconnect();
  } finally {
    statusBusy = false;
    if (statusAgain) {
      statusAgain = false;
      scheduleStatus();
    }
  }
}

// Many events come in bursts (a call finishes one ticket and calls
// another): one board read after the burst.
function scheduleStatus(delay = STATUS_DEBOUNCE_MS) {
  if (statusTimer !== null) return;
  statusTimer = setTimeout(() => {
    statusTimer = null;
    loadStatus();
  }, delay);
}

function applyConfig(config) {
  state.config = config;
  state.tz = config.timezone || "Asia/Tokyo";
  const display = config.display;
  const body = document.body;
  // A TV may override the office's layout and theme (?layout=portrait for a
  // screen mounted on its side, ?theme=light near a window).
  const layout = params.get("layout");
  const theme = params.get("theme");
  body.dataset.layout = ["landscape", "portrait"].includes(layout) ? layout : display.layout;
  body.dataset.theme = ["dark", "light"].includes(theme) ? theme : display.theme;
  body.dataset.callStyle = display.call_style;
  announcer.configure({ languages: display.languages, volume: display.volume,
    counters: config.counters });
}

async function loadLanguages() {
  // ?lang= pins one TV's screen to one language (a desk for foreign
  // residents); announcements still speak the office's languages.
  const pinned = i18n.askedLang();
  const wanted = pinned ? [pinned]
    : state.config.display.languages.filter((l) => i18n.LANGS.includes(l));
  // The spoken languages' catalogs too: the browser's fallback speech reads them.
  const spoken = state.config.display.languages.filter((l) => i18n.LANGS.includes(l));
  await Promise.allSettled([...new Set([...wanted, ...spoken])].map((l) => i18n.load(l)));
  const ready = wanted.filter((l) => i18n.loaded(l));
  state.langs = ready.length ? ready : ["ja"];
  state.langIndex = 0;
  i18n.setLang(state.langs[0]);
}

async function reloadConfig() {
  try {
    applyConfig(await fetchJson(`/display/${enc(office)}/config.json`));
    await loadLanguages();
  } catch {
    return; // keep the configuration we have; the next change tries again
  }
  renderAll();
  scheduleStatus(0);
}

// The screen's texts cycle through the office's languages.
function cycleLanguage() {
  if (state.langs.length > 1) {
    state.langIndex = (state.langIndex + 1) % state.langs.length;
    i18n.setLang(state.langs[state.langIndex]);
    renderAll();
  }
}

// ---- the live stream ----------------------------------------------------

function onMessage(msg) {
  const type = msg.type;
  if (type === "hello") {
    applyStatus(msg.status, Date.now()); // the socket resumes after its last_event
    state.hellos += 1;
    // The stream is live: calls from now on arrive as events (and are announced).
    document.body.dataset.live = "true";
    if (state.hellos === 1) {
      // What was called before the page loaded is shown, not announced.
      for (const call of state.calls) state.heard.add(call.key);
    } else {
      // A fresh start after a reconnect (the stream had no event id to
      // resume from): what was called meanwhile is only on the board.
      announceMissed();
    }
  } else if (type === "resync") {
    // Events were trimmed from the stream while we were away: the board
    // has the calls among them.
    resyncing = true;
    scheduleStatus(0);
  } else if (type === "ticket.called" || type === "ticket.recalled") {
    onCall(msg);
    scheduleStatus();
  } else if (type === "config.changed") {
    setTimeout(reloadConfig, CONFIG_CACHE_MS);
  } else if (typeof type === "string" && (type.startsWith("ticket.") || type.startsWith("counter."))) {
    scheduleStatus();
  }
}

function setOnline(online) {
  state.online = online;
  clearTimeout(state.offlineTimer);
  state.offlineTimer = null;
  $("offline").hidden = online;
  document.body.dataset.online = String(online);
}

function onOpen() {
  setOnline(true);
  state.opens += 1;
  if (state.opens > 1) {
    // Back after a break: the check-in code may have changed, and waiting
    // counts and estimates did; the missed calls come as replayed events.
    checkin.refresh();
    scheduleStatus(0);
  }
}

function onClose() {
  // A blip (a server restart behind a proxy) should not flash a banner;
  // anything longer is shown plainly. The last board stays visible.
  if (state.offlineTimer === null && state.online) {
    state.offlineTimer = setTimeout(() => setOnline(false), OFFLINE_GRACE_MS);
  }
}

// ---- sound --------------------------------------------------------------

function storedSound() {
  try {
    const mode = localStorage.getItem(SOUND_KEY);
    return SOUND_MODES.includes(mode) ? mode : "on";
  } catch {
    return "on";
  }
}

function setSound(mode) {
  announcer.setMode(mode);
  document.body.dataset.sound = mode;
  try {
    localStorage.setItem(SOUND_KEY, mode);
  } catch {
    // storage disabled: the choice lasts for this page load
  }
  renderSound();
}

function nextSound() {
  setSound(SOUND_MODES[(SOUND_MODES.indexOf(announcer.mode) + 1) % SOUND_MODES.length]);
}

let overlayUsed = false;

// Shown once: the browser refused to play sound before a user gesture (a
// TV not started in kiosk mode). One click unlocks sound for the page.
function askForSound() {
  if (overlayUsed || announcer.mode === "off") return;
  overlayUsed = true;
  $("sound-overlay").hidden = false;
  document.body.dataset.soundBlocked = "true";
  $("sound-enable").focus();
}

function soundEnabled() {
  announcer.unlock();
  $("sound-overlay").hidden = true;
  document.body.dataset.soundBlocked = "false";
  // The button that had focus is gone: focus the sound control, not the page.
  $("sound-toggle").focus();
}

// ---- start --------------------------------------------------------------

// The token leaves the address bar before anything else happens.
const token = enrolToken(office);
const announcer = new Announcer({ office, log: $("announce-log"), onBlocked: askForSound });
const checkin = new CheckinPanel(office, token, serverNow);
const socket = new OfficeEvents(office, { onEvent: onMessage, onOpen, onClose });
const soundRefused = announcer.refusedAtStart();

function wait(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Retries `load` with back-off while the server cannot be reached (a TV
// may boot before the server does); a refusal (404) ends it.
async function persist(load) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await load();
    } catch (err) {
      if (err instanceof ApiError && err.status >= 400 && err.status < 500) throw err;
      if (attempt >= 2 && i18n.loaded("ja")) setOnline(false);
      await wait(Math.min(30_000, 500 * 2 ** attempt) * (0.5 + Math.random() * 0.5));
    }
  }
}

async function boot() {
  await persist(() => i18n.load("ja"));
  i18n.setLang("ja");
  i18n.applyI18n();
  setSound(storedSound());
  $("sound-toggle").addEventListener("click", nextSound);
  $("sound-enable").addEventListener("click", soundEnabled);
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.altKey || event.metaKey || event.repeat) return;
    if (event.code === "KeyM" || event.key === "m" || event.key === "M") {
      event.preventDefault();
      nextSound();
    }
  });

  let config;
  try {
    config = await persist(() => fetchJson(`/display/${enc(office)}/config.json`));
  } catch (err) {
    $("fatal").textContent = i18n.t(err.status === 404 ? "error.unknown_office" : "error.config");
    $("fatal").hidden = false;
    document.body.dataset.ready = "true";
    return;
  }
  applyConfig(config);
  await loadLanguages();
  setOnline(true);
  renderAll();
  tickClock();
  setInterval(cycleLanguage, LANG_CYCLE_MS);
  setInterval(loadStatus, STATUS_POLL_MS);
  checkin.start();
  new ResizeObserver(fitWaiting).observe($("main"));
  setInterval(turnWaitingPage, WAITING_PAGE_MS);
  socket.start();
  if (soundRefused) askForSound();
  document.body.dataset.ready = "true";
}

boot();
