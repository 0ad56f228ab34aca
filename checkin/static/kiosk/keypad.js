// The large on-screen numeric keypad (the kiosk has no keyboard). Digits
// live only in this object and the one output element; clear() wipes both,
// so a phone number never outlives the visit.

// The keys in phone-keypad order; the two word keys take their labels from
// the catalogs (data-i18n), like the rest of the page.
const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "clear", "0", "back"];
const WORDS = { clear: "keypad.clear", back: "keypad.back" };

function addKeys(root) {
  for (const key of KEYS) {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.key = key;
    if (/^[0-9]$/.test(key)) {
      button.className = "key";
      button.textContent = key;
    } else {
      button.className = "key key-word";
      button.dataset.i18n = WORDS[key];
    }
    root.append(button);
  }
}

export class Keypad {
  constructor(root, output, { onChange }) {
    if (!root.querySelector("button[data-key]")) addKeys(root);
    this.root = root;
    this.output = output;
    this.onChange = onChange;
    this.digits = "";
    this.max = 11;
    this.format = (digits) => digits;
    root.addEventListener("click", (event) => {
      const key = event.target.closest("button[data-key]");
      if (!key || key.disabled) return;
      this.press(key.dataset.key);
    });
  }

  // `max`: how many digits the field takes (or a function of the digits
  // typed so far); `format`: how they are shown.
  configure({ max, format }) {
    this.max = max;
    this.format = format;
    this.clear();
  }

  press(key) {
    if (key === "back") this.digits = this.digits.slice(0, -1);
    else if (key === "clear") this.digits = "";
    else if (/^[0-9]$/.test(key) && this.digits.length < this.limit()) this.digits += key;
    this.render();
  }

  limit() {
    return typeof this.max === "function" ? this.max(this.digits) : this.max;
  }

  clear() {
    this.digits = "";
    this.render();
  }

  render() {
    this.output.textContent = this.format(this.digits);
    this.onChange(this.digits);
  }
}

// A Japanese phone number grouped as people write it while it is typed:
// mobiles and 050 as 3-4-4, Tokyo/Osaka (03/06) as 2-4-4, others 4-2-4 (the
// server parses any grouping; this is only for reading it back).
export function groupPhone(digits) {
  const d = digits;
  let parts;
  if (/^(0[5789]0)/.test(d)) parts = [3, 4, 4];
  else if (/^0[36]/.test(d)) parts = [2, 4, 4];
  else parts = [4, 2, 4];
  const out = [];
  let i = 0;
  for (const n of parts) {
    if (i >= d.length) break;
    out.push(d.slice(i, i + n));
    i += n;
  }
  if (i < d.length) out.push(d.slice(i));
  return out.join("-");
}
