// The live office stream (/ws/offices/{office}/display, DESIGN §7).
//
// Reconnects by itself for as long as the page is open: exponential
// back-off with full jitter (a server restart must not be met by every TV
// in the city at the same instant), resuming with ?since=<last event id>
// so events missed while offline are replayed in order by the server.

const BASE_MS = 500;
const CAP_MS = 30_000;

export class LiveSocket {
  constructor(office, { onMessage, onOpen, onClose }) {
    this.office = office;
    this.onMessage = onMessage;
    this.onOpen = onOpen;
    this.onClose = onClose;
    this.lastId = null; // the last event id seen; the display sets it from status too
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
    // The OS knows about a lost network before the socket does.
    window.addEventListener("offline", () => this.reconnect());
    window.addEventListener("online", () => this.reconnect());
  }

  connect() {
    clearTimeout(this.timer);
    this.timer = null;
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
        return; // not ours; nothing to show
      }
      if (!msg || typeof msg !== "object") return;
      if (typeof msg.id === "string") this.lastId = msg.id;
      this.onMessage(msg);
    });
    ws.addEventListener("close", () => {
      if (this.ws !== ws) return;
      this.ws = null;
      const wasOpen = this.open;
      this.open = false;
      this.onClose(wasOpen);
      this.schedule();
    });
    // An "error" is always followed by "close", which does the work.
  }

  schedule() {
    if (this.timer !== null) return;
    const ceiling = Math.min(CAP_MS, BASE_MS * 2 ** Math.min(this.attempts, 10));
    this.attempts += 1;
    // Full jitter between half and all of the ceiling.
    const delay = ceiling * (0.5 + Math.random() * 0.5);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }

  // Drops the current socket (it may be half dead: a check failed) and
  // connects again at once, resuming after the last event.
  reconnect() {
    const ws = this.ws;
    if (ws) {
      this.ws = null;
      const wasOpen = this.open;
      this.open = false;
      try {
        ws.close();
      } catch {
        // already closing
      }
      this.onClose(wasOpen);
    }
    this.attempts = 0;
    clearTimeout(this.timer);
    this.timer = null;
    this.connect();
  }
}
