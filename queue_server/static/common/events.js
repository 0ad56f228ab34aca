// An office's public event stream (/ws/offices/{office}/display), for the
// kiosk, the lobby display, the staff console and the live dashboard
// (served at /static/queue/common/events.js).
//
//   const events = new OfficeEvents(office, { onEvent, onOpen, onClose });
//   events.start();
//   events.stop(); // for good (another office was chosen)
//
// Reconnects by itself for as long as the page is open, with exponential
// back-off and full jitter (a server restart must not be met by every kiosk
// and TV in the city at the same instant), resuming after the last event
// seen (?since=, from the events' ids and the hello's status.last_event), so
// events sent while the socket was down are replayed in order by the server.
//
// onEvent(msg) for every event (an object with a string type); onOpen() when
// a socket opens; onClose(wasOpen) when one is lost (wasOpen: it had opened:
// the page was live until now). `open` says whether the socket is open.
//
// Options: capMs, the longest wait between two attempts (30 s); network:
// false to leave the browser's online/offline events to the page (by
// default either one reconnects at once).

const BASE_MS = 500;
const CAP_MS = 30_000;

export class OfficeEvents {
  constructor(office, {
    onEvent, onOpen = () => {}, onClose = () => {}, capMs = CAP_MS, network = true,
  }) {
    this.office = office;
    this.onEvent = onEvent;
    this.onOpen = onOpen;
    this.onClose = onClose;
    this.capMs = capMs;
    this.network = network;
    this.nudge = () => this.reconnect();
    this.stopped = false;
    this.lastId = null; // the last event id seen
    this.ws = null;
    this.attempts = 0;
    this.timer = null;
    this.open = false;
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    let url = `${scheme}//${location.host}/ws/offices/${encodeURIComponent(this.office)}/display`;
    if (this.lastId) url += "?since=" + encodeURIComponent(this.lastId);
    return url;
  }

  start() {
    this.connect();
    if (!this.network) return;
    // The OS knows about a lost network before the socket does.
    window.addEventListener("offline", this.nudge);
    window.addEventListener("online", this.nudge);
  }

  // For good: no more events, no more attempts, no onClose.
  stop() {
    this.stopped = true;
    window.removeEventListener("offline", this.nudge);
    window.removeEventListener("online", this.nudge);
    clearTimeout(this.timer);
    this.timer = null;
    this.open = false;
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close();
  }

  connect() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.stopped) return;
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch {
      this.schedule();
      return;
    }
    this.ws = ws;
    ws.addEventListener("open", () => {
      if (this.ws !== ws) return;
      this.attempts = 0;
      this.open = true;
      this.onOpen();
    });
    ws.addEventListener("message", (event) => {
      if (this.ws !== ws) return;
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        return; // not an event; nothing to do
      }
      if (!msg || typeof msg !== "object" || typeof msg.type !== "string") return;
      if (typeof msg.id === "string") this.lastId = msg.id;
      else if (msg.type === "hello" && msg.status && typeof msg.status.last_event === "string") {
        this.lastId = msg.status.last_event; // resume from what the server had then
      }
      this.onEvent(msg);
    });
    ws.addEventListener("close", () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.lost();
      this.schedule();
    });
    // An "error" is always followed by "close", which does the work.
  }

  lost() {
    const wasOpen = this.open;
    this.open = false;
    this.onClose(wasOpen);
  }

  schedule() {
    if (this.timer !== null || this.stopped) return;
    const ceiling = Math.min(this.capMs, BASE_MS * 2 ** Math.min(this.attempts, 10));
    this.attempts += 1;
    // Full jitter between half and all of the ceiling.
    const delay = ceiling * (0.5 + Math.random() * 0.5);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }

  // Drops the current socket (it may be half dead: a check failed, the
  // network changed) and connects again at once, resuming after the last event.
  reconnect() {
    if (this.stopped) return;
    const ws = this.ws;
    if (ws) {
      this.ws = null;
      try {
        ws.close();
      } catch {
        // already closing
      }
      this.lost();
    }
    this.attempts = 0;
    this.connect();
  }
}
