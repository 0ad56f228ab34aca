// A birth date from the My Number card as the clerk reads it. The card may
// lack the month or the day (some foreign residents' cards carry 00 there):
// the kiosk sends "YYYY", "YYYY-MM" or "YYYY-MM-DD", and the clerk sees just
// what is known — 1985年 / 1985年4月 / 1985年4月1日, with the 和暦 in Japanese
// (both eras when the known part spans a change of era, e.g. 1989年1月).

const PARTS = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/;

function utc(y, m, d) {
  const date = new Date(Date.UTC(2000, m - 1, d));
  date.setUTCFullYear(y); // years before 100 stay themselves
  return date;
}

function eraOf(first, last) {
  const era = new Intl.DateTimeFormat("ja-JP-u-ca-japanese",
    { era: "long", year: "numeric", timeZone: "UTC" });
  const a = era.format(first);
  const b = era.format(last);
  return a === b ? a : `${a}／${b}`;
}

export function formatBirth(value, lang) {
  const match = PARTS.exec(value || "");
  if (!match) return value || "";
  const y = Number(match[1]);
  const m = match[2] ? Number(match[2]) : 0;
  const d = match[3] ? Number(match[3]) : 0;
  const locale = lang || "ja";
  let shown;
  let first;
  let last;
  if (d) {
    first = last = utc(y, m, d);
    shown = { year: "numeric", month: "long", day: "numeric" };
  } else if (m) {
    first = utc(y, m, 1);
    last = utc(y, m + 1, 0);
    shown = { year: "numeric", month: "long" };
  } else {
    first = utc(y, 1, 1);
    last = utc(y, 12, 31);
    shown = { year: "numeric" };
  }
  const western = new Intl.DateTimeFormat(locale, { ...shown, timeZone: "UTC" }).format(first);
  if (locale !== "ja" || y < 1868) return western;
  return `${western}（${eraOf(first, last)}）`;
}
