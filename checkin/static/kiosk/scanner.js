// The QR / barcode reader: a keyboard-wedge scanner "types" what it reads
// (the booking link …/b/<token> from the SMS or the booking page) followed by
// Enter. People never type that fast, so a burst of keys with short gaps
// that ends in Enter is a scan; anything slower is ordinary typing and is
// left alone. A global listener (capture phase) works whatever has focus and
// needs no hidden input that could pop up an on-screen keyboard.

const MAX_GAP_MS = 100; // scanners send a key every 5-30 ms; typing people 150 ms+
const MIN_LENGTH = 12;

export class WedgeScanner {
  constructor({ onScan }) {
    this.onScan = onScan;
    this.buffer = "";
    this.last = 0;
    window.addEventListener("keydown", (event) => this.key(event), { capture: true });
  }

  key(event) {
    const now = performance.now();
    if (now - this.last > MAX_GAP_MS) this.buffer = "";
    this.last = now;
    if (event.key === "Enter") {
      const text = this.buffer;
      this.buffer = "";
      if (text.length >= MIN_LENGTH) {
        // The Enter ends a scan: it must not also press the focused button.
        event.preventDefault();
        event.stopPropagation();
        this.onScan(text);
      }
      return;
    }
    if (event.key.length === 1 && !event.ctrlKey && !event.metaKey && !event.altKey) {
      this.buffer += event.key;
      if (this.buffer.length > MIN_LENGTH) {
        // Mid-scan, a character must not reach a focused button either
        // (Space would press it).
        event.preventDefault();
      }
    }
  }
}

// The booking token in a scanned booking link ("<origin>/b/<token>",
// with or without ?lang=), or null when it is not one.
const LINK_RE = /\/b\/([a-z0-9][a-z0-9_-]{0,39}\.[A-Za-z0-9_-]{32,64})(?:[?#/]|$)/;

export function bookingToken(text) {
  const match = LINK_RE.exec(text.trim());
  return match ? match[1] : null;
}
