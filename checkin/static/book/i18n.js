// Message catalogs, the chosen language and date/time formatting of the
// booking pages (/book, /b/{token}) and the lobby page /here/{office}: the
// shared module (/static/queue/common/i18n.js) with their catalogs
// (/static/checkin/i18n/book.<lang>.json), the citizens' remembered choice
// ("madoguchi.lang", shared with the ticket page) and their error texts.

import { createI18n } from "/static/queue/common/i18n.js";

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
  "outcome_unknown": "error.outcome_unknown",
  "too_early": "error.too_early",
  "too_late": "error.too_late",
  "presence_required": "error.presence_required",
  "presence_locked": "error.presence_locked",
  "unknown_ticket": "error.unknown_ticket",
  "walk_in_not_allowed": "error.walk_in_not_allowed",
  "not_remote": "error.not_remote",
};

const i18n = createI18n({
  base: "/static/checkin/i18n/",
  catalogs: ["book"],
  storageKey: "madoguchi.lang",
  errorKeys: ERROR_KEYS,
});

export const {
  LANGS, addDays, applyI18n, chooseLang, currentLang, dayOf, errorText, formatDay,
  formatShortDay, formatTime, has, htmlLang, langSwitch, markLangSwitch, neverRemember, pickName,
  putName, rememberInUrl, renderLangSwitch, setLang, startLang, t,
} = i18n;
