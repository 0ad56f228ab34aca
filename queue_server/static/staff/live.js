// The office's public event stream (/ws/offices/{office}/display, DESIGN
// §7) as the console uses it: a nudge to read the board again, not data
// to build the screen from (public events carry no ticket ids).
//
// Reconnects by itself: exponential back-off with full jitter (a server
// restart is not met by every counter PC at the same instant), resuming
// with ?since=<last event id> so nothing that happened meanwhile is missed.
// (displays/ has a socket of its own for the lobby TV; queue_server's pages
// do not depend on that package.)

const BASE_MS = 500;
const CAP_MS = 15_000;

export class LiveFeed {
  constructor(office, { onEvent, onState }) {
    this.office = office;
    this.onEvent = onEvent;
    this.onState = onState; // (online: boolean)
    this.lastId = null;
    this.ws = null;
    this.timer = null;
    this.attempts = 0;
    this.stopped = false;
    this.online = false;
    this.nudge = () => this.reconnect();
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    let url = `${scheme}//${location.host}/ws/offices/${encodeURIComponent(this.office)}/display`;
    if (this.lastId) url += "?since=" + encodeURIComponent(this.lastId);
    return url;
  }

  start() {
    // The OS learns of a lost network before the socket does.
    window.addEventListener("online", this.nudge);
    window.addEventListener("offline", this.nudge);
    this.connect();
  }

  // For good: another office was chosen.
  stop() {
    this.stopped = true;
    window.removeEventListener("online", this.nudge);
    window.removeEventListener("offline", this.nudge);
    clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close();
  }

  setOnline(online) {
    if (this.online === online) return;
    this.online = online;
    this.onState(online);
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
      this.setOnline(true);
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
      this.onEvent(msg);
    });
    ws.addEventListener("close", () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.setOnline(false);
      this.schedule();
    });
    // "error" is always followed by "close", which does the work.
  }

  schedule() {
    if (this.timer !== null || this.stopped) return;
    const ceiling = Math.min(CAP_MS, BASE_MS * 2 ** Math.min(this.attempts, 10));
    this.attempts += 1;
    this.timer = setTimeout(() => this.connect(), ceiling * (0.5 + Math.random() * 0.5));
  }

  reconnect() {
    if (this.stopped) return;
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close();
    this.setOnline(false);
    this.attempts = 0;
    this.connect();
  }
}
