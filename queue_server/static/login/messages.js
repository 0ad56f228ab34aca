// Error codes of the login, password and session endpoints in the chosen
// language, and the page's two live regions: #alert (role="alert": errors,
// announced at once) and #status (role="status": progress and success).

import { formatTime, t } from "./i18n.js";

const ERROR_KEYS = {
  "login_failed": "error.login_failed",
  "account_disabled": "error.account_disabled",
  "session_expired": "error.session_expired",
  "csrf_failed": "error.csrf_failed",
  "wrong_password": "error.wrong_password",
  "password_mismatch": "error.password_mismatch",
  "validation_failed": "error.validation_failed",
  "unavailable": "error.unavailable",
  // A login, logout or password change may be repeated safely.
  "outcome_unknown": "error.unavailable",
  "network": "error.network",
};

// Why a new password was refused (users.password_problem's reasons).
const WEAK_KEYS = {
  "too_short": "weak.too_short",
  "too_long": "weak.too_long",
  "contains_name": "weak.contains_name",
  "too_simple": "weak.too_simple",
  "common": "weak.common",
  "same_as_current": "weak.same_as_current",
};

export function errorText(code, details = {}) {
  if (code === "login_locked") {
    return t("error.login_locked", { time: formatTime(details.until || "") });
  }
  if (code === "login_rate_limited") {
    return t("error.login_rate_limited", { time: formatTime(details.until || "") });
  }
  if (code === "weak_password") {
    return t(WEAK_KEYS[details.reason] || "weak.generic", { min: details.min_length || 12 });
  }
  return t(ERROR_KEYS[code] || "error.generic");
}

// The error of a failed fetch() answer: {code, details}.
export async function errorOf(response) {
  try {
    const body = await response.json();
    if (body && body.error && body.error.code) {
      return { code: body.error.code, details: body.error.details || {} };
    }
  } catch {
    // not JSON: a proxy's page
  }
  return { code: response.status >= 500 ? "unavailable" : "generic", details: {} };
}

// Shows again (in a newly chosen language) the message a page keeps:
// {code, details} of an error, or {key} of a status; null for none.
export function showAgain(shown) {
  if (shown && shown.code) showError(errorText(shown.code, shown.details));
  if (shown && shown.key) setStatus(t(shown.key));
}

export function showError(text) {
  setStatus("");
  document.getElementById("alert").textContent = text;
}

export function clearError() {
  document.getElementById("alert").textContent = "";
}

export function setStatus(text) {
  document.getElementById("status").textContent = text;
}

// Sends `form` with fetch() as the browser would post it (URL-encoded, with
// the session cookie) but asking for JSON, while `submit` is marked busy
// (aria-disabled), and hands the answer to answer(response); failed() when
// the server could not be reached or its answer could not be read.
export async function sendForm(form, url, { submit, headers = {}, answer, failed }) {
  submit.setAttribute("aria-disabled", "true");
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Accept": "application/json", ...headers },
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin",
      cache: "no-store",
    });
    await answer(response);
  } catch {
    failed();
  } finally {
    submit.removeAttribute("aria-disabled");
  }
}
