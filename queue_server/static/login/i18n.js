// Message catalogs and the chosen language of the staff pages (login,
// password, and the staff console and admin pages after them).
//
// Texts come from /static/queue/i18n/<catalog>.<lang>.json; elements name
// their key in data-i18n (text) or data-i18n-attr ("attribute:key;..."). The
// HTML carries the Japanese text too, so a page reads right before (and
// without) its script. Keys are written out in full in the code (never built
// from pieces) so tests can check every catalog has them.

export const LANGS = ["ja", "en", "ko", "zh-Hans", "vi"];

// Each language named in itself (the same in every catalog, so kept here).
const LANG_NAMES = {
  "ja": "日本語", "en": "English", "ko": "한국어", "zh-Hans": "简体中文", "vi": "Tiếng Việt",
};
const INTL_LOCALE = {
  "ja": "ja-JP", "en": "en-GB", "ko": "ko-KR", "zh-Hans": "zh-Hans-CN", "vi": "vi-VN",
};
// Its own key: a clerk's choice on a shared PC must not change the language
// of the citizens' pages (they remember theirs under "madoguchi.lang").
const STORAGE_KEY = "madoguchi.staff-lang";
const CATALOG_URL = "/static/queue/i18n/";
export const TIME_ZONE = "Asia/Tokyo";

let catalogNames = ["login"];
let lang = "ja";
const catalogs = new Map(); // "<name>.<lang>" -> object
const loading = new Map();

export function useCatalogs(names) {
  catalogNames = [...names];
}

export function currentLang() {
  return lang;
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

// ?lang= wins (and is remembered), then the remembered choice, then
// Japanese: the offices' working language, whatever the PC's browser says.
export function chooseLang() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (asked && LANGS.includes(asked)) {
    store(asked);
    return asked;
  }
  const remembered = stored();
  return remembered && LANGS.includes(remembered) ? remembered : "ja";
}

function load(name, code) {
  const id = `${name}.${code}`;
  if (!loading.has(id)) {
    const promise = fetch(`${CATALOG_URL}${id}.json`, { cache: "no-cache" })
      .then((response) => {
        if (!response.ok) throw new Error(`catalog ${id}: ${response.status}`);
        return response.json();
      })
      .then((catalog) => {
        catalogs.set(id, catalog);
        return catalog;
      });
    promise.catch(() => loading.delete(id)); // a later try may succeed
    loading.set(id, promise);
  }
  return loading.get(id);
}

// Loads the catalogs of `code` (and Japanese, the fallback for a missing
// key) and makes it the page's language.
export async function setLang(code, { remember = false } = {}) {
  if (!LANGS.includes(code)) code = "ja";
  const wanted = new Set([code, "ja"]);
  await Promise.all(catalogNames.flatMap((name) => [...wanted].map((c) => load(name, c))));
  lang = code;
  if (remember) store(code);
  document.documentElement.lang = code;
  return code;
}

function lookup(code, key) {
  for (const name of catalogNames) {
    const catalog = catalogs.get(`${name}.${code}`);
    if (catalog && key in catalog) return catalog[key];
  }
  return undefined;
}

export function t(key, params = {}) {
  const text = lookup(lang, key) ?? lookup("ja", key) ?? key;
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
    button.lang = code;
    button.dataset.lang = code;
    button.textContent = LANG_NAMES[code];
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

// An ISO 8601 instant as a time of day at the office ("10:15").
export function formatTime(isoText) {
  const when = new Date(isoText);
  if (Number.isNaN(when.getTime())) return "";
  return new Intl.DateTimeFormat(INTL_LOCALE[lang] || "ja-JP", {
    timeZone: TIME_ZONE, hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).format(when);
}
