// Message catalogs, the chosen language and date/time formatting.
//
// Every text a citizen reads comes from /static/checkin/i18n/book.<lang>.json;
// HTML elements name their key in data-i18n (text) or data-i18n-attr
// ("attribute:key;attribute:key"). Keys are written out in full in the code
// (never built from pieces) so tests can check that every catalog has them.

export const LANGS = ["ja", "en", "ko", "zh-Hans", "vi", "ja-easy"];

// The language's own name, from the catalog (the same in every catalog).
const LANG_NAME_KEYS = {
  "ja": "lang.ja",
  "en": "lang.en",
  "ko": "lang.ko",
  "zh-Hans": "lang.zh-Hans",
  "vi": "lang.vi",
  "ja-easy": "lang.ja-easy",
};

// BCP 47 tags for the lang attribute and for Intl. やさしい日本語 is Japanese.
const HTML_LANG = { "ja": "ja", "en": "en", "ko": "ko", "zh-Hans": "zh-Hans", "vi": "vi", "ja-easy": "ja" };
const INTL_LOCALE = {
  "ja": "ja-JP", "en": "en-GB", "ko": "ko-KR", "zh-Hans": "zh-Hans-CN", "vi": "vi-VN", "ja-easy": "ja-JP",
};

const STORAGE_KEY = "madoguchi.lang";
const CATALOG_URL = "/static/checkin/i18n/book.";

const catalogs = new Map();
let lang = "ja";

export function currentLang() {
  return lang;
}

export function htmlLang(code = lang) {
  return HTML_LANG[code] || "ja";
}

function stored() {
  try {
    return window.localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage disabled: the choice lasts for this page only
  }
}

function store(code) {
  try {
    window.localStorage.setItem(STORAGE_KEY, code);
  } catch {
    // ignored, as above
  }
}

function fromBrowser() {
  for (const tag of navigator.languages || [navigator.language || ""]) {
    const low = tag.toLowerCase();
    if (low.startsWith("ja")) return "ja";
    if (low.startsWith("ko")) return "ko";
    if (low.startsWith("vi")) return "vi";
    if (low.startsWith("zh")) return "zh-Hans";
    if (low.startsWith("en")) return "en";
  }
  return null;
}

// ?lang= wins (and is remembered), then the remembered choice, then the
// page's own hint (a booking's language), then the browser, then Japanese.
export function chooseLang(hint) {
  const asked = new URLSearchParams(location.search).get("lang");
  if (asked && LANGS.includes(asked)) {
    store(asked);
    return asked;
  }
  const remembered = stored();
  if (remembered && LANGS.includes(remembered)) return remembered;
  if (hint && LANGS.includes(hint)) return hint;
  return fromBrowser() || "ja";
}

const loading = new Map(); // language -> the promise of its catalog

function load(code) {
  if (!loading.has(code)) {
    const promise = fetch(CATALOG_URL + code + ".json", { cache: "no-cache" })
      .then((response) => {
        if (!response.ok) throw new Error("catalog " + code + ": " + response.status);
        return response.json();
      })
      .then((catalog) => {
        catalogs.set(code, catalog);
        return catalog;
      });
    promise.catch(() => loading.delete(code)); // a later try may succeed
    loading.set(code, promise);
  }
  return loading.get(code);
}

// Loads the catalog (and Japanese, the fallback for a missing key) and makes
// `code` the page's language.
export async function setLang(code, { remember = false } = {}) {
  if (!LANGS.includes(code)) code = "ja";
  await Promise.all([load(code), load("ja")]);
  lang = code;
  if (remember) store(code);
  document.documentElement.lang = htmlLang(code);
  return code;
}

export function has(key) {
  const own = catalogs.get(lang);
  return Boolean(own && key in own);
}

export function t(key, params = {}) {
  const own = catalogs.get(lang) || {};
  const fallback = catalogs.get("ja") || {};
  const text = key in own ? own[key] : key in fallback ? fallback[key] : key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

// Fills every data-i18n / data-i18n-attr element under `root`.
export function applyI18n(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) {
    el.textContent = t(el.dataset.i18n);
  }
  for (const el of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of el.dataset.i18nAttr.split(";")) {
      const [attr, key] = pair.split(":").map((s) => s.trim());
      if (attr && key) el.setAttribute(attr, t(key));
    }
  }
}

// The language buttons: each names its language in that language, with a
// matching lang attribute so a screen reader pronounces it right.
export function renderLangSwitch(list, onChoose) {
  list.replaceChildren();
  for (const code of LANGS) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "lang";
    button.lang = htmlLang(code);
    button.dataset.lang = code;
    button.textContent = t(LANG_NAME_KEYS[code]);
    button.setAttribute("aria-pressed", String(code === lang));
    button.addEventListener("click", () => onChoose(code));
    item.append(button);
    list.append(item);
  }
}

export function markLangSwitch(list) {
  for (const button of list.querySelectorAll("button[data-lang]")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === lang));
  }
}

// Changes ?lang= in the address without a reload (so a shared or bookmarked
// address opens in the same language).
export function rememberInUrl(code) {
  const url = new URL(location.href);
  url.searchParams.set("lang", code);
  history.replaceState(history.state, "", url);
}

// A name given per language by the API: the chosen language, else for
// やさしい日本語 the Japanese, for others English, else Japanese. Returns
// the text and the language it is really in.
export function pickName(names) {
  if (!names || typeof names !== "object") return { text: "", lang: "ja" };
  const order = lang.startsWith("ja") ? [lang, "ja"] : [lang, "en", "ja"];
  for (const code of order) {
    if (names[code]) return { text: names[code], lang: htmlLang(code) };
  }
  const first = Object.keys(names)[0];
  return first ? { text: names[first], lang: htmlLang(first) } : { text: "", lang: "ja" };
}

// Puts a per-language name into `el`, marking its language if it differs.
export function putName(el, names) {
  const { text, lang: nameLang } = pickName(names);
  el.textContent = text;
  if (nameLang !== htmlLang()) el.lang = nameLang;
  else el.removeAttribute("lang");
}

function locale() {
  return INTL_LOCALE[lang] || "ja-JP";
}

// "YYYY-MM-DD" (a calendar date of the office) as the chosen language writes it.
export function formatDay(day, timeZone) {
  const noon = new Date(day + "T12:00:00+09:00"); // a moment inside that day in Japan
  return new Intl.DateTimeFormat(locale(), {
    timeZone, year: "numeric", month: "long", day: "numeric", weekday: "short",
  }).format(noon);
}

export function formatShortDay(day, timeZone) {
  const noon = new Date(day + "T12:00:00+09:00");
  return new Intl.DateTimeFormat(locale(), {
    timeZone, month: "long", day: "numeric", weekday: "short",
  }).format(noon);
}

// An ISO 8601 instant as a time of day in the office's zone.
export function formatTime(iso, timeZone) {
  return new Intl.DateTimeFormat(locale(), {
    timeZone, hour: "numeric", minute: "2-digit",
  }).format(new Date(iso));
}

// The office's calendar date of an instant, as "YYYY-MM-DD".
export function dayOf(instant, timeZone) {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone, year: "numeric", month: "2-digit", day: "2-digit",
  }).formatToParts(instant);
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get("year")}-${get("month")}-${get("day")}`;
}

export function addDays(day, n) {
  const d = new Date(day + "T00:00:00Z");
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

// API error codes the pages explain; any other code shows the API's message.
const ERROR_KEYS = {
  "slot_full": "error.slot_full",
  "slot_unavailable": "error.slot_unavailable",
  "invalid_phone": "error.invalid_phone",
  "too_many_bookings": "error.too_many_bookings",
  "rate_limited": "error.rate_limited",
  "validation_failed": "error.validation_failed",
  "unknown_office": "error.unknown_office",
  "unknown_service": "error.unknown_service",
  "not_bookable": "error.not_bookable",
  "beyond_horizon": "error.beyond_horizon",
  "unknown_booking": "error.unknown_booking",
  "not_found": "error.not_found",
  "booking_not_active": "error.booking_not_active",
  "same_slot": "error.same_slot",
  "office_closed": "error.office_closed",
  "invalid_date": "error.invalid_date",
  "code_taken": "error.code_taken",
  "unavailable": "error.unavailable",
  "internal": "error.internal",
  "network": "error.network",
  "too_early": "error.too_early",
  "too_late": "error.too_late",
  "presence_required": "error.presence_required",
  "unknown_ticket": "error.unknown_ticket",
  "walk_in_not_allowed": "error.walk_in_not_allowed",
  "not_remote": "error.not_remote",
};

// The text of an error: a page may set error.key (and error.params) to say
// it more precisely where it knows more (when check-in opens, a queue that
// is closed for today); kept on the error so a language change re-renders it.
export function errorText(error) {
  if (error && error.key) return t(error.key, error.params || {});
  const key = ERROR_KEYS[error && error.code];
  if (key && has(key)) return t(key);
  if (error && error.message) return error.message;
  return t("error.internal");
}
