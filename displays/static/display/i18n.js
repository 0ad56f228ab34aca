// Message catalogs of the lobby display (/static/lobby/i18n/display.<lang>.json).
//
// The display has no language switch: the office configures its languages
// and the screen cycles through them (display.languages), while the
// announcer asks for texts in each spoken language explicitly — so t()
// takes an optional language. HTML elements name their key in data-i18n
// (text) or data-i18n-attr ("attribute:key;..."). Keys are written out in
// full in the code so the tests can check every catalog has them.

export const LANGS = ["ja", "en", "ko", "zh-Hans", "vi"];

const HTML_LANG = { "ja": "ja", "en": "en", "ko": "ko", "zh-Hans": "zh-Hans", "vi": "vi" };
const INTL_LOCALE = {
  "ja": "ja-JP", "en": "en-GB", "ko": "ko-KR", "zh-Hans": "zh-Hans-CN", "vi": "vi-VN",
};
// Speech synthesis wants a region.
export const SPEECH_LANG = {
  "ja": "ja-JP", "en": "en-US", "ko": "ko-KR", "zh-Hans": "zh-CN", "vi": "vi-VN",
};

const CATALOG_URL = "/static/lobby/i18n/display.";
const catalogs = new Map();
const loading = new Map();
let current = "ja";

export function currentLang() {
  return current;
}

export function htmlLang(code = current) {
  return HTML_LANG[code] || "ja";
}

export function locale(code = current) {
  return INTL_LOCALE[code] || "ja-JP";
}

export function load(code) {
  if (!LANGS.includes(code)) return Promise.reject(new Error("unknown language " + code));
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

export function loaded(code) {
  return catalogs.has(code);
}

// Makes `code` the screen's language (its catalog must be loaded).
export function setLang(code) {
  current = catalogs.has(code) ? code : "ja";
  document.documentElement.lang = htmlLang(current);
  return current;
}

// Text of `key` in `code` (default: the screen's language), Japanese when
// that catalog lacks it; {name} placeholders are filled from `params`.
export function t(key, params = {}, code = current) {
  const own = catalogs.get(code) || {};
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

// A name given per language by the configuration: that language, else
// English for the non-Japanese languages (foreign visitors read it more
// often than Japanese), else Japanese. Returns the text and its language.
export function pickName(names, code = current) {
  if (!names || typeof names !== "object") return { text: "", lang: "ja" };
  const order = code === "ja" ? ["ja"] : [code, "en", "ja"];
  for (const c of order) {
    if (names[c]) return { text: names[c], lang: htmlLang(c) };
  }
  const first = Object.keys(names)[0];
  return first ? { text: names[first], lang: htmlLang(first) } : { text: "", lang: "ja" };
}

// Puts a per-language name into `el`, marking its language when it is not
// the screen's (a screen reader then pronounces it right).
export function putName(el, names, code = current) {
  const { text, lang } = pickName(names, code);
  el.textContent = text;
  if (lang !== htmlLang(code)) el.lang = lang;
  else el.removeAttribute("lang");
}
