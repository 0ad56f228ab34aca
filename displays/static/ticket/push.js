// Web Push: the service worker at /t/sw.js (its scope /t/ covers every
// ticket page), a subscription with the server's VAPID key, POSTed to the
// ticket. Every failure (no support, permission denied, no push service
// in a headless browser) resolves to a state; the page then relies on its
// websocket alone.

import { api, enc } from "/static/queue/common/api.js";

const READY_TIMEOUT_MS = 10000;

export function pushSupported() {
  return window.isSecureContext && "serviceWorker" in navigator && "PushManager" in window
    && "Notification" in window;
}

export function permission() {
  return pushSupported() ? Notification.permission : "unsupported";
}

function keyBytes(base64url) {
  const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
  const raw = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

function sameKey(subscription, key) {
  const own = subscription.options && subscription.options.applicationServerKey;
  if (!own) return false;
  const a = new Uint8Array(own);
  return a.length === key.length && a.every((byte, i) => byte === key[i]);
}

function withTimeout(promise, ms) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error("timeout")), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Returns "on", "denied", "unsupported", "not-asked" or "failed". `ask`:
// may show the browser's permission prompt (only from a tap).
export async function enablePush(ticketId, lang, { ask = false } = {}) {
  if (!pushSupported()) return "unsupported";
  try {
    let allowed = Notification.permission;
    if (allowed === "default") {
      if (!ask) return "not-asked";
      allowed = await Notification.requestPermission();
    }
    if (allowed !== "granted") return "denied";
    await navigator.serviceWorker.register("/t/sw.js", { scope: "/t/" });
    const registration = await withTimeout(navigator.serviceWorker.ready, READY_TIMEOUT_MS);
    const { public_key: publicKey } = await api("GET", "/push/vapid-public-key");
    const key = keyBytes(publicKey);
    let subscription = await registration.pushManager.getSubscription();
    if (subscription && !sameKey(subscription, key)) {
      await subscription.unsubscribe(); // made with another server key: useless now
      subscription = null;
    }
    if (!subscription) {
      subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true, applicationServerKey: key,
      });
    }
    const json = subscription.toJSON();
    await api("POST", `/tickets/${enc(ticketId)}/push-subscription`, {
      endpoint: json.endpoint,
      keys: { p256dh: json.keys.p256dh, auth: json.keys.auth },
      lang,
    });
    return "on";
  } catch {
    return "failed";
  }
}
