// Modal dialogs (transfer, issue at the desk, counter choice, confirm):
// native <dialog> opened with showModal(), so focus stays inside, Esc
// closes and the console behind is inert. Choices are numbered: a digit
// picks the nth choice at once (one key, no Tab hunting), arrow keys move
// between them; focus returns where it was when the dialog closes.

const DIGITS = {
  Digit1: 1, Digit2: 2, Digit3: 3, Digit4: 4, Digit5: 5, Digit6: 6, Digit7: 7, Digit8: 8,
  Digit9: 9, Numpad1: 1, Numpad2: 2, Numpad3: 3, Numpad4: 4, Numpad5: 5, Numpad6: 6,
  Numpad7: 7, Numpad8: 8, Numpad9: 9,
};

export function digitOf(event) {
  return DIGITS[event.code] || 0;
}

// items: [{label, detail?, current?, disabled?, onChoose}]; numbered from
// `first`. Returns the next number.
export function renderChoices(ul, items, first = 1) {
  let n = first;
  ul.replaceChildren(...items.map((item) => {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "choice";
    const number = n++;
    button.dataset.n = String(number);
    if (number <= 9) {
      const kbd = document.createElement("kbd");
      kbd.textContent = String(number);
      button.append(kbd, " ");
      button.setAttribute("aria-keyshortcuts", String(number));
    }
    const label = document.createElement("span");
    label.className = "choice-label";
    label.textContent = item.label;
    button.append(label);
    if (item.detail) {
      const detail = document.createElement("span");
      detail.className = "choice-detail";
      detail.textContent = item.detail;
      button.append(" ", detail);
    }
    if (item.current) button.setAttribute("aria-current", "true");
    if (item.disabled) button.setAttribute("aria-disabled", "true");
    button.addEventListener("click", () => {
      if (button.getAttribute("aria-disabled") !== "true") item.onChoose();
    });
    li.append(button);
    return li;
  }));
  return n;
}

function choices(dialog) {
  return [...dialog.querySelectorAll("button.choice")];
}

export function openDialog(dialog, focus = null) {
  if (!dialog.open) {
    dialog.returnTo = document.activeElement;
    dialog.showModal();
  }
  const target = focus
    || choices(dialog).find((b) => b.getAttribute("aria-current") === "true")
    || choices(dialog).find((b) => b.getAttribute("aria-disabled") !== "true");
  if (target) target.focus();
}

export function anyDialogOpen() {
  return document.querySelector("dialog[open]") !== null;
}

export function installDialog(dialog) {
  for (const button of dialog.querySelectorAll("[data-close]")) {
    button.addEventListener("click", () => dialog.close());
  }
  dialog.addEventListener("close", () => {
    const back = dialog.returnTo;
    dialog.returnTo = null;
    if (anyDialogOpen()) return;
    if (back && back !== document.body && back.isConnected && !back.closest("dialog")) {
      back.focus();
    } else if (dialog.contains(document.activeElement)) {
      // Opened by a shortcut with nothing focused: nothing focused again
      // (never the call button, where a stray Enter would call someone).
      document.activeElement.blur();
    }
  });
  dialog.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || event.isComposing) return;
    const tag = event.target.tagName;
    const typing = tag === "SELECT" || tag === "TEXTAREA"
      || (tag === "INPUT" && event.target.type !== "checkbox");
    if (typing) return;
    const list = choices(dialog);
    const n = digitOf(event);
    if (n) {
      const button = list.find((b) => b.dataset.n === String(n));
      if (button) {
        event.preventDefault();
        button.focus();
        button.click();
      }
      return;
    }
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      const usable = list.filter((b) => b.getAttribute("aria-disabled") !== "true");
      if (!usable.length) return;
      const at = usable.indexOf(document.activeElement);
      const step = event.key === "ArrowDown" ? 1 : -1;
      const next = at < 0 ? 0 : (at + step + usable.length) % usable.length;
      usable[next].focus();
      event.preventDefault();
    }
  });
}
