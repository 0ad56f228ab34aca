// The console's keyboard map: one key per action, shown on its button
// (and in aria-keyshortcuts). Keys are read by position (event.code), so
// they work the same with a Japanese, Korean or any other layout and
// whatever the input method shows; held keys do not repeat an action (a
// held N must not call ten people).

import { anyDialogOpen, digitOf } from "./dialogs.js";

export const KEYMAP = {
  KeyN: "call",
  KeyR: "recall",
  KeyS: "start",
  KeyF: "finish",
  KeyX: "noshow",
  KeyT: "transfer",
  KeyP: "park",
  KeyO: "toggle",
  KeyI: "issue",
  KeyC: "picker",
};
// Shift+O closes the counter: rare (the end of the day), so not one plain key.
const SHIFTED = { KeyO: "close" };
const LISTS = { 1: "queue", 2: "parked", 3: "noshows" };

function typingIn(target) {
  if (!(target instanceof Element)) return false;
  return target.isContentEditable || ["INPUT", "SELECT", "TEXTAREA"].includes(target.tagName);
}

// handlers: {action(name), list(name), escape()}
export function installKeys(handlers) {
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing || event.altKey || event.ctrlKey
        || event.metaKey || anyDialogOpen() || typingIn(event.target)) {
      return;
    }
    const target = event.target instanceof Element ? event.target : null;
    let name = null;
    if (event.code === "Space") {
      // Space on a button or a row is that element's own; elsewhere it calls next.
      if (event.shiftKey || (target && target.closest("button, a, li[data-id], summary"))) return;
      name = "call";
    } else if (event.shiftKey) {
      name = SHIFTED[event.code] || null;
    } else {
      name = KEYMAP[event.code] || null;
    }
    if (name) {
      event.preventDefault();
      if (!event.repeat) handlers.action(name);
      return;
    }
    const digit = event.shiftKey ? 0 : digitOf(event);
    if (LISTS[digit]) {
      event.preventDefault();
      handlers.list(LISTS[digit]);
    } else if (event.key === "Escape") {
      handlers.escape();
    }
  });
}
