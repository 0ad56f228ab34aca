// Message catalogs of the lobby display (/static/lobby/i18n/display.<lang>.json),
// through the shared module (/static/queue/common/i18n.js).
//
// The display has no language switch and remembers nothing: the office
// configures its languages and the screen cycles through them
// (display.languages), unless ?lang= pins one TV to one language
// (askedLang); setLang switches at once to a loaded language. The announcer
// asks for texts in each spoken language explicitly, so t() takes an
// optional language. HTML elements name their key in data-i18n (text) or
// data-i18n-attr ("attribute:key;..."). Keys are written out in full in the
// code so the tests can check every catalog has them.

import { STANDARD_LANGS, createI18n } from "/static/queue/common/i18n.js";

// Speech synthesis wants a region.
export const SPEECH_LANG = {
  "ja": "ja-JP", "en": "en-US", "ko": "ko-KR", "zh-Hans": "zh-CN", "vi": "vi-VN",
};

const i18n = createI18n({
  base: "/static/lobby/i18n/",
  catalogs: ["display"],
  langs: STANDARD_LANGS,
  storageKey: null,
});

export const {
  LANGS, applyI18n, askedLang, currentLang, htmlLang, load, loaded, locale, pickName, putName, t,
} = i18n;
export const setLang = i18n.useLang;
