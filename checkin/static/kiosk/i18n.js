// Message catalogs of the kiosk and the chosen language.
//
// Every text on the kiosk comes from /static/checkin/i18n/kiosk.<lang>.json;
// HTML elements name their key in data-i18n (text) or data-i18n-attr
// ("attribute:key;attribute:key"). Keys are written out in full in the code
// (never built from pieces) so the tests can check every catalog has them.
//
// Unlike the booking pages, the kiosk never remembers a language: the next
// citizen at the machine starts in Japanese (the page resets it on going home).

export const LANGS = ["ja", "en", "ko", "zh-Hans", "vi", "ja-easy"];

// The language's own name (the same text in every catalog).
const LANG_NAME_KEYS = {
  "ja": "lang.ja",
  "en": "lang.en",
  "ko": "lang.ko",
  "zh-Hans": "lang.zh-Hans",
  "vi": "lang.vi",
  "ja-easy": "lang.ja-easy",
};

// BCP 47 tags for the lang attribute (fonts, screen readers) and for Intl.
// やさしい日本語 is Japanese.
const HTML_LANG = { "ja": "ja", "en": "en", "ko": "ko", "zh-Hans": "zh-Hans", "vi": "vi", "ja-easy": "ja" };
const INTL_LOCALE = {
  "ja": "ja-JP", "en": "en-GB", "ko": "ko-KR", "zh-Hans": "zh-Hans-CN", "vi": "vi-VN", "ja-easy": "ja-JP",
};

const CATALOG_URL = "/static/checkin/i18n/kiosk.";

const catalogs = new Map();
const loading = new Map(); // language -> the promise of its catalog
let lang = "ja";

export function currentLang() {
  return lang;
}

export function htmlLang(code = lang) {
  return HTML_LANG[code] || "ja";
}

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

// Loads every catalog at start-up: a language button then switches at once,
// and a kiosk that loses the network later still speaks every language.
export async function loadAll() {
  await Promise.all(LANGS.map((code) => load(code)));
}

export async function setLang(code) {
  if (!LANGS.includes(code)) code = "ja";
  await Promise.all([load(code), load("ja")]);
  lang = code;
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
    // The name of a language is the same in every catalog: take it from the
    // language's own one, so it is right before that language is chosen.
    const own = catalogs.get(code) || catalogs.get("ja") || {};
    button.textContent = own[LANG_NAME_KEYS[code]] || code;
    button.addEventListener("click", () => onChoose(code));
    item.append(button);
    list.append(item);
  }
  markLangSwitch(list);
}

export function markLangSwitch(list) {
  for (const button of list.querySelectorAll("button[data-lang]")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === lang));
  }
}

// A name the API gives per language: the chosen language, else for
// やさしい日本語 the Japanese, for others English, else Japanese. Returns the
// text and the language it is really in.
export function pickName(names) {
  if (!names || typeof names !== "object") return { text: "", lang: "ja" };
  const order = lang.startsWith("ja") ? [lang, "ja"] : [lang, "en", "ja"];
  for (const code of order) {
    if (names[code]) return { text: names[code], lang: htmlLang(code) };
  }
  const first = Object.keys(names)[0];
  return first ? { text: names[first], lang: htmlLang(first) } : { text: "", lang: "ja" };
}

// Puts a per-language name into `el`, marking its language if it differs
// from the page's (a Japanese service name on the English screen).
export function putName(el, names) {
  const { text, lang: nameLang } = pickName(names);
  el.textContent = text;
  if (nameLang !== htmlLang()) el.lang = nameLang;
  else el.removeAttribute("lang");
}

function locale() {
  return INTL_LOCALE[lang] || "ja-JP";
}

// An instant (ISO 8601 text, epoch ms or a Date) as a time of day in the
// office's zone, 24-hour (as the printed ticket writes it).
export function formatTime(instant, timeZone) {
  return new Intl.DateTimeFormat(locale(), {
    timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).format(new Date(instant));
}

export function formatDate(instant, timeZone) {
  return new Intl.DateTimeFormat(locale(), {
    timeZone, month: "long", day: "numeric", weekday: "short",
  }).format(new Date(instant));
}
