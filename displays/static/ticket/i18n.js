// Message catalogs of the ticket page /t/{id}, the chosen language and time
// formatting: the shared module (/static/queue/common/i18n.js) with the
// page's catalogs (/static/ticket-i18n/ticket.<lang>.json), the citizens'
// remembered choice ("madoguchi.lang", shared with the booking pages: one
// choice of language for the whole site) and the page's error texts.

import { createI18n } from "/static/queue/common/i18n.js";

// API error codes the page explains; any other code shows the general
// message (error.internal), never the API's own.
const ERROR_KEYS = {
  "validation_failed": "error.validation_failed",
  "presence_required": "error.presence_required",
  "presence_locked": "error.presence_locked",
  "not_remote": "error.not_remote",
  "in_service": "error.in_service",
  "already_finished": "error.already_finished",
  "rejoin_window_passed": "error.rejoin_window_passed",
  "not_no_show": "error.not_no_show",
  "unknown_ticket": "error.unknown_ticket",
  "rate_limited": "error.rate_limited",
  "unavailable": "error.unavailable",
  // Said the same: a repeated cancel, rejoin or arrival changes nothing more.
  "outcome_unknown": "error.unavailable",
  "internal": "error.internal",
  "network": "error.network",
};

const i18n = createI18n({
  base: "/static/ticket-i18n/",
  catalogs: ["ticket"],
  storageKey: "madoguchi.lang",
  errorKeys: ERROR_KEYS,
  apiMessages: false,
});

export const {
  LANGS, applyI18n, chooseLang, currentLang, errorText, formatTime, has, htmlLang, langSwitch,
  markLangSwitch, pickName, putName, rememberInUrl, renderLangSwitch, setLang, startLang, t,
} = i18n;
