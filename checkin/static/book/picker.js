// The date and time steps, shared by the booking page /book/{office}
// (book.js) and the change of a booking's date and time on its manage page
// /b/{token} (manage.js): loading a service's days and a day's times from the
// availability API, and the list items that show them. A day or a time that
// cannot be chosen is a grey row (not a button) that says why.

import { api, enc } from "/static/queue/common/api.js";
import { addDays, formatShortDay, formatTime, t } from "./i18n.js";

export const DAYS_PER_PAGE = 14;
export const MAX_PAGES = 3; // six weeks: bookings open about a month ahead

// A closed day, by the calendar's closed_reason.
const CLOSED_KEYS = {
  "holiday": "date.closed_holiday",
  "weekend": "date.closed_weekend",
  "year_end": "date.closed_year_end",
  "closed_day": "date.closed_day",
};
// Any other day that cannot be chosen, by the availability's reason.
const REASON_KEYS = {
  "not_bookable": "date.reason_not_bookable",
  "beyond_horizon": "date.reason_beyond_horizon",
  "same_day_not_allowed": "date.reason_same_day",
  "too_soon": "date.reason_too_soon",
  "full": "date.full",
};

// A large choice button: the main text and, under it, e.g. how many places are free.
export function choiceButton(label, subText, onClick) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "choice";
  const main = document.createElement("span");
  main.className = "choice-main";
  main.textContent = label;
  const sub = document.createElement("span");
  sub.className = "choice-sub";
  sub.textContent = subText;
  button.append(main, sub);
  button.addEventListener("click", onClick);
  return button;
}

// What stands where a choice would be when it cannot be chosen.
export function unavailableRow(mainText, subText, subLang) {
  const row = document.createElement("div");
  row.className = "unavailable";
  const main = document.createElement("span");
  main.className = "choice-main";
  main.textContent = mainText;
  const sub = document.createElement("span");
  sub.className = "choice-sub";
  sub.textContent = subText;
  if (subLang) sub.lang = subLang;
  row.append(main, sub);
  return row;
}

// Whether a day of the range answer may be chosen (servers before `bookable`
// said only whether it was open and how many places were free).
export function dayBookable(day) {
  if (typeof day.bookable === "boolean") return day.bookable && day.free > 0;
  return Boolean(day.open) && day.free > 0;
}

// Why a day cannot be chosen: closed (and why), or the availability's reason.
export function dayReasonText(day) {
  if (!day.open || day.reason === "closed") {
    if (day.closed_reason === "holiday" && day.holiday_name) {
      return t("date.closed_holiday_named", { name: day.holiday_name });
    }
    return t(CLOSED_KEYS[day.closed_reason] || "date.closed_day");
  }
  return t(REASON_KEYS[day.reason] || "date.full");
}

export function dayItem(day, timeZone, onPick) {
  const item = document.createElement("li");
  const label = formatShortDay(day.date, timeZone);
  if (dayBookable(day)) {
    const button = choiceButton(label, t("date.free", { n: day.free }), () => onPick(day.date));
    button.dataset.date = day.date;
    item.append(button);
  } else {
    const row = unavailableRow(label, dayReasonText(day));
    row.dataset.date = day.date;
    row.dataset.reason = day.reason || (day.open ? "full" : "closed");
    item.append(row);
  }
  return item;
}

function sameInstant(a, b) {
  return Boolean(a && b) && Date.parse(a) === Date.parse(b);
}

// One time of the day. `current` (an ISO instant): the booking being changed
// is at this time, so it is shown as such and cannot be chosen.
export function slotItem(slot, timeZone, onPick, current = null) {
  const item = document.createElement("li");
  const label = t("time.range", {
    start: formatTime(slot.start, timeZone), end: formatTime(slot.end, timeZone),
  });
  if (sameInstant(slot.start, current)) {
    const row = unavailableRow(label, t("change.current_slot"));
    row.dataset.slot = slot.start;
    row.dataset.current = "true";
    item.append(row);
  } else if (slot.free > 0) {
    const button = choiceButton(label, t("time.free", { n: slot.free }), () => onPick(slot));
    button.dataset.slot = slot.start;
    item.append(button);
  } else {
    const row = unavailableRow(label, t("time.full"));
    row.dataset.slot = slot.start;
    item.append(row);
  }
  return item;
}

// Whether any time of the list can be chosen.
export function anySlot(slots, current = null) {
  return slots.some((s) => s.free > 0 && !sameInstant(s.start, current));
}

// After "more days" added `added`: the focus carries on from the first newly
// shown day that can be chosen, else the button for more, else the heading.
export function focusAfterMoreDays(added) {
  const $ = (id) => document.getElementById(id);
  const first = added.find(dayBookable);
  const target = first && $("date-list").querySelector(`button[data-date="${first.date}"]`);
  if (target) target.focus();
  else if (!$("date-more").hidden) $("date-more").focus();
  else $("h-date").focus();
}

// The next page of days from `from` ("YYYY-MM-DD"): {days, nextFrom}.
export async function fetchDays(officeId, serviceId, from) {
  const to = addDays(from, DAYS_PER_PAGE - 1);
  const res = await api("GET", `/offices/${enc(officeId)}/availability?service=${
    enc(serviceId)}&from=${from}&to=${to}`);
  const days = Array.isArray(res.days) ? res.days : [];
  return { days, nextFrom: days.length ? addDays(days[days.length - 1].date, 1) : null };
}

// The times of one day.
export async function fetchSlots(officeId, serviceId, day) {
  const res = await api("GET", `/offices/${enc(officeId)}/availability?service=${
    enc(serviceId)}&date=${day}`);
  return Array.isArray(res.slots) ? res.slots : [];
}
