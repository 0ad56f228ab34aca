// The office's public event stream (/ws/offices/{office}/display): print
// results and printer states for this kiosk, configuration changes, and
// queue movements (to keep the waiting counts fresh).
//
// Reconnects by itself for as long as the page is open, with exponential
// back-off and full jitter (a server restart must not be met by every kiosk
// and display in the city at the same instant), resuming after the last
// event seen (?since=), so a print result sent while the socket was down
// still arrives. body[data-live] says whether the socket is open.

const BASE_MS = 500;
const CAP_MS = 30_000;

export class OfficeEvents {
  constructor(office, { onEvent, onOpen }) {
    this.office = office;
    this.onEvent = onEvent;
    this.onOpen = onOpen;
    this.ws = null;
    this.attempts = 0;
    this.timer = null;
    this.lastId = null;
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
      document.body.dataset.live = "true";
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
      document.body.dataset.live = "false";
      this.schedule();
    });
    // An "error" is always followed by "close", which does the work.
  }

  schedule() {
    if (this.timer !== null) return;
    const ceiling = Math.min(CAP_MS, BASE_MS * 2 ** Math.min(this.attempts, 10));
    this.attempts += 1;
    const delay = ceiling * (0.5 + Math.random() * 0.5);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }

  reconnect() {
    const ws = this.ws;
    this.ws = null;
    document.body.dataset.live = "false";
    if (ws) {
      try {
        ws.close();
      } catch {
        // already closing
      }
    }
    this.attempts = 0;
    this.connect();
  }
}
