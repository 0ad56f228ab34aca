// What a refused action means for the clerk, in the catalog language. The
// API's error codes (queue_server/errors.py) are the contract; the login
// pages' messages.js already explains the session and network ones.

import { formatTime, t } from "../login/i18n.js";
import { errorText } from "../login/messages.js";

// Codes whose message needs no details beyond the ticket number.
const KEYS = {
  "counter_busy": "staff.error.counter_busy",
  "no_current_ticket": "staff.error.no_current_ticket",
  "ticket_mismatch": "staff.error.ticket_mismatch",
  "not_called": "staff.error.not_called",
  "already_serving": "staff.error.already_serving",
  "rejoin_window_passed": "staff.error.rejoin_window_passed",
  "in_service": "staff.error.in_service",
  "walk_in_not_allowed": "staff.error.walk_in_not_allowed",
  "unknown_ticket": "staff.error.unknown_ticket",
  "unknown_counter": "staff.error.unknown_counter",
  "unknown_target_counter": "staff.error.unknown_counter",
  "unknown_office": "staff.error.unknown_office",
  "unknown_service": "staff.error.unknown_service",
  "no_target": "staff.error.no_target",
  "rate_limited": "staff.error.rate_limited",
  "outcome_unknown": "staff.error.outcome_unknown",
  "unauthorized": "error.session_expired",
};

// The ticket changed state somewhere else a moment ago (another counter
// resumed, rejoined, cancelled or finished it): the list was out of date.
const TAKEN = new Set(["not_parked", "not_no_show", "already_finished"]);

// {code, details} of an API error → one plain sentence. `about`: {number,
// office} for the sentence.
export function staffErrorText(code, details = {}, about = {}) {
  const number = about.number || "";
  if (code === "counter_not_open") {
    return t(details.state === "closed" ? "staff.error.counter_closed"
      : "staff.error.counter_paused");
  }
  if (code === "recalls_required") {
    const left = Math.max(1, (details.required || 1) - (details.recalls || 0));
    return t("staff.error.recalls_required", { number, left });
  }
  if (code === "forbidden") return t("staff.error.forbidden", { office: about.office || "" });
  if (TAKEN.has(code)) {
    return number ? t("staff.error.taken", { number }) : t("staff.error.taken_no_number");
  }
  if (code in KEYS) return t(KEYS[code], { number });
  if (code === "login_rate_limited" || code === "login_locked") {
    return errorText(code, { until: details.until || "" });
  }
  return errorText(code, details);
}

// A time of day for "until 10:20" (rejoin windows).
export function clockTime(iso, plusMinutes = 0) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return "";
  return formatTime(new Date(when.getTime() + plusMinutes * 60_000).toISOString());
}
