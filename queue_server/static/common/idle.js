// Returning to the start screen after inactivity, so the next citizen never
// sees the previous one's screen (or their phone number): the kiosk, and the
// booking page opened on it (served at /static/queue/common/idle.js).
//
// Armed while a screen other than the untouched start screen is shown. Any
// touch or key press starts the period again. For the last `warnMs` a
// warning with a countdown is shown, so someone still reading can stay.
// While it shows, a touch only counts through stay() (the warning covers the
// screen and calls it on a tap): hiding it on the touch's pointerdown would
// let the rest of that tap land on whatever is under it (a keypad key).
// Times are measured against a deadline, not by counting timer ticks: a
// busy or throttled page (or a test's fast-forwarded clock) stays right.

export class IdleTimer {
  constructor({ idleMs, warnMs, onWarn, onTick, onCancelWarn, onTimeout }) {
    this.idleMs = idleMs;
    this.warnMs = warnMs;
    this.onWarn = onWarn;
    this.onTick = onTick;
    this.onCancelWarn = onCancelWarn;
    this.onTimeout = onTimeout;
    this.armed = false;
    this.warning = false;
    this.deadline = 0;
    this.warnTimer = null;
    this.endTimer = null;
    this.tickTimer = null;
    const activity = (event) => {
      if (!this.armed || (this.warning && event.type !== "keydown")) return;
      this.restart();
    };
    // Capture phase: a button that changes the screen must not hide the
    // touch from us.
    for (const type of ["pointerdown", "keydown", "wheel"]) {
      window.addEventListener(type, activity, { capture: true, passive: true });
    }
  }

  arm() {
    this.armed = true;
    this.restart();
  }

  // The citizen is still there (a tap on the warning).
  stay() {
    if (this.armed) this.restart();
  }

  disarm() {
    this.armed = false;
    this.clear();
  }

  clear() {
    clearTimeout(this.warnTimer);
    clearTimeout(this.endTimer);
    clearInterval(this.tickTimer);
    this.warnTimer = this.endTimer = this.tickTimer = null;
    if (this.warning) {
      this.warning = false;
      this.onCancelWarn();
    }
  }

  restart() {
    this.clear();
    this.deadline = Date.now() + this.idleMs;
    this.warnTimer = setTimeout(() => this.warn(), this.idleMs - this.warnMs);
    this.endTimer = setTimeout(() => this.expire(), this.idleMs);
  }

  secondsLeft() {
    return Math.max(0, Math.ceil((this.deadline - Date.now()) / 1000));
  }

  warn() {
    this.warning = true;
    this.onWarn(this.secondsLeft());
    this.tickTimer = setInterval(() => this.onTick(this.secondsLeft()), 1000);
  }

  expire() {
    this.armed = false;
    this.clear();
    this.onTimeout();
  }
}

// An IdleTimer with its warning on the screen: `overlay` (it covers the
// screen: a tap anywhere on it keeps the visit), its `text` line, filled
// with message(seconds left) every second, and its `stay` button, which
// takes the focus while the warning shows and gives it back afterwards (a
// keyboard user carries on where they were). onTimeout() after the warning.
//
//   const idle = new IdleWarning({ idleMs: 60_000, warnMs: 10_000,
//     overlay: $("idle-warning"), text: $("idle-text"), stay: $("idle-stay"),
//     message: (seconds) => t("idle.warning", { seconds }), onTimeout: goHome });
//   idle.arm();
export class IdleWarning extends IdleTimer {
  constructor({ idleMs, warnMs, overlay, text, stay, message, onTimeout }) {
    let focusBefore = null;
    super({
      idleMs,
      warnMs,
      onWarn: (seconds) => {
        text.textContent = message(seconds);
        overlay.hidden = false;
        focusBefore = document.activeElement;
        stay.focus();
      },
      onTick: (seconds) => {
        text.textContent = message(seconds);
      },
      onCancelWarn: () => {
        overlay.hidden = true;
        const before = focusBefore;
        focusBefore = null;
        if (before && before.isConnected && typeof before.focus === "function") {
          before.focus({ preventScroll: true });
        }
      },
      onTimeout: () => {
        overlay.hidden = true;
        onTimeout();
      },
    });
    this.text = text;
    this.message = message;
    overlay.addEventListener("click", () => this.stay());
  }

  // The warning's text again (after a language change).
  relabel() {
    if (this.warning) this.text.textContent = this.message(this.secondsLeft());
  }
}
