// One office's event stream (/ws/offices/{office}/display, DESIGN §7) for
// the live dashboard.
//
// It reconnects for as long as it is wanted, with exponential back-off and
// jitter (a restarted server must not be met by every manager's PC at the
// same instant) and resumes after the last event id, so the server replays
// what was missed (or says "resync" when it cannot).

const BASE_MS = 500;
const CAP_MS = 30_000;

export class OfficeSocket {
  constructor(office, { onMessage, onState }) {
    this.office = office;
    this.onMessage = onMessage;
    this.onState = onState; // (connected: boolean)
    this.lastId = null;
    this.ws = null;
    this.attempts = 0;
    this.timer = null;
    this.stopped = false;
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    let url = `${scheme}//${location.host}/ws/offices/${encodeURIComponent(this.office)}/display`;
    if (this.lastId) url += "?since=" + encodeURIComponent(this.lastId);
    return url;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = null;
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close();
  }

  connect() {
    if (this.stopped) return;
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
      this.onState(true);
    });
    ws.addEventListener("message", (event) => {
      if (this.ws !== ws) return;
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        return;
      }
      if (!msg || typeof msg !== "object") return;
      if (typeof msg.id === "string") this.lastId = msg.id;
      if (msg.type === "hello" && msg.status && msg.status.last_event) {
        this.lastId = msg.status.last_event;
      }
      this.onMessage(msg);
    });
    ws.addEventListener("close", () => {
      if (this.ws !== ws) return; // stopped, or replaced by reconnect()
      this.ws = null;
      this.onState(false);
      this.schedule();
    });
    // "error" is always followed by "close", which does the work.
  }

  schedule() {
    if (this.stopped || this.timer !== null) return;
    const ceiling = Math.min(CAP_MS, BASE_MS * 2 ** Math.min(this.attempts, 10));
    this.attempts += 1;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, ceiling * (0.5 + Math.random() * 0.5));
  }

  // The network came back: try at once rather than at the end of a back-off.
  reconnectNow() {
    if (this.stopped || (this.ws && this.ws.readyState === WebSocket.OPEN)) return;
    const stale = this.ws;
    this.ws = null;
    if (stale) stale.close(); // a half-open attempt: its events are ignored from now on
    this.attempts = 0;
    this.connect();
  }
}
