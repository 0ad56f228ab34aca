// The HTTP API (/api/v1, same origin) with the kiosk's device token.
// Failures throw ApiError with the API's error code ("network" when the
// server could not be reached) and its details (e.g. when check-in opens).

export class ApiError extends Error {
  constructor(code, message, status = 0, details = null) {
    super(message || code);
    this.code = code;
    this.status = status;
    this.details = details || {};
  }
}

// A request that hangs (a half-dead network) must not leave the kiosk on
// "please wait" for ever: after this long it fails as "network".
const TIMEOUT_MS = 15_000;

// `as: "text"` for an answer that is not JSON (an SVG image).
export async function api(method, path, { body, token, as = "json" } = {}) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
  try {
    return await request(method, path, { body, token, as, signal: abort.signal });
  } finally {
    clearTimeout(timer);
  }
}

async function request(method, path, { body, token, as, signal }) {
  const init = {
    method, headers: { "Accept": "application/json" }, cache: "no-store", signal,
  };
  if (token) init.headers["Authorization"] = "Bearer " + token;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch("/api/v1" + path, init);
  } catch (err) {
    throw new ApiError("network", String(err && err.message ? err.message : err));
  }
  let data = null;
  let text;
  try {
    text = await response.text();
  } catch (err) {
    throw new ApiError("network", String(err && err.message ? err.message : err));
  }
  if (response.ok && as === "text") return text;
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

export const enc = encodeURIComponent;
