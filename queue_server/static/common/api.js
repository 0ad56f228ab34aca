// JSON over HTTP from this server, for every browser page (served at
// /static/queue/common/api.js).
//
//   const services = await api("GET", `/offices/${enc(office)}/services`);
//   const ticket = await api("POST", `/offices/${enc(office)}/tickets`, { service }, { token });
//   const config = await fetchJson(`/display/${enc(office)}/config.json`);
//
// Failures throw ApiError with the API's error code and its details (the
// answer {"error": {code, message, details}}): "network" when the server
// could not be reached or did not answer within `timeoutMs`, "internal" for
// a failure without that shape (a proxy's page). So a page can tell "the
// server is down" from "the server said no", and say more than the code.
//
// Options: `token` sends Authorization: Bearer (a kiosk's or a display's
// device token); `csrf` sends X-CSRF-Token (a staff session's); `as: "text"`
// for an answer that is not JSON (an SVG image); `timeoutMs` so a request
// that hangs (a half-dead network) does not leave a screen waiting for ever;
// `signal` to abort it from outside; `idempotencyKey` sends Idempotency-Key.
//
// A user action that changes state (a ticket, a call, a booking, a check-in)
// goes through act() instead: one Idempotency-Key for the action, and the
// same request again with that key while the outcome is unknown (the server
// answered "outcome_unknown", or no answer came), so the server does it at
// most once and the page learns what happened:
//
//   const ticket = await act("POST", `/offices/${enc(office)}/tickets`, { service },
//     { token, timeoutMs: 15_000 });

export const API_BASE = "/api/v1";

export class ApiError extends Error {
  constructor(code, message, status = 0, details = null) {
    super(message || code);
    this.code = code;
    this.status = status;
    this.details = details || {};
  }
}

function networkError(err) {
  return new ApiError("network", String(err && err.message ? err.message : err));
}

async function send(url, { method, body, token, csrf, as, signal, idempotencyKey }) {
  const init = { method, headers: { "Accept": "application/json" }, cache: "no-store", signal };
  if (token) init.headers["Authorization"] = "Bearer " + token;
  if (idempotencyKey) init.headers["Idempotency-Key"] = idempotencyKey;
  if (csrf) init.headers["X-CSRF-Token"] = csrf;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  let text;
  try {
    response = await fetch(url, init);
    text = await response.text();
  } catch (err) {
    throw networkError(err);
  }
  if (response.ok && as === "text") return text;
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = data && data.error ? data.error : {};
    throw new ApiError(error.code || "internal", error.message || "", response.status,
      error.details);
  }
  return data;
}

export async function fetchJson(url, {
  method = "GET", body, token, csrf, as = "json", timeoutMs = 0, signal, idempotencyKey,
} = {}) {
  if (!timeoutMs) return send(url, { method, body, token, csrf, as, signal, idempotencyKey });
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const forward = () => abort.abort();
  if (signal) {
    if (signal.aborted) abort.abort();
    else signal.addEventListener("abort", forward, { once: true });
  }
  try {
    return await send(url, { method, body, token, csrf, as, signal: abort.signal,
      idempotencyKey });
  } finally {
    clearTimeout(timer);
    if (signal) signal.removeEventListener("abort", forward);
  }
}

// The public HTTP API (/api/v1, same origin): `path` after /api/v1, `body`
// sent as JSON (none when undefined).
export function api(method, path, body, options = {}) {
  return fetchJson(API_BASE + path, { ...options, method, body });
}

// api() with a page's own defaults (a kiosk's time-out).
export function apiWith(defaults) {
  return (method, path, body, options = {}) => api(method, path, body, { ...defaults, ...options });
}

export const enc = encodeURIComponent;

// A fresh key per user action: 128 random bits in hex. crypto.getRandomValues
// works on plain-http pages too (a kiosk on the office LAN), randomUUID not.
export function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// Outcomes that are not known: the request may or may not have been done.
export const UNKNOWN_OUTCOME = new Set(["outcome_unknown", "network"]);

// Send a state-changing request until its outcome is known: `tries` times
// at most, with the same Idempotency-Key, `pauseMs` × attempt apart. Throws
// the last error (still outcome_unknown or network when the server never
// answered; the page then reads the state before acting again).
export async function act(method, path, body, options = {}) {
  const { tries = 4, pauseMs = 1000, ...rest } = options;
  const idempotencyKey = rest.idempotencyKey || newIdempotencyKey();
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await api(method, path, body, { ...rest, idempotencyKey });
    } catch (err) {
      const aborted = rest.signal && rest.signal.aborted;
      if (aborted || attempt >= tries || !UNKNOWN_OUTCOME.has(err.code)) throw err;
      await new Promise((resolve) => setTimeout(resolve, pauseMs * attempt));
    }
  }
}

// act() with a page's own defaults (a kiosk's time-out).
export function actWith(defaults) {
  return (method, path, body, options = {}) => act(method, path, body, { ...defaults, ...options });
}
