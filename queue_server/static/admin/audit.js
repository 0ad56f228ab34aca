// /admin/audit: the audit log, newest first, filtered by office, with
// "older entries" paging.

import {
  adminErrorText, boot, call, clearError, formatDateTime, h, nameOf, showError, t, ROLE_KEYS,
} from "./common.js";
import { renderChanges } from "./changes.js";

const tbody = document.getElementById("audit-list");
const officeSelect = document.getElementById("audit-office");
const more = document.getElementById("audit-more");
const PAGE = 50;

const ACTION_KEYS = {
  "office.create": "audit.action_office_create",
  "config.update": "audit.action_config_update",
  "config.import": "audit.action_config_import",
  "token.create": "audit.action_token_create",
  "token.revoke": "audit.action_token_revoke",
};

let offices = [];
let entries = [];
let next = null;
let shown = null;

function officeName(id) {
  if (id === "*") return t("tokens.all_offices");
  const office = offices.find((o) => o.id === id);
  return office ? nameOf(office.names) : id;
}

function details(entry) {
  const parts = [];
  if (entry.token) {
    parts.push(h("p", {}, t("audit.token", {
      label: entry.token.label || t("tokens.no_label"), id: entry.token.id,
      role: t(ROLE_KEYS[entry.token.role] || "role.staff"),
    })));
  }
  if (entry.imported_from) parts.push(h("p", {}, t("audit.imported_from", { office: entry.imported_from })));
  if (entry.copied_from) parts.push(h("p", {}, t("audit.copied_from", { office: entry.copied_from })));
  if (entry.action === "office.create" && entry.services !== undefined) {
    parts.push(h("p", {}, t("audit.created_summary", { services: entry.services, counters: entry.counters })));
  }
  if (entry.changes) {
    parts.push(renderChanges(entry.changes));
    if (entry.truncated) parts.push(h("p", {}, t("changes.more", { count: entry.truncated })));
  }
  if (entry.version) parts.push(h("p", { class: "hint" }, t("audit.version", { version: entry.version })));
  return parts;
}

function renderList() {
  tbody.replaceChildren(...entries.map((entry) => h("tr", { dataset: { entry: entry.id } },
    h("td", {}, formatDateTime(entry.at)),
    h("td", {}, entry.name, h("br"), h("span", { class: "hint" },
      entry.user ? `${entry.user} · ${t(ROLE_KEYS[entry.role] || "role.staff")}`
        : t(ROLE_KEYS[entry.role] || "role.staff"))),
    h("td", {}, officeName(entry.office)),
    h("td", {}, t(ACTION_KEYS[entry.action] || "audit.action_other")),
    h("td", {}, ...details(entry)))));
  document.getElementById("no-entries").hidden = entries.length > 0;
  more.hidden = !next;
}

function renderFilter() {
  const chosen = officeSelect.value;
  officeSelect.replaceChildren(h("option", { value: "" }, t("audit.all_offices")),
    ...offices.map((o) => h("option", { value: o.id }, `${nameOf(o.names)} (${o.id})`)));
  officeSelect.value = chosen;
}

function render() {
  document.title = t("audit.page_title");
  renderFilter();
  renderList();
  if (shown) showError(adminErrorText(shown.code, shown.details));
}

async function load({ append = false } = {}) {
  clearError();
  shown = null;
  const query = new URLSearchParams({ limit: String(PAGE) });
  if (officeSelect.value) query.set("office", officeSelect.value);
  if (append && next) query.set("before", next);
  const found = await call(`/api/v1/admin/audit?${query}`);
  if (found.error) {
    shown = found.error;
    showError(adminErrorText(found.error.code, found.error.details));
    return;
  }
  entries = append ? [...entries, ...found.body.entries] : found.body.entries;
  next = found.body.next_before;
  renderList();
}

async function start() {
  const session = await boot(render);
  if (!session) return;
  const found = await call("/api/v1/admin/offices");
  if (!found.error) offices = found.body.offices;
  const asked = new URLSearchParams(location.search).get("office");
  renderFilter();
  if (asked && offices.some((o) => o.id === asked)) officeSelect.value = asked;
  document.getElementById("audit-filter").addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  more.addEventListener("click", () => load({ append: true }));
  await load();
  render();
  document.body.dataset.ready = "true";
}

start();
