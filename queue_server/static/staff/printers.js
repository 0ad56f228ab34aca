// Kiosk printers that need a person: out of paper, cover open, offline,
// and tickets whose printing failed (the citizen has the number on the
// kiosk's screen; staff reprint it here once the printer works again).
// The list comes from GET /api/v1/offices/{office}/printers; the office's
// print.done / printer.status events only say when to read it again.

import { t } from "../login/i18n.js";

// States that stop printing, and the one that soon will.
const PROBLEMS = new Set(["paper_end", "cover_open", "offline", "error", "disconnected"]);
const WARNINGS = new Set(["paper_near_end"]);
const STATE_KEYS = {
  "ok": "staff.printer.ok",
  "paper_end": "staff.printer.paper_end",
  "paper_near_end": "staff.printer.paper_near_end",
  "cover_open": "staff.printer.cover_open",
  "offline": "staff.printer.offline",
  "error": "staff.printer.error",
  "disconnected": "staff.printer.disconnected",
  "unknown": "staff.printer.unknown",
};

export function isProblem(printerState) {
  return PROBLEMS.has(printerState);
}

export function kioskLabel(printer) {
  return printer.label || t("staff.printer.unnamed", { id: printer.kiosk.slice(0, 8) });
}

function needsAttention(printer) {
  return PROBLEMS.has(printer.state) || WARNINGS.has(printer.state) || printer.failed.length > 0;
}

// The sentence for one printer (also what is announced when it goes wrong).
export function printerText(printer) {
  const key = STATE_KEYS[printer.state] || "staff.printer.unknown";
  return t("staff.printer.line", { kiosk: kioskLabel(printer), state: t(key) });
}

// Draws the banner; `onReprint(printer, failedTicket)` for its buttons.
export function renderPrinters(section, list, printers, onReprint) {
  const shown = printers.filter(needsAttention);
  section.hidden = shown.length === 0;
  const focusedTicket = list.contains(document.activeElement)
    ? document.activeElement.dataset.ticket : null;
  list.replaceChildren(...shown.map((printer) => {
    const li = document.createElement("li");
    li.className = "printer";
    li.dataset.state = printer.state;
    li.dataset.kiosk = printer.kiosk;
    const line = document.createElement("p");
    line.className = "printer-line";
    line.textContent = printerText(printer);
    li.append(line);
    if (printer.failed.length) {
      const note = document.createElement("p");
      note.className = "printer-failed";
      note.textContent = t("staff.printer.failed", { count: printer.failed.length });
      li.append(note);
      const buttons = document.createElement("div");
      buttons.className = "printer-buttons";
      for (const failed of printer.failed) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "secondary reprint";
        button.dataset.ticket = failed.ticket;
        button.textContent = t("staff.printer.reprint", { number: failed.number });
        button.addEventListener("click", () => onReprint(printer, failed));
        buttons.append(button);
      }
      li.append(buttons);
    }
    return li;
  }));
  if (focusedTicket) {
    const again = list.querySelector(`button[data-ticket="${CSS.escape(focusedTicket)}"]`);
    if (again) again.focus();
  }
}
