// The ticket's live updates over /ws/tickets/{id}: {"type": "ticket"} with a
// fresh view on every change, {"type": "event"} for the ticket's own events.
// Reconnects by itself with exponential back-off (1 s doubling to 30 s, with
// jitter so a lobby full of phones does not reconnect in step), and at once
// when the page comes back to the foreground.

const MAX_DELAY_MS = 30000;

export function connectLive(ticketId, { onTicket, onEvent, onOpen, onDown }) {
  let socket = null;
  let attempt = 0;
  let timer = null;
  let stopped = false;

  function url() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    return scheme + location.host + "/ws/tickets/" + encodeURIComponent(ticketId);
  }

  function open() {
    if (stopped || socket) return;
    const ws = new WebSocket(url());
    socket = ws;
    ws.addEventListener("open", () => {
      attempt = 0;
      onOpen();
    });
    ws.addEventListener("message", (message) => {
      let data;
      try {
        data = JSON.parse(message.data);
      } catch {
        return;
      }
      if (data.type === "ticket" && data.ticket) onTicket(data.ticket);
      else if (data.type === "event" && data.event) onEvent(data.event);
    });
    ws.addEventListener("close", () => {
      if (socket === ws) socket = null;
      if (stopped) return;
      onDown(attempt);
      schedule();
    });
  }

  function schedule() {
    if (stopped || timer) return;
    const delay = Math.min(MAX_DELAY_MS, 1000 * 2 ** attempt) * (0.5 + Math.random() / 2);
    attempt += 1;
    timer = setTimeout(() => {
      timer = null;
      open();
    }, delay);
  }

  function now() {
    if (stopped || socket) return;
    clearTimeout(timer);
    timer = null;
    open();
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") now();
  });
  window.addEventListener("online", now);
  open();

  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      timer = null;
      if (socket) socket.close();
      socket = null;
    },
  };
}
