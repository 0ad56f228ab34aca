// Numbers, minutes, shares, times and calendar dates for the dashboard
// pages, in the chosen language.
//
// Times are shown in the office's time zone (Asia/Tokyo), never the PC's:
// a manager working from another zone still reads the office's day. Dates
// without a time ("2026-11-27") are pure calendar values: they are done in
// UTC arithmetic so no zone can move them by a day.

import { currentLang, t } from "../login/i18n.js";

const INTL_LOCALE = {
  "ja": "ja-JP", "en": "en-GB", "ko": "ko-KR", "zh-Hans": "zh-Hans-CN", "vi": "vi-VN",
};

export function locale() {
  return INTL_LOCALE[currentLang()] || "ja-JP";
}

export function isNone(value) {
  return value === null || value === undefined || Number.isNaN(value);
}

export function number(value, digits = 1) {
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(value);
}

// A share 0..1 as a whole percentage ("67%").
export function percent(share) {
  return new Intl.NumberFormat(locale(), { style: "percent", maximumFractionDigits: 0 })
    .format(share);
}

export function minutes(value) {
  return t("unit.minutes", { n: number(value) });
}

export function people(value) {
  return t("unit.people", { n: number(value, 2) });
}

// A value or the catalog's "no data" (an hour nobody was called in has no
// wait, which is not a wait of zero).
export function orNone(value, format) {
  return isNone(value) ? t("value.none") : format(value);
}

// The hour of the day as an axis label ("10時", "10:00") and as a span for
// tables and screen readers ("10時〜11時", "10:00–11:00").
export function hourShort(hour) {
  return t("hour.short", { hour: String(hour) });
}

export function hourRange(hour) {
  return t("hour.range", { hour: String(hour), next: String(hour + 1) });
}

// An ISO 8601 instant as a time of day at the office ("10:15").
export function timeOfDay(isoText, timeZone, { seconds = false } = {}) {
  const when = new Date(isoText);
  if (Number.isNaN(when.getTime())) return "";
  return new Intl.DateTimeFormat(locale(), {
    timeZone, hour: "2-digit", minute: "2-digit", second: seconds ? "2-digit" : undefined,
    hourCycle: "h23",
  }).format(when);
}

// --- calendar dates ("YYYY-MM-DD")

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isDate(text) {
  const m = DATE_RE.exec(text || "");
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3];
}

function toUtc(text) {
  const m = DATE_RE.exec(text);
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
}

function fromUtc(date) {
  return date.toISOString().slice(0, 10);
}

export function addDays(text, days) {
  const d = toUtc(text);
  d.setUTCDate(d.getUTCDate() + days);
  return fromUtc(d);
}

export function daysBetween(from, to) {
  return Math.round((toUtc(to) - toUtc(from)) / 86_400_000);
}

// Monday of the week holding `text` (Japanese offices count weeks from Monday).
export function weekStart(text) {
  const day = toUtc(text).getUTCDay(); // 0 = Sunday
  return addDays(text, -((day + 6) % 7));
}

// [first, last] day of the calendar month before the one holding `text`.
export function previousMonth(text) {
  const d = toUtc(text);
  const first = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1));
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 0));
  return [fromUtc(first), fromUtc(last)];
}

export function longDate(text) {
  return new Intl.DateTimeFormat(locale(), {
    timeZone: "UTC", year: "numeric", month: "long", day: "numeric", weekday: "short",
  }).format(toUtc(text));
}

export function dateRange(from, to) {
  return from === to ? longDate(from) : t("range.text", { from: longDate(from), to: longDate(to) });
}
