// JSON over HTTP from this server. Failures throw ApiError with the API's
// error code ("network" when the server could not be reached), so callers
// can tell "the server is down" from "the server said no".

export class ApiError extends Error {
  constructor(code, message, status = 0) {
    super(message || code);
    this.code = code;
    this.status = status;
  }
}

export async function getJson(url, { token = null, signal = undefined } = {}) {
  const headers = { "Accept": "application/json" };
  if (token) headers["Authorization"] = "Bearer " + token;
  let response;
  try {
    response = await fetch(url, { headers, cache: "no-store", signal });
  } catch (err) {
    throw new ApiError("network", String(err && err.message ? err.message : err));
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = data && data.error ? data.error : {};
    throw new ApiError(error.code || "http_" + response.status, error.message || "",
      response.status);
  }
  return data;
}

export const enc = encodeURIComponent;
