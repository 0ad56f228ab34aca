// Draws the console from `state`: the header (office, counter, its state),
// the ticket at the counter, which actions can run now, and the lists.
// Nothing here talks to the server.

import { currentLang, formatTime, t } from "../login/i18n.js";
import { formatBirth } from "./birth.js";
import { clockTime } from "./errors.js";
import { counterName, officeName, serviceOf, serviceName, state } from "./state.js";

const $ = (id) => document.getElementById(id);

const CHANNEL_KEYS = {
  "kiosk": "staff.channel.kiosk",
  "phone": "staff.channel.phone",
  "online": "staff.channel.online",
  "staff": "staff.channel.staff",
};
const COUNTER_STATE_KEYS = {
  "open": "staff.counter_state.open",
  "paused": "staff.counter_state.paused",
  "closed": "staff.counter_state.closed",
};
const TICKET_STATE_KEYS = {
  "called": "staff.ticket_state.called",
  "serving": "staff.ticket_state.serving",
};

export function channelText(channel) {
  return CHANNEL_KEYS[channel] ? t(CHANNEL_KEYS[channel]) : channel;
}

function serviceText(id) {
  const service = serviceOf(id);
  return service ? `${serviceName(id)} (${service.letter})` : id;
}

// When the wait began: the later of the ticket's due time (a booking's
// slot) and its issue (arrival) time, as the board's waiting_minutes counts.
function waitingSince(ticket) {
  const due = Date.parse(ticket.due_at || "");
  const issued = Date.parse(ticket.issued_at || "");
  const start = Math.max(Number.isNaN(due) ? 0 : due, Number.isNaN(issued) ? 0 : issued);
  return start ? formatTime(new Date(start).toISOString()) : "";
}

function bookingText(booking) {
  const parts = [];
  if (booking.slot_start) {
    parts.push(t("staff.booking.slot_short", { time: formatTime(booking.slot_start) }));
  }
  if (booking.name) parts.push(t("staff.booking.name", { name: booking.name }));
  return parts.join(" ");
}

// --- the header

export function renderHeader() {
  const board = state.board;
  $("office-name").textContent = state.office ? officeName(state.office) : "";
  const counter = state.counter && state.config ? counterName(state.counter) : "";
  $("counter-name").textContent = counter || t("staff.heading");
  const status = $("counter-state");
  const counterState = board ? board.counter.state : "";
  status.dataset.state = counterState;
  status.textContent = COUNTER_STATE_KEYS[counterState] ? t(COUNTER_STATE_KEYS[counterState]) : "";
  $("waiting-total").textContent = board
    ? t("staff.waiting_total", { count: board.waiting_total }) : "";
  const user = state.session ? state.session.user : null;
  $("who").textContent = user ? t("staff.who", { name: user.display_name || user.name }) : "";
  document.title = counter
    ? t("staff.page_title_counter", { counter, office: officeName(state.office) })
    : t("staff.page_title");
  const connection = $("connection");
  connection.dataset.online = String(state.online);
  connection.textContent = state.office
    ? t(state.online ? "staff.online" : "staff.connecting") : "";
}

// --- the ticket at the counter

export function renderCurrent() {
  const current = state.board ? state.board.current : null;
  const box = $("current");
  box.dataset.state = current ? current.state : "none";
  $("current-empty").hidden = Boolean(current);
  $("current-ticket").hidden = !current;
  $("current-number").textContent = current ? current.number : "";
  box.dataset.ticket = current ? current.number : "";
  if (!current) {
    $("current-booking").hidden = true;
    showPrefill(null);
    return;
  }
  const since = current.state === "serving" ? current.serving_at : current.called_at;
  const stateKey = TICKET_STATE_KEYS[current.state];
  $("current-state").textContent = stateKey
    ? t(stateKey, { time: since ? formatTime(since) : "" }) : current.state;
  $("current-service").textContent = serviceText(current.service)
    + (current.priority ? ` ・ ${t("staff.badge.priority")}` : "");
  $("current-channel").textContent = channelText(current.channel);
  $("current-waiting").textContent = current.waiting_minutes === null
    ? "" : t("staff.waiting_since", {
      minutes: current.waiting_minutes, time: waitingSince(current),
    });
  const max = state.config ? state.config.max_recalls : 0;
  let recalls = t("staff.recalls", { count: current.recalls });
  if (current.state === "called" && current.recalls < max) {
    recalls += " " + t("staff.recalls_left", { left: max - current.recalls });
  }
  $("current-recalls").textContent = recalls;
  const booking = current.booking;
  $("current-booking").hidden = !booking;
  if (booking) {
    $("booking-name").textContent = booking.name
      ? t("staff.booking.name", { name: booking.name }) : t("staff.booking.no_name");
    $("booking-slot").textContent = booking.slot_start ? formatTime(booking.slot_start) : "";
    $("booking-code").textContent = booking.code || "";
  }
  showPrefill(current.prefill);
}

// The card's sex codes (JIS X 0303): 1 male, 2 female, 9 not applicable.
const SEX_KEYS = { 1: "staff.prefill.sex_male", 2: "staff.prefill.sex_female", 9: "staff.prefill.sex_other" };

// What the citizen's My Number card said at the kiosk (書かない): shown to
// the clerk while the ticket is at the counter, gone with the visit.
function showPrefill(card) {
  $("current-prefill").hidden = !card;
  const fields = { "prefill-name": card?.name, "prefill-address": card?.address,
    "prefill-birth": card?.birth_date ? formatBirth(card.birth_date, currentLang()) : "",
    "prefill-sex": card?.sex ? t(SEX_KEYS[card.sex] || "staff.prefill.sex_other") : "" };
  for (const [id, value] of Object.entries(fields)) $(id).textContent = value || "";
}

// --- what can be done now

// Why an action cannot run now (a catalog key), or null when it can. The
// server decides in the end; this only spares a request that must fail
// and says why at once.
export function blocker(action) {
  const board = state.board;
  if (!board) return "staff.why.no_board";
  const current = board.current;
  const open = board.counter.state === "open";
  switch (action) {
    case "call":
      return open ? null : (board.counter.state === "closed" ? "staff.error.counter_closed"
        : "staff.error.counter_paused");
    case "recall":
      if (!current) return "staff.error.no_current_ticket";
      return current.state === "called" ? null : "staff.why.serving_recall";
    case "start":
      if (!current) return "staff.error.no_current_ticket";
      return current.state === "called" ? null : "staff.why.already_serving";
    case "noshow":
      if (!current) return "staff.error.no_current_ticket";
      return current.state === "called" ? null : "staff.why.serving_no_show";
    case "finish":
    case "transfer":
    case "park":
      return current ? null : "staff.error.no_current_ticket";
    case "close":
      if (board.counter.state === "closed") return "staff.why.already_closed";
      return current ? "staff.error.counter_busy" : null;
    default:
      return null;
  }
}

export function renderActions() {
  const board = state.board;
  for (const button of document.querySelectorAll("button.act[data-action]")) {
    const blocked = blocker(button.dataset.action) !== null;
    // aria-disabled, not disabled: the button keeps its focus and a press
    // still says why nothing happens.
    button.setAttribute("aria-disabled", String(blocked || state.busy));
  }
  const open = board && board.counter.state === "open";
  $("toggle-label").textContent = t(open ? "staff.action.pause" : "staff.action.open");
  const current = board ? board.current : null;
  $("call-hint").textContent = current && open
    ? t("staff.call_hint", { number: current.number }) : "";
}

// --- the lists

export function describeQueued(ticket) {
  const parts = [
    { cls: "t-number", text: ticket.number },
    { cls: "t-service", text: serviceName(ticket.service) },
  ];
  if (ticket.waiting_minutes !== null) {
    parts.push({ cls: "t-wait", text: t("staff.minutes", { minutes: ticket.waiting_minutes }) });
  }
  if (ticket.priority) parts.push({ cls: "t-badge priority", text: t("staff.badge.priority") });
  if (ticket.target_counter) {
    parts.push({ cls: "t-badge", text: t("staff.badge.to_counter", {
      counter: counterName(ticket.target_counter) }) });
  }
  if (ticket.booking) {
    parts.push({ cls: "t-badge booking", text: bookingText(ticket.booking) });
  }
  return { parts };
}

export function describeParked(ticket) {
  return { parts: [
    { cls: "t-number", text: ticket.number },
    { cls: "t-service", text: serviceName(ticket.service) },
    { cls: "t-wait", text: ticket.parked_at
      ? t("staff.parked_since", { time: formatTime(ticket.parked_at) }) : "" },
    ...(ticket.booking ? [{ cls: "t-badge booking", text: bookingText(ticket.booking) }] : []),
  ] };
}

export function describeNoShow(ticket) {
  const minutes = state.config ? state.config.rejoin_minutes : 0;
  return { parts: [
    { cls: "t-number", text: ticket.number },
    { cls: "t-service", text: serviceName(ticket.service) },
    { cls: "t-wait", text: ticket.no_show_at
      ? t("staff.rejoin_until", { time: clockTime(ticket.no_show_at, minutes) }) : "" },
    ...(ticket.booking ? [{ cls: "t-badge booking", text: bookingText(ticket.booking) }] : []),
  ] };
}

export function renderLists(lists) {
  const board = state.board;
  const sets = {
    queue: board ? board.queue : [],
    parked: board ? board.parked : [],
    noshows: board ? board.no_shows : [],
  };
  for (const [name, tickets] of Object.entries(sets)) {
    lists[name].render(tickets);
    $(`${name}-empty`).hidden = tickets.length > 0;
    $(`${name}-help`).hidden = tickets.length === 0;
    $(`${name}-count`).textContent = t("staff.count", { count: tickets.length });
  }
  if (board && board.waiting_total > board.queue.length) {
    $("queue-count").textContent = t("staff.count_of", {
      shown: board.queue.length, count: board.waiting_total });
  }
}
