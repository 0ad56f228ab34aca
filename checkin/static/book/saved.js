// What this phone remembers of its bookings and remote tickets, so the lobby
// check-in page /here/{office} (opened from the QR code on the lobby screen)
// can offer "I am here" without the citizen finding the SMS again.
//
// localStorage "madoguchi.saved" holds a JSON array of
//   {kind: "booking", office, token, slot_start, service, saved_at}
//   {kind: "ticket", office, id, number, saved_at}
// written by the booking pages and by the ticket page /t/{id} (displays/),
// so the format is a contract between those pages. saved_at is an ISO 8601
// time (a number of milliseconds is read too). The tokens and ids are
// capabilities: they stay on this phone and go only to our own API.

const KEY = "madoguchi.saved";
const MAX_ENTRIES = 10;
const MAX_AGE_MS = 2 * 24 * 60 * 60 * 1000; // two days

function ms(value) {
  const n = typeof value === "number" ? value : Date.parse(value);
  return Number.isFinite(n) ? n : 0;
}

function valid(entry) {
  if (!entry || typeof entry !== "object" || typeof entry.office !== "string") return false;
  if (entry.kind === "booking") return typeof entry.token === "string" && entry.token !== "";
  if (entry.kind === "ticket") return typeof entry.id === "string" && entry.id !== "";
  return false;
}

function same(a, b) {
  if (a.kind !== b.kind) return false;
  return a.kind === "booking" ? a.token === b.token : a.id === b.id;
}

// An entry is old two days after it was saved; a booking not before two days
// after its slot, so one made a week ahead is still here on the day.
function stale(entry, now) {
  const from = Math.max(ms(entry.saved_at), entry.kind === "booking" ? ms(entry.slot_start) : 0);
  return now - from > MAX_AGE_MS;
}

function read() {
  try {
    const data = JSON.parse(window.localStorage.getItem(KEY) || "[]");
    return Array.isArray(data) ? data.filter(valid) : [];
  } catch {
    return []; // storage disabled or a broken value: nothing is remembered
  }
}

function write(entries) {
  try {
    window.localStorage.setItem(KEY, JSON.stringify(entries));
  } catch {
    // storage disabled or full: the SMS link and the kiosk still work
  }
}

// Newest first, at most MAX_ENTRIES, none stale.
function tidy(entries, now) {
  return entries
    .filter((e) => !stale(e, now))
    .sort((a, b) => ms(b.saved_at) - ms(a.saved_at))
    .slice(0, MAX_ENTRIES);
}

// The saved entries (all offices), with stale ones dropped from storage.
export function loadSaved(now = Date.now()) {
  const all = read();
  const kept = tidy(all, now);
  if (kept.length !== all.length) write(kept);
  return kept;
}

// Saves (or refreshes) one entry.
export function remember(entry, now = Date.now()) {
  const fresh = { ...entry, saved_at: new Date(now).toISOString() };
  write(tidy([fresh, ...read().filter((e) => !same(e, fresh))], now));
}

export function forget(entry) {
  const all = read();
  const kept = all.filter((e) => !same(e, entry));
  if (kept.length !== all.length) write(kept);
}

export function rememberBooking(booking, token) {
  remember({ kind: "booking", office: booking.office, token, slot_start: booking.slot_start,
    service: booking.service });
}

export function rememberTicket(ticket) {
  remember({ kind: "ticket", office: ticket.office, id: ticket.id, number: ticket.number });
}
