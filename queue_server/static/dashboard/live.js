// The live dashboard (/dashboard): one office in detail, or every office
// the account may see as one card each.
//
// Each office shown has its own event socket; an event does not carry the
// board, so it triggers a fetch of /status, debounced (a burst of events,
// a caught-up replay after a reconnect, costs one fetch). With more offices
// than MAX_SOCKETS the overview polls /status instead. Elapsed times are
// counted on the server's clock (the offset from the status's `at`), so a
// PC whose clock is wrong still shows how long a citizen has been served.

import { OfficeEvents } from "../common/events.js";
import { t } from "../login/i18n.js";
import { clearError, showError } from "../login/messages.js";
import { isNone, minutes, number, people, timeOfDay } from "./format.js";
import {
  ALL, chooseOffice, fillOfficeSelect, getJson, nameIn, problemText, renderChrome,
  showInAddress, startChrome,
} from "./page.js";

const MAX_SOCKETS = 8; // Kitakyushu's seven ward offices each get a socket
const POLL_MS = 5_000;
const SAFETY_MS = 30_000; // longest waits grow without events; missed events heal
const DEBOUNCE_MS = 250;
const TICK_MS = 15_000; // elapsed minutes move on between events
const RELEVANT = /^(ticket\.|counter\.changed$)/;

const select = document.getElementById("office");
const overview = document.getElementById("overview");
const detail = document.getElementById("detail");
const cardsList = document.getElementById("cards");
const connection = document.getElementById("connection");

let offices = [];
let selected = null;
const feeds = new Map(); // office id -> Feed
const cards = new Map(); // office id -> {item, link, body}

function officeById(id) {
  return offices.find((o) => o.id === id);
}

class Feed {
  constructor(office, live) {
    this.office = office;
    this.status = null;
    this.offset = 0; // server clock minus this PC's clock, in ms
    this.connected = null; // null: never connected yet
    this.failed = false;
    this.timer = null;
    this.busy = false;
    this.again = false;
    this.socket = null;
    this.quiet = false; // dropping a half-open attempt: not news
    if (live) {
      // The page itself listens for the network coming back (reconnectNow).
      this.socket = new OfficeEvents(office, {
        onEvent: (msg) => this.message(msg),
        onOpen: () => this.linkState(true),
        onClose: () => {
          if (!this.quiet) this.linkState(false);
        },
        network: false,
      });
      this.socket.start();
      this.interval = setInterval(() => this.refresh(), SAFETY_MS);
    } else {
      this.refresh();
      this.interval = setInterval(() => this.refresh(), POLL_MS);
    }
  }

  linkState(up) {
    const resumed = up && this.connected === false;
    this.connected = up;
    if (resumed) this.refreshSoon(); // whatever changed while away
    renderConnection();
    renderOffice(this.office);
  }

  // The network came back: try at once rather than at the end of a back-off.
  reconnectNow() {
    if (!this.socket || this.socket.open) return;
    this.quiet = true;
    try {
      this.socket.reconnect();
    } finally {
      this.quiet = false;
    }
  }

  message(msg) {
    if (msg.type === "hello" && msg.status) {
      this.apply(msg.status);
    } else if (msg.type === "resync") {
      this.refreshSoon(0);
    } else if (msg.type === "config.changed") {
      reloadOffices();
      this.refreshSoon();
    } else if (typeof msg.type === "string" && RELEVANT.test(msg.type)) {
      this.refreshSoon();
    }
  }

  refreshSoon(delay = DEBOUNCE_MS) {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.refresh();
    }, delay);
  }

  async refresh() {
    if (this.busy) {
      this.again = true; // one more fetch after this one, for what it missed
      return;
    }
    this.busy = true;
    try {
      this.apply(await getJson(`/api/v1/offices/${encodeURIComponent(this.office)}/status`));
      this.failed = false;
    } catch {
      this.failed = true;
      renderConnection();
      renderOffice(this.office);
    } finally {
      this.busy = false;
      if (this.again) {
        this.again = false;
        this.refreshSoon();
      }
    }
  }

  apply(status) {
    this.status = status;
    const at = Date.parse(status.at);
    if (!Number.isNaN(at)) this.offset = at - Date.now();
    renderOffice(this.office);
    if (this.failed) renderConnection();
  }

  serverNow() {
    return Date.now() + this.offset;
  }

  stop() {
    if (this.socket) this.socket.stop();
    clearInterval(this.interval);
    clearTimeout(this.timer);
  }
}

// --- what a status says

function serviceName(office, id) {
  const service = office && office.services.find((s) => s.id === id);
  return service ? `${service.letter} ${nameIn(service.names)}` : id;
}

function counterName(office, counter) {
  const known = office && office.counters.find((c) => c.id === counter.id);
  return known ? nameIn(known.names) : counter.name || counter.id;
}

function elapsedMinutes(feed, since) {
  const start = Date.parse(since);
  if (Number.isNaN(start)) return null;
  return Math.max(0, Math.floor((feed.serverNow() - start) / 60_000));
}

function totals(status) {
  const services = status.services || [];
  const counters = status.counters || [];
  const longest = services.map((s) => s.longest_wait_minutes).filter((v) => !isNone(v));
  return {
    waiting: services.reduce((sum, s) => sum + (s.waiting || 0), 0),
    longest: longest.length ? Math.max(...longest) : null,
    open: counters.filter((c) => c.state === "open").length,
    counters: counters.length,
    serving: counters.filter((c) => c.ticket).length,
  };
}

// --- drawing

function el(name, attrs = {}, text) {
  const node = document.createElement(name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

// "Nothing here" in a table cell: a dash to the eye, words to a screen reader.
function nothing(key) {
  const box = document.createDocumentFragment();
  box.append(el("span", { "aria-hidden": "true" }, "—"), el("span", { class: "sr-only" }, t(key)));
  return box;
}

function cell(attrs, content) {
  const node = el("td", attrs);
  node.append(content);
  return node;
}

function longestText(value) {
  return isNone(value) ? nothing("live.nobody_waiting") : minutes(value);
}

// The wait a newcomer would have; none when no open counter serves it.
function estimateText(service) {
  if (!isNone(service.estimated_wait_minutes)) {
    return t("live.about_minutes", { n: number(service.estimated_wait_minutes) });
  }
  return service.open_counters > 0 ? nothing("value.none") : t("live.no_open_counter");
}

function kpis(list, status) {
  const sum = totals(status);
  const items = [
    ["waiting", t("live.kpi_waiting"), people(sum.waiting)],
    ["longest", t("live.kpi_longest"), longestText(sum.longest)],
    ["open", t("live.kpi_open"), t("live.open_of", { open: number(sum.open),
      all: number(sum.counters) })],
    ["serving", t("live.kpi_serving"), number(sum.serving)],
  ];
  list.replaceChildren();
  for (const [key, term, value] of items) {
    const box = el("div", { class: "kpi", "data-kpi": key });
    const dd = el("dd");
    dd.append(value);
    box.append(el("dt", {}, term), dd);
    list.append(box);
  }
}

function stateBadge(state) {
  // A word and a symbol, never the colour alone.
  const keys = { open: "state.open", paused: "state.paused", closed: "state.closed" };
  const marks = { open: "●", paused: "‖", closed: "×" };
  const badge = el("span", { class: `state state-${state}` });
  badge.append(el("span", { "aria-hidden": "true", class: "mark" }, marks[state] || "?"));
  badge.append(document.createTextNode(" " + t(keys[state] || "state.unknown")));
  return badge;
}

function ticketCell(ticket) {
  const box = el("td", { class: "c-ticket" });
  if (!ticket) {
    box.append(nothing("live.no_ticket"));
    return box;
  }
  box.append(el("strong", { class: "number" }, ticket.number));
  const phase = ticket.state === "serving" ? "live.ticket_serving" : "live.ticket_called";
  box.append(el("span", { class: `phase phase-${ticket.state}` }, t(phase)));
  return box;
}

// One counter: name, state, ticket and its service, since when and for how
// long (the cards leave out the service and the clock time).
function counterRow(feed, office, counter, compact) {
  const row = el("tr", { "data-counter": counter.id });
  row.append(el("th", { scope: "row" }, counterName(office, counter)));
  const state = el("td", { class: "c-state" });
  state.append(stateBadge(counter.state));
  row.append(state, ticketCell(counter.ticket));
  const ticket = counter.ticket;
  if (!compact) {
    const tz = office ? office.timezone : "Asia/Tokyo";
    row.append(el("td", { class: "c-service" }, ticket ? serviceName(office, ticket.service) : ""));
    row.append(el("td", { class: "c-since num" }, ticket ? timeOfDay(ticket.since, tz) : ""));
  }
  const elapsed = ticket ? elapsedMinutes(feed, ticket.since) : null;
  row.append(el("td", { class: "c-elapsed num" }, isNone(elapsed) ? "" : minutes(elapsed)));
  return row;
}

function serviceRow(service, compact) {
  const row = el("tr", { "data-service": service.id });
  row.append(el("th", { scope: "row" }, `${service.letter} ${nameIn(service.names)}`));
  row.append(el("td", { class: "s-waiting num" }, people(service.waiting)));
  row.append(cell({ class: "s-longest num" }, longestText(service.longest_wait_minutes)));
  row.append(cell({ class: "s-estimate num" }, estimateText(service)));
  if (!compact) row.append(el("td", { class: "s-open num" }, number(service.open_counters)));
  return row;
}

// headKeys: catalog keys of the column headings; "#" in front: a number column.
function compactTable(caption, headKeys, rows) {
  const table = el("table", { class: "data compact" });
  table.append(el("caption", {}, caption));
  const head = el("tr");
  for (const key of headKeys) {
    const numeric = key.startsWith("#");
    head.append(el("th", { scope: "col", class: numeric ? "num" : "" }, t(key.replace("#", ""))));
  }
  const thead = el("thead");
  thead.append(head);
  const tbody = el("tbody");
  tbody.append(...rows);
  table.append(thead, tbody);
  const wrap = el("div", { class: "table-wrap" });
  wrap.append(table);
  return wrap;
}

function renderDetail(feed) {
  const office = officeById(feed.office);
  document.getElementById("office-name").textContent = office ? nameIn(office.names) : feed.office;
  const updated = document.getElementById("updated");
  if (!feed.status) { // just chosen: nothing of the office shown before may stay
    updated.textContent = t("live.loading");
    for (const box of [document.getElementById("office-kpis"), document.getElementById("recent"),
      ...document.querySelectorAll("#detail tbody")]) box.replaceChildren();
    return;
  }
  updated.textContent = t("live.updated_at", {
    time: timeOfDay(feed.status.at, office ? office.timezone : "Asia/Tokyo", { seconds: true }),
  });
  kpis(document.getElementById("office-kpis"), feed.status);
  document.querySelector("#counters-table tbody").replaceChildren(
    ...(feed.status.counters || []).map((c) => counterRow(feed, office, c, false)));
  document.querySelector("#services-table tbody").replaceChildren(
    ...(feed.status.services || []).map((s) => serviceRow(s, false)));
  const recent = document.getElementById("recent");
  recent.replaceChildren();
  const tz = office ? office.timezone : "Asia/Tokyo";
  for (const call of (feed.status.recent_calls || []).slice(0, 5)) {
    const counter = call.counter || {};
    const key = call.kind === "recall" ? "live.recent_recall" : "live.recent_call";
    recent.append(el("li", {}, t(key, {
      number: call.number, counter: counterName(office, counter), time: timeOfDay(call.at, tz),
    })));
  }
  if (!recent.children.length) recent.append(el("li", {}, t("live.no_calls")));
}

// A card keeps its heading link between updates, so keyboard focus on it
// survives every refresh.
function card(id) {
  if (!cards.has(id)) {
    const item = el("li", { class: "card", "data-office": id });
    const heading = el("h3");
    const link = el("a", { href: `/dashboard?office=${encodeURIComponent(id)}` });
    link.addEventListener("click", (event) => {
      if (event.ctrlKey || event.metaKey || event.shiftKey) return; // a new tab
      event.preventDefault();
      choose(id, { focus: true });
    });
    heading.append(link);
    const body = el("div", { class: "card-body" });
    item.append(heading, body);
    cards.set(id, { item, link, body });
  }
  return cards.get(id);
}

function renderCard(feed) {
  const office = officeById(feed.office);
  const { link, body } = card(feed.office);
  link.textContent = office ? nameIn(office.names) : feed.office;
  body.replaceChildren();
  if (feed.connected === false || feed.failed) {
    body.append(el("p", { class: "offline" }, t("live.card_offline")));
  }
  if (!feed.status) {
    body.append(el("p", {}, t("live.loading")));
    return;
  }
  const list = el("dl", { class: "kpis small" });
  kpis(list, feed.status);
  body.append(list);
  const name = link.textContent;
  body.append(compactTable(t("live.counters_of", { office: name }),
    ["live.col_counter", "live.col_state", "live.col_ticket", "#live.col_elapsed"],
    (feed.status.counters || []).map((c) => counterRow(feed, office, c, true))));
  body.append(compactTable(t("live.services_of", { office: name }),
    ["live.col_service", "#live.col_waiting", "#live.col_longest", "#live.col_estimate"],
    (feed.status.services || []).map((s) => serviceRow(s, true))));
}

function renderOffice(id) {
  const feed = feeds.get(id);
  if (!feed) return;
  if (selected === ALL) renderCard(feed);
  else if (selected === id) renderDetail(feed);
}

function renderConnection() {
  const shown = [...feeds.values()];
  let key = "";
  if (shown.some((f) => f.failed || f.connected === false)) key = "live.offline";
  else if (shown.length && shown.every((f) => f.socket && f.connected)) key = "live.connected";
  else if (shown.length && shown.every((f) => !f.socket)) key = "live.polling";
  const text = key ? t(key, { seconds: String(POLL_MS / 1000) }) : "";
  connection.textContent = text;
  connection.dataset.state = key ? key.slice(5) : "";
}

function renderAll() {
  fillOfficeSelect(select, offices, { allowAll: true, selected });
  overview.hidden = selected !== ALL;
  detail.hidden = selected === ALL || selected === null;
  if (selected === ALL) {
    cardsList.replaceChildren(...offices.map((o) => card(o.id).item));
  }
  for (const id of feeds.keys()) renderOffice(id);
  renderConnection();
}

// --- choosing what to show

function choose(id, { focus = false } = {}) {
  selected = id;
  showInAddress({ office: id });
  const wanted = id === ALL ? offices.map((o) => o.id) : [id];
  const live = wanted.length <= MAX_SOCKETS;
  for (const [office, feed] of feeds) {
    if (!wanted.includes(office) || Boolean(feed.socket) !== live) {
      feed.stop();
      feeds.delete(office);
    }
  }
  for (const office of wanted) {
    if (!feeds.has(office)) feeds.set(office, new Feed(office, live));
  }
  renderAll();
  if (focus) document.getElementById(id === ALL ? "h-overview" : "office-name").focus();
}

let reloading = null;

// An office's configuration changed (names, counters): read it again.
function reloadOffices() {
  if (reloading) return;
  reloading = setTimeout(async () => {
    try {
      const data = await getJson("/dashboard/offices.json");
      offices = data.offices;
      renderAll();
    } catch (error) {
      showError(problemText(error));
    } finally {
      reloading = null;
    }
  }, DEBOUNCE_MS);
}

async function start() {
  const session = await startChrome({ nav: "live", titleKey: "live.page_title", onLang: renderAll });
  if (!session) return;
  document.getElementById("office-name").tabIndex = -1;
  document.getElementById("h-overview").tabIndex = -1;
  let data;
  try {
    data = await getJson("/dashboard/offices.json");
  } catch (error) {
    showError(problemText(error));
    document.body.dataset.ready = "true";
    return;
  }
  offices = data.offices;
  if (!offices.length) {
    showError(t("office.none"));
    document.body.dataset.ready = "true";
    return;
  }
  const { id, refused } = chooseOffice(offices, { allowAll: true });
  if (refused) showError(t("office.refused"));
  select.addEventListener("change", () => {
    clearError();
    choose(select.value);
  });
  document.getElementById("pick").addEventListener("submit", (event) => event.preventDefault());
  window.addEventListener("online", () => {
    for (const feed of feeds.values()) feed.reconnectNow();
  });
  setInterval(() => {
    for (const id_ of feeds.keys()) renderOffice(id_);
  }, TICK_MS);
  choose(id);
  renderChrome();
  document.body.dataset.ready = "true";
}

start();
