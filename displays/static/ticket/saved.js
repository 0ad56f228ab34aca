// Tickets and bookings this phone holds, for the lobby check-in page
// /here/{office} to find ("madoguchi.saved": a JSON array shared with the
// booking pages, whose checkin/static/book/saved.js states the contract):
//   {kind: "booking", office, token, slot_start, service, saved_at}
//   {kind: "ticket", office, id, number, saved_at}
// saved_at is ISO 8601 (milliseconds are read too); at most MAX_ENTRIES,
// newest first; an entry is stale two days after it was saved (a booking:
// two days after its slot). The same rules as the booking pages, so neither
// page drops what the other keeps. Ids are capabilities: they stay here.

const KEY = "madoguchi.saved";
const MAX_ENTRIES = 10;
const MAX_AGE_MS = 2 * 24 * 60 * 60 * 1000;

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
    // Storage full or disabled: the ticket page works without it.
  }
}

function tidy(entries, now) {
  return entries
    .filter((e) => !stale(e, now))
    .sort((a, b) => ms(b.saved_at) - ms(a.saved_at))
    .slice(0, MAX_ENTRIES);
}

function isTicket(entry, id) {
  return entry.kind === "ticket" && entry.id === id;
}

// Saves (or refreshes) this ticket. `extra` adds fields of the ticket page's
// own (come_back_by), which other pages ignore.
export function saveTicket({ office, id, number }, extra = {}) {
  const now = Date.now();
  const all = read();
  const old = all.find((e) => isTicket(e, id)) || {};
  const entry = { ...old, ...extra, kind: "ticket", office, id, number,
    saved_at: new Date(now).toISOString() };
  write(tidy([entry, ...all.filter((e) => !isTicket(e, id))], now));
  return entry;
}

export function savedTicket(id) {
  return read().find((e) => isTicket(e, id) && !stale(e, Date.now())) || null;
}

// A finished or cancelled ticket is of no more use to the check-in page.
export function forgetTicket(id) {
  const all = read();
  const kept = all.filter((e) => !isTicket(e, id));
  if (kept.length !== all.length) write(kept);
}
