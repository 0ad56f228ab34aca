// Message catalogs, the chosen language and date/time formatting: one
// module for every browser page (served at /static/queue/common/i18n.js).
//
// A page makes its own instance with createI18n() and exports the functions
// it uses from its own small i18n.js, so its modules keep importing them
// from there:
//
//   const i18n = createI18n({
//     base: "/static/checkin/i18n/", catalogs: ["book"], storageKey: "madoguchi.lang",
//   });
//   await i18n.setLang(i18n.chooseLang(booking.lang));
//   i18n.applyI18n();
//   i18n.t("done.code_spoken", { code });
//
// Catalogs are JSON objects at <base><name>.<lang>.json; a key missing from
// the chosen language's catalogs is taken from the Japanese ones (always
// loaded with it), else shown as the key. HTML elements name their key in
// data-i18n (text) or data-i18n-attr ("attribute:key;attribute:key"). Keys
// are written out in full in the pages' code (never built from pieces) so
// the tests can check that every catalog has them.
//
// Where the language is kept is the page's policy (the options):
// - storageKey: the localStorage key that remembers a choice ("madoguchi.lang"
//   for the citizens' pages, shared by all of them; "madoguchi.staff-lang"
//   for the staff pages), or null for a page that never remembers one (the
//   kiosk and the booking page on it: a shared machine; the lobby display).
//   neverRemember() switches a page to that at run time.
// - ?lang= in the address always wins (askedLang()); the display pins one
//   screen to one language with it, the other pages remember it.
// - fromBrowser: whether the browser's languages count before Japanese (not
//   for the staff pages: Japanese is the offices' working language).
//
// Dates and times are the office's (Asia/Tokyo unless the office says
// otherwise), never the device's zone.

export const TIME_ZONE = "Asia/Tokyo";

// Every language a page may offer, and the five of the staff pages and the
// lobby display (やさしい日本語 is a way of writing Japanese for citizens'
// reading pages).
export const ALL_LANGS = ["ja", "en", "ko", "zh-Hans", "vi", "ja-easy"];
export const STANDARD_LANGS = ["ja", "en", "ko", "zh-Hans", "vi"];

// The catalog key of each language's own name (the same text in every
// catalog of a page).
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

// A time of day as the citizens' pages write it ("9:05", "9:05 am") and as
// the kiosk's paper ticket and the staff pages do ("09:05").
export const TIME_NUMERIC = { hour: "numeric", minute: "2-digit" };
export const TIME_24H = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };

export function htmlLangOf(code) {
  return HTML_LANG[code] || "ja";
}

// The office's calendar date of an instant, as "YYYY-MM-DD".
export function dayOf(instant, timeZone = TIME_ZONE) {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone, year: "numeric", month: "2-digit", day: "2-digit",
  }).formatToParts(instant);
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get("year")}-${get("month")}-${get("day")}`;
}

// "YYYY-MM-DD" plus n days.
export function addDays(day, n) {
  const d = new Date(day + "T00:00:00Z");
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

// The first of the browser's languages that a page has, or null.
function browserLang(langs) {
  for (const tag of navigator.languages || [navigator.language || ""]) {
    const low = tag.toLowerCase();
    const code = low.startsWith("ja") ? "ja" : low.startsWith("ko") ? "ko"
      : low.startsWith("vi") ? "vi" : low.startsWith("zh") ? "zh-Hans"
        : low.startsWith("en") ? "en" : null;
    if (code && langs.includes(code)) return code;
  }
  return null;
}

export function createI18n({
  base,
  catalogs = [],
  langs = ALL_LANGS,
  storageKey = null,
  fromBrowser = true,
  langNames = null, // {code: name} of the buttons, for catalogs without lang.<code>
  timeFormat = TIME_NUMERIC,
  errorKeys = {}, // API error code -> catalog key; "internal" names the general text
  apiMessages = true, // errorText() shows the API's own message for a code it has no key for
} = {}) {
  let catalogNames = [...catalogs];
  let storage = storageKey;
  let current = "ja";
  const loadedCatalogs = new Map(); // "<name>.<lang>" -> object
  const loading = new Map(); // "<name>.<lang>" -> the promise of it

  function currentLang() {
    return current;
  }

  function htmlLang(code = current) {
    return htmlLangOf(code);
  }

  function locale(code = current) {
    return INTL_LOCALE[code] || "ja-JP";
  }

  // The page's catalogs, looked up in this order (a staff page adds its own
  // to the login catalog). Call before setLang().
  function useCatalogs(list) {
    catalogNames = [...list];
  }

  // --- where the choice is kept ------------------------------------------------

  function stored() {
    if (!storage) return null;
    try {
      return window.localStorage.getItem(storage);
    } catch {
      return null; // storage disabled: the choice lasts for this page only
    }
  }

  function store(code) {
    if (!storage) return;
    try {
      window.localStorage.setItem(storage, code);
    } catch {
      // ignored, as above
    }
  }

  // From now on nothing is read from or written to storage.
  function neverRemember() {
    storage = null;
  }

  // The language the address asks for (?lang=), if the page has it.
  function askedLang() {
    const asked = new URLSearchParams(location.search).get("lang");
    return asked && langs.includes(asked) ? asked : null;
  }

  // ?lang= wins (and is remembered), then the remembered choice, then the
  // page's own hint (a booking's or a ticket's language), then the browser,
  // then Japanese.
  function chooseLang(hint) {
    const asked = askedLang();
    if (asked) {
      store(asked);
      return asked;
    }
    const remembered = stored();
    if (remembered && langs.includes(remembered)) return remembered;
    if (hint && langs.includes(hint)) return hint;
    return (fromBrowser && browserLang(langs)) || "ja";
  }

  // --- catalogs ----------------------------------------------------------------

  function loadOne(id) {
    if (!loading.has(id)) {
      const promise = fetch(`${base}${id}.json`, { cache: "no-cache" })
        .then((response) => {
          if (!response.ok) throw new Error(`catalog ${id}: ${response.status}`);
          return response.json();
        })
        .then((catalog) => {
          loadedCatalogs.set(id, catalog);
          return catalog;
        });
      promise.catch(() => loading.delete(id)); // a later try may succeed
      loading.set(id, promise);
    }
    return loading.get(id);
  }

  // Loads the page's catalogs of one language.
  function load(code) {
    if (!langs.includes(code)) return Promise.reject(new Error("unknown language " + code));
    return Promise.all(catalogNames.map((name) => loadOne(`${name}.${code}`)));
  }

  function loaded(code) {
    return catalogNames.every((name) => loadedCatalogs.has(`${name}.${code}`));
  }

  // Every language at once (the kiosk: a language button then switches at
  // once, and a kiosk that loses the network later still speaks them all).
  async function loadAll() {
    await Promise.all(langs.map((code) => load(code)));
  }

  function apply(code) {
    current = code;
    document.documentElement.lang = htmlLang(code);
    return code;
  }

  // Loads the catalogs of `code` (and Japanese, the fallback for a missing
  // key) and makes it the page's language; `remember` keeps the choice
  // (where the page's policy keeps one).
  async function setLang(code, { remember = false } = {}) {
    if (!langs.includes(code)) code = "ja";
    await Promise.all([load(code), load("ja")]);
    if (remember) store(code);
    return apply(code);
  }

  // Makes an already loaded language the page's at once (the lobby display
  // cycles through its languages); Japanese when `code` is not loaded.
  function useLang(code) {
    return apply(langs.includes(code) && loaded(code) ? code : "ja");
  }

  function lookup(code, key) {
    for (const name of catalogNames) {
      const catalog = loadedCatalogs.get(`${name}.${code}`);
      if (catalog && key in catalog) return catalog[key];
    }
    return undefined;
  }

  function has(key) {
    return lookup(current, key) !== undefined;
  }

  // The text of `key` in `code` (default: the page's language), {name}
  // placeholders filled from `params`.
  function t(key, params = {}, code = current) {
    const text = lookup(code, key) ?? lookup("ja", key) ?? key;
    return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
  }

  // Fills every data-i18n / data-i18n-attr element under `root`.
  function applyI18n(root = document) {
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

  // --- the language switch -------------------------------------------------------

  // A language's name in that language: from the language's own catalog, so
  // it is right before that language is loaded (else the Japanese one: the
  // names are the same in every catalog).
  function langName(code) {
    if (langNames) return langNames[code] || code;
    const key = LANG_NAME_KEYS[code];
    return lookup(code, key) ?? lookup(current, key) ?? lookup("ja", key) ?? code;
  }

  // The language buttons: each names its language in that language, with a
  // matching lang attribute so a screen reader pronounces it right.
  function renderLangSwitch(list, onChoose) {
    list.replaceChildren();
    for (const code of langs) {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "lang";
      button.lang = htmlLang(code);
      button.dataset.lang = code;
      button.textContent = langName(code);
      button.setAttribute("aria-pressed", String(code === current));
      button.addEventListener("click", () => onChoose(code));
      item.append(button);
      list.append(item);
    }
  }

  function markLangSwitch(list) {
    for (const button of list.querySelectorAll("button[data-lang]")) {
      button.setAttribute("aria-pressed", String(button.dataset.lang === current));
    }
  }

  // Changes ?lang= in the address without a reload (so a shared or
  // bookmarked address opens in the same language).
  function rememberInUrl(code) {
    const url = new URL(location.href);
    url.searchParams.set("lang", code);
    history.replaceState(history.state, "", url);
  }

  // The language buttons of a citizens' page, and what a press does: load
  // the language (remembered as the page's policy says), put it in the
  // address, re-label the page's HTML and the buttons, then onChange(code)
  // for what the page wrote itself. onError(code): the catalog could not be
  // loaded; the page stays in the language it has.
  function langSwitch(list, { onChange = () => {}, onError = () => {}, inUrl = true } = {}) {
    renderLangSwitch(list, async (code) => {
      try {
        await setLang(code, { remember: true });
      } catch {
        onError(code);
        return;
      }
      if (inUrl) rememberInUrl(code);
      applyI18n(document);
      markLangSwitch(list);
      await onChange(code);
    });
  }

  // A citizens' page's start: its language chosen (`hint`: a booking's or a
  // ticket's own, see chooseLang) and loaded, its HTML labelled and the
  // language buttons in `list` (langSwitch and its options). The HTML is
  // labelled and the buttons are there even when the catalog could not be
  // loaded (the keys show, then); the error is thrown after that.
  async function startLang(list, { hint, ...options } = {}) {
    try {
      await setLang(chooseLang(hint));
    } finally {
      applyI18n(document);
      langSwitch(list, options);
    }
  }

  // --- names the API gives per language ------------------------------------------

  // The chosen language, else for やさしい日本語 the Japanese, for others
  // English (foreign visitors read it more often than Japanese), else
  // Japanese. Returns the text and the language it is really in.
  function pickName(names, code = current) {
    if (!names || typeof names !== "object") return { text: "", lang: "ja" };
    const order = code.startsWith("ja") ? [code, "ja"] : [code, "en", "ja"];
    for (const c of order) {
      if (names[c]) return { text: names[c], lang: htmlLang(c) };
    }
    const first = Object.keys(names)[0];
    return first ? { text: names[first], lang: htmlLang(first) } : { text: "", lang: "ja" };
  }

  // Puts a per-language name into `el`, marking its language when it is not
  // the page's (a Japanese service name on the English screen).
  function putName(el, names, code = current) {
    const { text, lang } = pickName(names, code);
    el.textContent = text;
    if (lang !== htmlLang(code)) el.lang = lang;
    else el.removeAttribute("lang");
  }

  // --- dates and times ------------------------------------------------------------

  function format(instant, timeZone, options) {
    const when = new Date(instant);
    if (Number.isNaN(when.getTime())) return "";
    return new Intl.DateTimeFormat(locale(), { timeZone, ...options }).format(when);
  }

  // "YYYY-MM-DD" (a calendar date of the office) as the language writes it.
  function formatDay(day, timeZone = TIME_ZONE) {
    // A moment inside that day in Japan.
    return format(day + "T12:00:00+09:00", timeZone,
      { year: "numeric", month: "long", day: "numeric", weekday: "short" });
  }

  function formatShortDay(day, timeZone = TIME_ZONE) {
    return format(day + "T12:00:00+09:00", timeZone,
      { month: "long", day: "numeric", weekday: "short" });
  }

  // An instant's date (ISO 8601 text, epoch ms or a Date), without the year.
  function formatDate(instant, timeZone = TIME_ZONE) {
    return format(instant, timeZone, { month: "long", day: "numeric", weekday: "short" });
  }

  // An instant as a time of day in the office's zone ("" if it is none).
  function formatTime(instant, timeZone = TIME_ZONE) {
    return format(instant, timeZone, timeFormat);
  }

  // --- errors ----------------------------------------------------------------------

  // The text of an API error: a page may set error.key (and error.params)
  // to say it more precisely where it knows more (when check-in opens, a
  // queue that is closed for today); kept on the error so a language change
  // re-renders it. Then the page's text for the code, the API's message
  // (where the page shows those), else the general text.
  function errorText(error) {
    if (error && error.key) return t(error.key, error.params || {});
    const key = errorKeys[error && error.code];
    if (key && has(key)) return t(key);
    if (apiMessages && error && error.message) return error.message;
    return errorKeys.internal ? t(errorKeys.internal) : String((error && error.code) || "");
  }

  return {
    LANGS: langs, TIME_ZONE,
    currentLang, htmlLang, locale, useCatalogs, neverRemember, askedLang, chooseLang,
    load, loaded, loadAll, setLang, useLang, has, t, applyI18n,
    renderLangSwitch, markLangSwitch, rememberInUrl, langSwitch, startLang,
    pickName, putName,
    formatDay, formatShortDay, formatDate, formatTime, dayOf, addDays,
    errorText,
  };
}
