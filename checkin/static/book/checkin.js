// Checking in from the phone, shared by the manage page /b/{token} and the
// lobby page /here/{office}. The citizen proves they are in the lobby with
// the 4-digit code the lobby display shows (it changes every 5 minutes);
// the server decides everything else (window, status) and says why not.

import { act, enc } from "/static/queue/common/api.js";
import { forget, rememberTicket } from "/static/queue/common/saved.js";
import { currentLang, dayOf, formatDay, formatTime } from "./i18n.js";

// The server's defaults (BookingSettings): check-in opens 30 minutes before
// the slot and closes 15 minutes after it. Used only to tell the citizen the
// window; the booking may carry the office's own as checkin_opens/closes.
const BEFORE_MS = 30 * 60 * 1000;
const AFTER_MS = 15 * 60 * 1000;

// Full-width digits (a Japanese keyboard) count as digits.
export function normaliseCode(raw) {
  return String(raw || "")
    .replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/\s+/g, "");
}

export function validCode(code) {
  return /^[0-9]{4}$/.test(code);
}

export function checkinWindow(booking) {
  const slot = Date.parse(booking.slot_start);
  const opens = booking.checkin_opens ? Date.parse(booking.checkin_opens) : slot - BEFORE_MS;
  const closes = booking.checkin_closes ? Date.parse(booking.checkin_closes) : slot + AFTER_MS;
  return { opens, closes };
}

// "It opens on {date} at {time}": the error the server gave, made precise
// with the moment check-in opens (from the error's details when it has them).
function explain(error, booking, timeZone) {
  if (error.code === "too_early") {
    const opensMs = Number(error.details && error.details.opens_ms)
      || (booking ? checkinWindow(booking).opens : NaN);
    if (Number.isFinite(opensMs)) {
      const opens = new Date(opensMs);
      error.key = "error.too_early_at";
      error.params = { date: formatDay(dayOf(opens, timeZone), timeZone),
        time: formatTime(opens.toISOString(), timeZone) };
    }
  }
  return error;
}

export function ticketUrl(id) {
  return `/t/${enc(id)}?lang=${enc(currentLang())}`;
}

// A booking (by its secret token) becomes a ticket in today's line.
export async function checkInBooking(token, code, { booking = null, timeZone = "Asia/Tokyo" } = {}) {
  try {
    const ticket = await act("POST", `/bookings/${enc(token)}/check-in`, { presence_code: code });
    forget({ kind: "booking", token });
    rememberTicket(ticket);
    return ticket;
  } catch (error) {
    throw explain(error, booking, timeZone);
  }
}

// A remote ticket (joined today's queue from afar) is now in the lobby.
export async function arriveTicket(id, code) {
  const ticket = await act("POST", `/tickets/${enc(id)}/arrive`, { presence_code: code });
  rememberTicket(ticket);
  return ticket;
}
