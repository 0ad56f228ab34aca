// The logged-in person and their CSRF token, for every staff page.
//
//   const session = await getSession();   // {user, csrf, expires}, or off to /login
//   const response = await api("/api/v1/offices/x/counters/3/call-next", { method: "POST" });
//
// api() sends the cookie (same origin) and, for anything but GET/HEAD, the
// session's CSRF token as X-CSRF-Token; an answer of 401 (session over)
// takes the page to /login, which brings the person back here afterwards.

let current = null;

export function loginUrl() {
  const here = location.pathname + location.search;
  return "/login?next=" + encodeURIComponent(here);
}

export function toLogin() {
  location.assign(loginUrl());
}

// {user: {name, display_name, role, offices}, csrf, expires}; null (and a
// trip to the login page, unless redirect is false) when nobody is logged in.
export async function getSession({ redirect = true, fresh = false } = {}) {
  if (current && !fresh) return current;
  const response = await fetch("/api/v1/session", {
    headers: { "Accept": "application/json" }, cache: "no-store", credentials: "same-origin",
  });
  if (response.status === 401) {
    current = null;
    if (redirect) toLogin();
    return null;
  }
  if (!response.ok) throw new Error("session: " + response.status);
  current = await response.json();
  return current;
}

export function csrfToken() {
  return current ? current.csrf : "";
}

export async function api(path, { method = "GET", body, headers = {} } = {}) {
  const session = await getSession();
  const sent = { "Accept": "application/json", ...headers };
  if (method !== "GET" && method !== "HEAD" && session) sent["X-CSRF-Token"] = session.csrf;
  const init = { method, headers: sent, credentials: "same-origin", cache: "no-store" };
  if (body !== undefined) {
    sent["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 401) {
    current = null;
    toLogin();
  }
  return response;
}

// Ends the session on the server, then shows the login page.
export async function logout() {
  const session = await getSession({ redirect: false });
  if (session) {
    await fetch("/logout", {
      method: "POST", credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": session.csrf },
    });
  }
  current = null;
  location.assign("/login?bye=1");
}
