// The ticket lists (the line, parked tickets, no-shows): each is one tab
// stop; arrow keys, Home and End move within it (roving tabindex), Enter
// does the list's main action and Delete cancels the ticket. The row's own
// buttons are for the mouse and do the same. Lists are redrawn with every
// board; the focus stays on the same ticket, or moves to its neighbour
// when the ticket left the list, so a clerk working down a list never
// loses their place.

const PAGE = 10;

export class TicketList {
  // describe(ticket) → {parts: [{cls, text}], label}; actions: [{key,
  // label, cls, run(ticket)}] where key is "primary" (Enter) or "cancel"
  // (Delete).
  constructor(ul, { heading, help, describe, actions }) {
    this.ul = ul;
    this.heading = heading;
    this.help = help;
    this.describe = describe;
    this.actions = actions;
    this.tickets = [];
    this.activeId = null;
    heading.tabIndex = -1; // where focus goes when the list runs empty
    ul.addEventListener("keydown", (event) => this.onKey(event));
    ul.addEventListener("focusin", (event) => {
      const item = event.target.closest("li[data-id]");
      if (item) this.activate(item.dataset.id);
    });
  }

  items() {
    return [...this.ul.querySelectorAll(":scope > li[data-id]")];
  }

  render(tickets) {
    const focusedItem = this.ul.contains(document.activeElement)
      ? document.activeElement.closest("li[data-id]") : null;
    const oldIds = this.tickets.map((t) => t.id);
    const oldIndex = this.activeId ? oldIds.indexOf(this.activeId) : -1;
    this.tickets = tickets;
    const ids = tickets.map((t) => t.id);
    if (!ids.includes(this.activeId)) {
      // The ticket left the list (called, resumed, cancelled): its neighbour.
      this.activeId = ids.length ? ids[Math.min(Math.max(oldIndex, 0), ids.length - 1)] : null;
    }
    this.ul.replaceChildren(...tickets.map((t) => this.item(t)));
    if (focusedItem) this.focus();
  }

  item(ticket) {
    const li = document.createElement("li");
    li.className = "ticket";
    li.dataset.id = ticket.id;
    li.dataset.number = ticket.number;
    li.tabIndex = ticket.id === this.activeId ? 0 : -1;
    li.setAttribute("aria-describedby", this.help.id);
    const { parts } = this.describe(ticket);
    const text = document.createElement("span");
    text.className = "ticket-text";
    for (const part of parts) {
      const span = document.createElement("span");
      span.className = part.cls;
      span.textContent = part.text;
      text.append(span, " ");
    }
    li.append(text);
    const buttons = document.createElement("span");
    buttons.className = "row-actions";
    for (const action of this.actions) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "row-action " + action.cls;
      // One tab stop per list: the keyboard uses Enter / Delete on the row
      // (said in the list's help text), the mouse uses these.
      button.tabIndex = -1;
      button.textContent = action.label();
      button.setAttribute("aria-label", `${action.label()} ${ticket.number}`);
      button.addEventListener("click", () => {
        this.activate(ticket.id);
        action.run(ticket);
      });
      buttons.append(button);
    }
    li.append(buttons);
    return li;
  }

  activate(id) {
    this.activeId = id;
    for (const li of this.items()) li.tabIndex = li.dataset.id === id ? 0 : -1;
  }

  // Focus the active row (the first when none, or when `first`: the list's
  // shortcut goes to its head, the next to be called), or the heading of an
  // empty list.
  focus({ first = false } = {}) {
    const items = this.items();
    if (!items.length) {
      this.heading.focus();
      return;
    }
    const target = (!first && items.find((li) => li.dataset.id === this.activeId)) || items[0];
    this.activate(target.dataset.id);
    target.focus();
    target.scrollIntoView({ block: "nearest" });
  }

  move(to) {
    const items = this.items();
    if (!items.length) return;
    const index = Math.max(0, Math.min(items.length - 1, to));
    this.activeId = items[index].dataset.id;
    this.focus();
  }

  onKey(event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.isComposing) return;
    const row = event.target.closest("li[data-id]");
    if (!row) return;
    const index = this.items().indexOf(row);
    const ticket = this.tickets.find((t) => t.id === row.dataset.id);
    const run = (key) => {
      const action = this.actions.find((a) => a.key === key);
      if (action && ticket) action.run(ticket);
    };
    const moves = {
      ArrowDown: index + 1, ArrowUp: index - 1, Home: 0, End: this.tickets.length - 1,
      PageDown: index + PAGE, PageUp: index - PAGE,
    };
    if (event.key in moves) {
      this.move(moves[event.key]);
    } else if (event.key === "Enter") {
      run("primary");
    } else if (event.key === "Delete" || event.key === "Backspace") {
      run("cancel");
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
  }
}
