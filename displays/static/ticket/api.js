// The public HTTP API (/api/v1, same origin). Failures throw ApiError with
// the API's error code ("network" when the server could not be reached) and
// its details (e.g. when check-in opens), so pages can say more than the code.

export class ApiError extends Error {
  constructor(code, message, status = 0, details = null) {
    super(message || code);
    this.code = code;
    this.status = status;
    this.details = details || {};
  }
}

export async function api(method, path, body) {
  const init = { method, headers: { "Accept": "application/json" }, cache: "no-store" };
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
  const text = await response.text();
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
