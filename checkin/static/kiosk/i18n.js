// Message catalogs of the kiosk and the chosen language: the shared module
// (/static/queue/common/i18n.js) with the kiosk's catalogs
// (/static/checkin/i18n/kiosk.<lang>.json), all loaded at start-up
// (loadAll), and times written 24-hour as the printed ticket writes them.
//
// Unlike the booking pages, the kiosk never remembers a language (no
// storage key): the next citizen at the machine starts in Japanese (the
// page resets it on going home).

import { TIME_24H, createI18n } from "/static/queue/common/i18n.js";

export const {
  LANGS, applyI18n, currentLang, formatDate, formatTime, has, htmlLang, loadAll, markLangSwitch,
  pickName, putName, renderLangSwitch, setLang, t,
} = createI18n({
  base: "/static/checkin/i18n/",
  catalogs: ["kiosk"],
  storageKey: null,
  timeFormat: TIME_24H,
});
