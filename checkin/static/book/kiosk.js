// The booking page on the kiosk. The kiosk's button for booking another day
// opens /book/{office}?lang=..&kiosk=1 full-page on the lobby machine, which
// the next citizen uses next. There the page:
// - shows a large button back to the kiosk's start screen /kiosk/{office}
//   on every step (#kiosk-home);
// - goes back there after a minute without a touch, with a countdown for the
//   last ten seconds that a tap dismisses (the kiosk's own IdleWarning);
// - keeps nothing on the machine: no saved bookings or tickets (saved.js)
//   and no remembered language (?lang= still works);
// - offers nothing to keep on "this phone": no link to the booking's own
//   page (it is a capability) and texts that say to write the booking
//   number down rather than save the screen. Joining today's queue is not
//   offered either (book.js): the kiosk's own buttons give today's numbers.

import { IdleWarning } from "/static/queue/common/idle.js";
import { disableSaving } from "/static/queue/common/saved.js";
import { neverRemember, t } from "./i18n.js";

export const KIOSK = new URLSearchParams(location.search).get("kiosk") === "1";

const IDLE_MS = 60_000;
const IDLE_WARN_MS = 10_000;

// The done page's texts that say to save the screen, and the kiosk's own.
const KIOSK_KEYS = {
  "done.sms_not_mobile": "kiosk.sms_not_mobile",
  "done.sms_disabled": "kiosk.sms_disabled",
  "done.keep_code": "kiosk.keep_code",
};

let idle = null;

// The catalog key to use for `key`: on the kiosk, its own where it has one.
export function kioskKey(key) {
  return KIOSK ? KIOSK_KEYS[key] || key : key;
}

// Before the language is chosen: on the kiosk, nothing is remembered from
// here on, the way back is shown and the inactivity timer runs.
export function startKioskMode(office) {
  if (!KIOSK) return;
  const $ = (id) => document.getElementById(id);
  neverRemember();
  disableSaving();
  document.body.dataset.kiosk = "true";
  const home = $("kiosk-home");
  home.href = `/kiosk/${encodeURIComponent(office)}`;
  home.hidden = false;
  $("done-manage").hidden = true;
  idle = new IdleWarning({
    idleMs: IDLE_MS,
    warnMs: IDLE_WARN_MS,
    overlay: $("idle-warning"),
    text: $("idle-text"),
    stay: $("idle-stay"),
    message: (seconds) => t("kiosk.idle_warning", { seconds }),
    onTimeout: () => location.assign(home.href),
  });
  idle.arm();
}

// The countdown's text in a newly chosen language.
export function relabelKiosk() {
  if (idle) idle.relabel();
}
