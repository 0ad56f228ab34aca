// The ticket page's service worker (served at /t/sw.js, scope /t/). It only
// shows calls that arrive by Web Push while the page is in the background or
// closed, and brings the ticket page forward when the notification is
// tapped. No fetch handler: the pages always come from the network.
//
// The payload (decrypted by the browser) is the server's small JSON:
// {v, kind: "called"|"recalled", number, counter, lang, title, body, path}.

"use strict";

const TICKET_PATH = /^\/t\/[A-Za-z0-9._~-]+$/;

self.addEventListener("install", () => {
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});

function message(event) {
  try {
    const data = event.data ? event.data.json() : null;
    return data && typeof data === "object" ? data : null;
  } catch {
    return null;
  }
}

async function show(data) {
  const path = typeof data.path === "string" && TICKET_PATH.test(data.path) ? data.path : "/t/";
  const title = String(data.title || data.number || "");
  await self.registration.showNotification(title, {
    body: String(data.body || ""),
    lang: typeof data.lang === "string" ? (data.lang === "ja-easy" ? "ja" : data.lang) : "",
    // One notification per ticket: a recall replaces the call, and still
    // rings and vibrates (renotify).
    tag: "madoguchi-" + path,
    renotify: true,
    requireInteraction: true,
    vibrate: [400, 200, 400, 200, 400],
    data: { path },
  });
  // Open pages of this ticket hear it too (they have their own socket, but
  // a frozen background tab may not have noticed yet).
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  for (const client of windows) {
    if (new URL(client.url).pathname === path) client.postMessage({ type: "push", data });
  }
}

self.addEventListener("push", (event) => {
  const data = message(event);
  if (!data) return;
  event.waitUntil(show(data));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const path = (event.notification.data && event.notification.data.path) || "/t/";
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    for (const client of windows) {
      if (new URL(client.url).pathname === path && "focus" in client) return client.focus();
    }
    return self.clients.openWindow(path);
  })());
});
