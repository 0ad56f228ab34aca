// What this phone remembers of its bookings and tickets (served at
// /static/queue/common/saved.js), so the lobby check-in page /here/{office}
// (opened from the QR code on the lobby screen) can offer "I am here"
// without the citizen finding the SMS again.
//
// localStorage "madoguchi.saved" holds a JSON array of
//   {kind: "booking", office, token, slot_start, service, saved_at}
//   {kind: "ticket", office, id, number, saved_at}
// written by the booking pages, the lobby page and the ticket page /t/{id},
// all through this module, so they keep and drop the same entries. An entry
// may carry fields of one page's own (the ticket page's come_back_by): the
// others keep them. saved_at is an ISO 8601 time (a number of milliseconds
// is read too). At most MAX_ENTRIES, newest first. The tokens and ids are
// capabilities: they stay on this phone and go only to our own API.
//
// A page on a shared machine (the booking page on the kiosk) calls
// disableSaving(): from then on nothing is written at all.

const KEY = "madoguchi.saved";
const MAX_ENTRIES = 10;
const MAX_AGE_MS = 2 * 24 * 60 * 60 * 1000; // two days

let writable = true;

export function disableSaving() {
  writable = false;
}

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
  if (!writable) return;
  try {
    window.localStorage.setItem(KEY, JSON.stringify(entries));
  } catch {
    // storage disabled or full: the SMS link, the ticket page and the kiosk still work
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

// Saves (or refreshes) one entry, keeping the fields an earlier save of it
// had that this one does not name. Returns the entry as saved.
export function remember(entry, now = Date.now()) {
  const all = read();
  const old = all.find((e) => same(e, entry)) || {};
  const fresh = { ...old, ...entry, saved_at: new Date(now).toISOString() };
  write(tidy([fresh, ...all.filter((e) => !same(e, fresh))], now));
  return fresh;
}

export function forget(entry) {
  const all = read();
  const kept = all.filter((e) => !same(e, entry));
  if (kept.length !== all.length) write(kept);
}

export function rememberBooking(booking, token) {
  return remember({ kind: "booking", office: booking.office, token,
    slot_start: booking.slot_start, service: booking.service });
}

// `extra`: fields of the page's own (the ticket page's come_back_by).
export function rememberTicket(ticket, extra = {}) {
  return remember({ ...extra, kind: "ticket", office: ticket.office, id: ticket.id,
    number: ticket.number });
}

// This phone's entry of a ticket, or null.
export function savedTicket(id, now = Date.now()) {
  return read().find((e) => e.kind === "ticket" && e.id === id && !stale(e, now)) || null;
}

// A finished or cancelled ticket is of no more use to the check-in page.
export function forgetTicket(id) {
  forget({ kind: "ticket", id });
}
