// Catalogs and language of the start page: the staff pages' choices
// (login/i18n.js: Japanese first whatever the browser says, kept under
// madoguchi.staff-lang), with the start page's own catalog.

import { STANDARD_LANGS, TIME_24H, createI18n } from "../common/i18n.js";

const LANG_NAMES = {
  "ja": "日本語", "en": "English", "ko": "한국어", "zh-Hans": "简体中文", "vi": "Tiếng Việt",
};

export const {
  applyI18n, chooseLang, langSwitch, pickName, setLang, t,
} = createI18n({
  base: "/static/queue/i18n/",
  catalogs: ["login", "start"],
  langs: STANDARD_LANGS,
  storageKey: "madoguchi.staff-lang",
  fromBrowser: false,
  langNames: LANG_NAMES,
  timeFormat: TIME_24H,
});
