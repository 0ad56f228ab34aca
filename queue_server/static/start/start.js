// The start page (/): the offices and their pages, read from GET / as JSON
// (the same list API clients get), and the staff links. Japanese first,
// the staff pages' language switch (kept in madoguchi.staff-lang).

import { applyI18n, chooseLang, langSwitch, pickName, setLang, t } from "./i18n.js";

const langList = document.getElementById("lang-list");
const list = document.getElementById("offices");
const alertBox = document.getElementById("alert");
let offices = [];

function link(href, key) {
  const item = document.createElement("li");
  const a = document.createElement("a");
  a.href = href;
  a.textContent = t(key);
  item.append(a);
  return item;
}

function renderOffices() {
  list.replaceChildren();
  for (const office of offices) {
    const item = document.createElement("li");
    const heading = document.createElement("h3");
    const name = pickName(office.names);
    heading.textContent = name.text;
    heading.lang = name.lang;
    const links = document.createElement("ul");
    links.className = "office-links";
    links.setAttribute("aria-label", name.text);
    links.append(
      link(office.pages.booking, "start.booking"),
      link(office.pages.display, "start.display"),
      link(office.pages.kiosk, "start.kiosk"),
    );
    item.append(heading, links);
    list.append(item);
  }
  if (!offices.length) list.append(Object.assign(document.createElement("li"),
    { textContent: t("start.no_offices") }));
}

function render() {
  applyI18n();
  document.title = t("start.page_title");
  renderOffices();
}

async function start() {
  await setLang(chooseLang());
  langSwitch(langList, { inUrl: false, onChange: render });
  try {
    const response = await fetch("/", { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(String(response.status));
    offices = (await response.json()).offices;
  } catch {
    alertBox.textContent = t("start.load_failed");
  }
  render();
  document.body.dataset.ready = "true";
}

start();
