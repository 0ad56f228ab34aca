// Message catalogs and the chosen language of the staff pages (login,
// password, and the staff console, admin and dashboard pages after them):
// the shared module (/static/queue/common/i18n.js) set up for staff.
//
// Texts come from /static/queue/i18n/<catalog>.<lang>.json (a page adds its
// own catalog to "login" with useCatalogs); elements name their key in
// data-i18n (text) or data-i18n-attr ("attribute:key;..."). The HTML carries
// the Japanese text too, so a page reads right before (and without) its
// script. Keys are written out in full in the code (never built from
// pieces) so tests can check every catalog has them. Times are the
// office's (TIME_ZONE), 24-hour.

import { STANDARD_LANGS, TIME_24H, TIME_ZONE, createI18n } from "../common/i18n.js";

export { TIME_ZONE };

// Each language named in itself (the staff catalogs do not carry the names).
const LANG_NAMES = {
  "ja": "日本語", "en": "English", "ko": "한국어", "zh-Hans": "简体中文", "vi": "Tiếng Việt",
};

export const {
  LANGS, applyI18n, chooseLang, currentLang, formatTime, langSwitch, markLangSwitch,
  renderLangSwitch, setLang, t, useCatalogs,
} = createI18n({
  base: "/static/queue/i18n/",
  catalogs: ["login"],
  langs: STANDARD_LANGS,
  // Its own key: a clerk's choice on a shared PC must not change the
  // language of the citizens' pages (they remember theirs under
  // "madoguchi.lang"). Japanese, the offices' working language, whatever
  // the PC's browser says.
  storageKey: "madoguchi.staff-lang",
  fromBrowser: false,
  langNames: LANG_NAMES,
  timeFormat: TIME_24H,
});
