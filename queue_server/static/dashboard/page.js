// What the three dashboard pages share: catalogs and the language switch,
// the logged-in person and logout, the navigation, the offices this
// account may see (/dashboard/offices.json) and which one is shown, and
// reading the API with the session (errors in the chosen language).

import "./header.js"; // first: the header is there before anything looks for it
import {
  applyI18n, chooseLang, currentLang, markLangSwitch, renderLangSwitch, setLang, t, useCatalogs,
} from "../login/i18n.js";
import { errorOf, errorText } from "../login/messages.js";
import { api, getSession, logout } from "../login/session.js";

export const ALL = "*"; // every office the account may see (city-wide)
// Remembered per PC, like the staff console's counter: a manager's PC
// opens on their office the next morning.
const OFFICE_KEY = "madoguchi.dashboard-office";

// API error codes of these pages that the login catalog does not explain.
const ERROR_KEYS = {
  "forbidden": "error.forbidden",
  "invalid_date": "error.invalid_date",
  "validation_failed": "error.check_input",
  "unknown_service": "error.unknown_service",
  "unknown_office": "error.unknown_office",
};

export class ApiError extends Error {
  constructor(code, details = {}) {
    super(code);
    this.code = code;
    this.details = details;
  }
}

export function problemText(error) {
  const code = error instanceof ApiError ? error.code : "network";
  return ERROR_KEYS[code] ? t(ERROR_KEYS[code]) : errorText(code, error.details || {});
}

// GET with the session cookie; the parsed JSON, or an ApiError.
export async function getJson(path) {
  let response;
  try {
    response = await api(path);
  } catch {
    throw new ApiError("network");
  }
  if (!response.ok) {
    const { code, details } = await errorOf(response);
    throw new ApiError(code, details);
  }
  return response.json();
}

export function nameIn(names) {
  if (!names) return "";
  return names[currentLang()] || names.ja || "";
}

// --- tables that scroll sideways

// A table wider than the screen scrolls in its .table-wrap: keyboard users
// must be able to focus the wrap to scroll it (WCAG 2.1.1), and a screen
// reader says what it is (the table's own name). Every wrap, there at load
// or drawn later, gets both once it holds a table.
function focusableScrollers() {
  for (const wrap of document.querySelectorAll(".table-wrap:not([tabindex])")) {
    const table = wrap.querySelector("table");
    if (!table) continue;
    let named = table.getAttribute("aria-labelledby");
    if (!named && table.caption) {
      if (!table.caption.id) table.caption.id = `caption-${Math.random().toString(36).slice(2)}`;
      named = table.caption.id;
    }
    if (named) wrap.setAttribute("aria-labelledby", named);
    else if (table.getAttribute("aria-label")) {
      wrap.setAttribute("aria-label", table.getAttribute("aria-label"));
    }
    wrap.setAttribute("role", "region");
    wrap.tabIndex = 0;
  }
}

new MutationObserver(focusableScrollers).observe(document.body, { childList: true, subtree: true });
focusableScrollers();

// --- page chrome

let chrome = { nav: "", titleKey: "", session: null };

export function renderChrome() {
  applyI18n();
  document.title = t(chrome.titleKey);
  markLangSwitch(document.getElementById("lang-list"));
  const user = chrome.session && chrome.session.user;
  if (user) {
    document.getElementById("who").textContent = t("nav.signed_in_as", {
      name: user.display_name, role: t(`role.${user.role}`),
    });
  }
}

// Loads the catalogs, checks the session (no session: off to the login
// page, and null here), wires the language switch, logout and navigation.
// `onLang` redraws the page's own content in a newly chosen language.
export async function startChrome({ nav, titleKey, onLang }) {
  useCatalogs(["dashboard", "login"]);
  await setLang(chooseLang());
  const session = await getSession();
  if (!session) return null;
  chrome = { nav, titleKey, session };
  renderLangSwitch(document.getElementById("lang-list"), async (code) => {
    await setLang(code, { remember: true });
    renderChrome();
    onLang();
  });
  document.getElementById("logout").addEventListener("click", () => logout());
  for (const link of document.querySelectorAll("a[data-nav]")) {
    if (link.dataset.nav === nav) link.setAttribute("aria-current", "page");
  }
  renderChrome();
  return session;
}

// --- which office

function stored() {
  try {
    return window.localStorage.getItem(OFFICE_KEY);
  } catch {
    return null;
  }
}

function store(id) {
  try {
    window.localStorage.setItem(OFFICE_KEY, id);
  } catch {
    // storage disabled: the choice lasts for this page only
  }
}

// The office to show: ?office= when the account may see it, else the
// remembered one, else all of them (where the page can show all) or the
// first. `refused`: the address named an office this account may not see.
export function chooseOffice(offices, { allowAll }) {
  const ids = offices.map((o) => o.id);
  const valid = (id) => (id === ALL ? allowAll && ids.length > 1 : ids.includes(id));
  const asked = new URLSearchParams(location.search).get("office");
  if (asked && valid(asked)) return { id: asked, refused: false };
  const refused = Boolean(asked) && asked !== ALL;
  const remembered = stored();
  if (remembered && valid(remembered)) return { id: remembered, refused };
  return { id: allowAll && ids.length > 1 ? ALL : ids[0] || null, refused };
}

// Puts the office (and any other parameters) into the address, so a reload
// or a bookmark shows the same, and carries the office to the other pages.
export function showInAddress(params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") query.set(key, value);
  }
  const text = query.toString();
  history.replaceState(null, "", location.pathname + (text ? "?" + text : ""));
  if (params.office) {
    if (params.office !== ALL) store(params.office);
    for (const link of document.querySelectorAll("a[data-nav]")) {
      const path = link.getAttribute("href").split("?")[0];
      link.setAttribute("href", `${path}?office=${encodeURIComponent(params.office)}`);
    }
  }
}

export function fillOfficeSelect(select, offices, { allowAll, selected }) {
  select.replaceChildren();
  if (allowAll && offices.length > 1) {
    select.append(new Option(t("office.all"), ALL));
  }
  for (const office of offices) select.append(new Option(nameIn(office.names), office.id));
  select.value = selected;
}
