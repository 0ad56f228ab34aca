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
// `signal` to abort it from outside.

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

async function send(url, { method, body, token, csrf, as, signal }) {
  const init = { method, headers: { "Accept": "application/json" }, cache: "no-store", signal };
  if (token) init.headers["Authorization"] = "Bearer " + token;
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
  method = "GET", body, token, csrf, as = "json", timeoutMs = 0, signal,
} = {}) {
  if (!timeoutMs) return send(url, { method, body, token, csrf, as, signal });
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const forward = () => abort.abort();
  if (signal) {
    if (signal.aborted) abort.abort();
    else signal.addEventListener("abort", forward, { once: true });
  }
  try {
    return await send(url, { method, body, token, csrf, as, signal: abort.signal });
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
