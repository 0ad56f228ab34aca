// The header the staff-side pages share (administration, dashboard), drawn
// into the page's placeholder <header class="top" data-header="…"> by the
// area's own small module (admin/header.js, dashboard/header.js), which the
// area's shared page module imports first: so the header is there before any
// page code looks for #who, #logout or #lang-list.
//
// The texts are the Japanese ones, with their catalog keys in data-i18n (and
// data-i18n-attr), as they were in the HTML: the page's applyI18n() puts the
// chosen language in.
//
// A text is [key, Japanese]; a link is { href, text, data: { name: value } }.

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== undefined) node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

function translated(tag, attrs, [key, ja]) {
  return el(tag, { ...attrs, "data-i18n": key }, ja);
}

// <p class="product">
export function product(text) {
  return translated("p", { class: "product" }, text);
}

// <nav aria-label> around a <ul> of links.
export function navigation({ navClass, listClass, label: [labelKey, labelJa], links }) {
  const items = links.map(({ href, text, data = {} }) => {
    const attrs = { href };
    for (const [name, value] of Object.entries(data)) attrs[`data-${name}`] = value;
    return el("li", {}, translated("a", attrs, text));
  });
  return el("nav", {
    class: navClass, "aria-label": labelJa, "data-i18n-attr": `aria-label:${labelKey}`,
  }, el("ul", { class: listClass }, ...items));
}

// Who is logged in (#who, filled by the page) and the logout button.
export function account({ boxClass, whoClass, buttonClass, logout }) {
  return el("div", { class: boxClass },
    el("span", { id: "who", class: whoClass }),
    translated("button", { type: "button", id: "logout", class: buttonClass }, logout));
}

// The language switch (#lang-list, filled by renderLangSwitch).
export function languages() {
  return el("div", { class: "langs", role: "group", "aria-labelledby": "lang-label" },
    translated("span", { id: "lang-label", class: "langs-label" }, ["lang.label", "言語（Language）"]),
    el("ul", { id: "lang-list", class: "lang-list" }));
}

export function div(attrs, ...children) {
  return el("div", attrs, ...children);
}

// Fills <header data-header="{area}"> (nothing to do on a page without one).
export function fillHeader(area, ...children) {
  const header = document.querySelector(`header[data-header="${area}"]`);
  if (header) header.replaceChildren(...children);
}
