// The rotating smartphone check-in code (and its QR) on the lobby display.
//
// The code proves presence in the lobby, so the API gives it only to a
// display device token. A TV is enrolled once by opening
// /display/{office}?token=...: the token is kept in localStorage and taken
// out of the address bar (it must not stay visible on the lobby screen, in
// the history or in a screenshot). Without a token the panel asks people to
// ask at the counter; everything else on the page is public.

import { ApiError, enc, fetchJson } from "/static/queue/common/api.js";
import { t } from "./i18n.js";

const TOKEN_RE = /^[A-Za-z0-9._~-]{8,300}$/;
const RETRY_MS = 15_000;
const REFUSED_RETRY_MS = 5 * 60_000;
const MAX_WAIT_MS = 10 * 60_000;

function storageKey(office) {
  return "madoguchi.display.token." + office;
}

// Takes ?token= from the address (keeping it when it looks like a token)
// and returns the stored token, if any.
export function enrolToken(office) {
  const url = new URL(location.href);
  const given = url.searchParams.get("token");
  if (given !== null) {
    url.searchParams.delete("token");
    history.replaceState(history.state, "", url.pathname + url.search + url.hash);
    if (TOKEN_RE.test(given)) {
      try {
        localStorage.setItem(storageKey(office), given);
      } catch {
        // Storage disabled: the token lasts for this page load only.
        return given;
      }
    }
  }
  try {
    return localStorage.getItem(storageKey(office));
  } catch {
    return null;
  }
}

// "changes_at" as epoch milliseconds (the API gives epoch seconds; an ISO
// string is accepted too).
function instant(value) {
  if (typeof value === "number" && Number.isFinite(value)) return value * 1000;
  if (typeof value === "string") {
    const ms = Date.parse(value);
    if (Number.isFinite(ms)) return ms;
  }
  return null;
}

// The QR (an SVG document string) as a data: URL for an <img>: an SVG shown
// as an image cannot run scripts or reach into the page, whatever it holds.
// Parsed as HTML (which never runs scripts) and serialised again, because an
// inline SVG may lack the xmlns that an SVG image file needs.
function svgImage(text) {
  const doc = new DOMParser().parseFromString(text, "text/html");
  const svg = doc.querySelector("svg");
  if (!svg) return null;
  return "data:image/svg+xml;charset=utf-8,"
    + encodeURIComponent(new XMLSerializer().serializeToString(svg));
}

export class CheckinPanel {
  constructor(office, token, now) {
    this.office = office;
    this.token = token;
    this.now = now; // the server's time, as the display knows it
    this.timer = null;
    this.data = null;
    this.els = {
      live: document.getElementById("checkin-live"),
      qr: document.getElementById("checkin-qr"),
      code: document.getElementById("checkin-code"),
      help: document.getElementById("checkin-help"),
      placeholder: document.getElementById("checkin-placeholder"),
    };
  }

  start() {
    this.render();
    if (this.token) this.refresh();
  }

  later(ms) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), Math.max(1000, Math.min(MAX_WAIT_MS, ms)));
  }

  async refresh() {
    if (!this.token) return;
    try {
      const data = await fetchJson(`/api/v1/offices/${enc(this.office)}/checkin-code`,
        { token: this.token });
      this.data = data && typeof data.code === "string" ? data : null;
      const at = this.data ? instant(this.data.changes_at) : null;
      // A little after the change, so the new code is surely there.
      this.later(at === null ? RETRY_MS : at - this.now() + 500);
    } catch (err) {
      const refused = err instanceof ApiError && [401, 403].includes(err.status);
      if (refused) this.data = null;
      // After a network error the code on screen stays until it expires.
      if (this.data && instant(this.data.changes_at) <= this.now()) this.data = null;
      this.later(refused ? REFUSED_RETRY_MS : RETRY_MS);
    }
    this.render();
  }

  render() {
    const { live, qr, code, help, placeholder } = this.els;
    const data = this.data;
    if (!data) {
      live.hidden = true;
      placeholder.hidden = false;
      document.body.dataset.checkin = this.token ? "unavailable" : "no-token";
      return;
    }
    code.textContent = data.code;
    const src = typeof data.qr_svg === "string" ? svgImage(data.qr_svg) : null;
    if (src) {
      if (qr.getAttribute("src") !== src) qr.src = src;
      qr.hidden = false;
      help.textContent = t("checkin.help");
    } else {
      qr.hidden = true;
      qr.removeAttribute("src");
      help.textContent = t("checkin.help_code");
    }
    live.hidden = false;
    placeholder.hidden = true;
    document.body.dataset.checkin = qr.hidden ? "code" : "qr";
  }
}
