// What every administration page shares: start-up (language, session, the
// header), calling the admin API, explaining its errors and validation
// problems in the chosen language, a confirmation dialog, and a small DOM
// helper. The login pages' modules do the language, session and message
// work; this adds the administration's own.

import "./header.js"; // first: the header is there before anything looks for it
import {
  applyI18n, chooseLang, currentLang, markLangSwitch, renderLangSwitch, setLang, t, useCatalogs,
  TIME_ZONE,
} from "/static/queue/login/i18n.js";
import { clearError, errorOf, errorText, setStatus, showError } from "/static/queue/login/messages.js";
import { api, csrfToken, getSession, logout } from "/static/queue/login/session.js";

export { api, applyI18n, clearError, csrfToken, currentLang, errorOf, setStatus, showError, t };

// The administration's own error codes (the login catalog explains the
// session ones: session_expired, csrf_failed, ...).
const ERROR_KEYS = {
  "forbidden": "admin.error.forbidden",
  "config_conflict": "admin.error.config_conflict",
  "config_busy": "admin.error.config_busy",
  "office_exists": "admin.error.office_exists",
  "unknown_office": "admin.error.unknown_office",
  "unknown_token": "admin.error.unknown_token",
  "invalid_yaml": "admin.error.invalid_yaml",
  "invalid_json": "admin.error.invalid_json",
  "unsupported_media_type": "admin.error.unsupported_media_type",
  "payload_too_large": "admin.error.payload_too_large",
  "validation_failed": "admin.error.validation_failed",
  "not_found": "admin.error.not_found",
};

export function adminErrorText(code, details = {}) {
  if (code === "invalid_yaml" && details.line) {
    return t("admin.error.invalid_yaml_line", { line: details.line });
  }
  if (ERROR_KEYS[code]) return t(ERROR_KEYS[code]);
  return errorText(code, details);
}

// A validation problem ({type, ctx}: the API's, or the page's own checks)
// as a sentence in the chosen language.
const PROBLEM_KEYS = {
  "missing": "problem.missing",
  "string_too_short": "problem.missing",
  "string_too_long": "problem.too_long",
  "id_format": "problem.id_format",
  "letter_format": "problem.letter_format",
  "time_format": "problem.time_format",
  "greater_than": "problem.greater_than",
  "greater_than_equal": "problem.at_least",
  "less_than_equal": "problem.at_most",
  "less_than": "problem.less_than",
  "int_parsing": "problem.whole_number",
  "int_type": "problem.whole_number",
  "int_from_float": "problem.whole_number",
  "float_parsing": "problem.number",
  "float_type": "problem.number",
  "literal_error": "problem.choice",
  "enum": "problem.choice",
  "too_short": "problem.list_too_short",
  "too_long": "problem.list_too_long",
  "extra_forbidden": "problem.extra",
  "duplicate_id": "problem.duplicate_id",
  "duplicate_letter": "problem.duplicate_letter",
  "unknown_service": "problem.unknown_service",
  "duplicate_service": "problem.duplicate_service",
  "duplicate_date": "problem.duplicate_date",
  "close_before_open": "problem.close_before_open",
  "unknown_timezone": "problem.timezone",
  "sms_braces": "problem.sms_braces",
  "sms_unknown_placeholder": "problem.sms_placeholder",
  "date_parsing": "problem.date",
  "date_from_datetime_parsing": "problem.date",
  "date_type": "problem.date",
  "model_type": "problem.type",
  "dict_type": "problem.type",
  "list_type": "problem.type",
  "string_type": "problem.type",
  "bool_type": "problem.type",
  "bool_parsing": "problem.type",
  "required_ja": "problem.required_ja",
  "need_service": "problem.need_service",
};

export function problemText(problem) {
  const key = PROBLEM_KEYS[problem.type] || "problem.generic";
  // A too_long string has max_length; a too_long list too (list_too_long).
  if (problem.type === "too_long" && problem.ctx && problem.ctx.max_length === undefined) {
    return t("problem.generic");
  }
  return t(key, problem.ctx || {});
}

// h("button", {type: "button", class: "x", onclick: f}, "text", child, ...)
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      el.className = value;
    } else if (name === "dataset") {
      Object.assign(el.dataset, value);
    } else if (name === "text") {
      el.textContent = value;
    } else if (name in el && typeof value !== "string") {
      el[name] = value; // booleans and numbers: checked, value, ...
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// The API's JSON answer, or {error: {code, details}} (the page explains it).
// A 401 has already taken the page to the login (session.js).
export async function call(path, options = {}) {
  let response;
  try {
    response = await api(path, options);
  } catch {
    return { status: 0, error: { code: "network", details: {} } };
  }
  if (response.ok) {
    const body = response.status === 204 ? null : await response.json();
    return { status: response.status, body, headers: response.headers };
  }
  return { status: response.status, error: await errorOf(response) };
}

// A raw body (an imported file) with its own Content-Type.
export async function send(path, method, text, contentType, headers = {}) {
  await getSession();
  let response;
  try {
    response = await fetch(path, {
      method, body: text, credentials: "same-origin", cache: "no-store",
      headers: {
        "Accept": "application/json", "Content-Type": contentType,
        "X-CSRF-Token": csrfToken(), ...headers,
      },
    });
  } catch {
    return { status: 0, error: { code: "network", details: {} } };
  }
  if (response.status === 401) location.assign("/login?next=" + encodeURIComponent(location.pathname));
  if (response.ok) return { status: response.status, body: await response.json() };
  return { status: response.status, error: await errorOf(response) };
}

export function contentTypeOf(fileName) {
  return /\.ya?ml$/i.test(fileName) ? "application/yaml" : "application/json";
}

// "2026-11-27 10:15" in the city's time zone and the chosen language.
export function formatDateTime(isoText) {
  const when = new Date(isoText);
  if (Number.isNaN(when.getTime())) return "";
  const locale = { "ja": "ja-JP", "en": "en-GB", "ko": "ko-KR", "zh-Hans": "zh-Hans-CN", "vi": "vi-VN" };
  return new Intl.DateTimeFormat(locale[currentLang()] || "ja-JP", {
    timeZone: TIME_ZONE, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).format(when);
}

// Names of an office, service or counter in the chosen language (Japanese
// when there is none).
export function nameOf(names) {
  if (!names) return "";
  return names[currentLang()] || names.ja || "";
}

// A modal confirmation (a <dialog> in the page: #confirm). Resolves true on
// "yes"; Escape, "no" or a click outside resolve false; focus returns where
// it was. The answer comes from the buttons and the cancel event, not from
// "close": that event is queued, and a late one from the last dialog would
// answer (and close) the next.
export function confirmDialog(message, yesText) {
  const dialog = document.getElementById("confirm");
  const back = document.activeElement;
  document.getElementById("confirm-text").textContent = message;
  const yes = document.getElementById("confirm-yes");
  const no = document.getElementById("confirm-no");
  yes.textContent = yesText;
  return new Promise((resolve) => {
    let settled = false;
    const listeners = [];
    const on = (target, type, handler) => {
      target.addEventListener(type, handler);
      listeners.push(() => target.removeEventListener(type, handler));
    };
    const finish = (answer) => {
      if (settled) return;
      settled = true;
      for (const off of listeners) off();
      if (dialog.open) dialog.close();
      if (back && back.isConnected) back.focus();
      resolve(answer);
    };
    on(yes, "click", (event) => {
      event.preventDefault();
      finish(true);
    });
    on(no, "click", (event) => {
      event.preventDefault();
      finish(false);
    });
    on(dialog, "cancel", (event) => {
      event.preventDefault();
      finish(false);
    });
    on(dialog, "click", (event) => {
      if (event.target === dialog) finish(false); // the backdrop, outside the box
    });
    dialog.showModal();
    no.focus(); // the safe answer first
  });
}

let rerender = () => {};

function renderShell(session) {
  applyI18n();
  markLangSwitch(document.getElementById("lang-list"));
  const user = session.user;
  document.getElementById("who").textContent = t("admin.signed_in_as", {
    name: user.display_name, role: t(ROLE_KEYS[user.role] || "role.staff"),
  });
}

export const ROLE_KEYS = {
  "admin": "role.admin", "manager": "role.manager", "staff": "role.staff",
  "kiosk": "role.kiosk", "display": "role.display", "phone": "role.phone",
};

// Starts a page: catalogs, session (or off to the login page), header,
// language switch. `render` redraws the page's own parts after a language
// change. Returns the session, or null when leaving for the login page.
export async function boot(render) {
  useCatalogs(["admin", "login"]);
  await setLang(chooseLang());
  const session = await getSession();
  if (!session) return null;
  rerender = () => {
    renderShell(session);
    render();
  };
  renderLangSwitch(document.getElementById("lang-list"), async (code) => {
    await setLang(code, { remember: true });
    rerender();
  });
  document.getElementById("logout").addEventListener("click", () => logout());
  const here = location.pathname.startsWith("/admin/offices") ? "/admin" : location.pathname;
  for (const link of document.querySelectorAll("nav.admin-nav a")) {
    if (link.getAttribute("href") === here) link.setAttribute("aria-current", "page");
  }
  renderShell(session);
  return session;
}

export function isAdmin(session) {
  return session.user.role === "admin";
}

export function showProblemList(container, problems) {
  container.replaceChildren(...problems.map((p) => h("li", {},
    p.field ? h("code", { class: "path" }, p.field) : null, p.field ? ": " : "", problemText(p))));
}
