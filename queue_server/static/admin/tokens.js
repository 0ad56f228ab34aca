// /admin/tokens: create a device token (shown once, with a copy button),
// list the tokens of one's offices, revoke one after confirming.

import {
  adminErrorText, boot, call, clearError, confirmDialog, formatDateTime, h, isAdmin, nameOf,
  setStatus, showError, t, ROLE_KEYS,
} from "./common.js";

const form = document.getElementById("token-form");
const roleSelect = document.getElementById("token-role");
const officeSelect = document.getElementById("token-office");
const labelInput = document.getElementById("token-label");
const result = document.getElementById("token-result");
const valueInput = document.getElementById("token-value");
const tbody = document.getElementById("token-list");

const DEVICE_ROLES = ["kiosk", "display", "phone", "staff"];
const ROLE_HINT_KEYS = {
  "kiosk": "tokens.role_kiosk", "display": "tokens.role_display", "phone": "tokens.role_phone",
  "staff": "tokens.role_staff", "admin": "tokens.role_admin",
};

let session = null;
let offices = [];
let tokens = [];
let shown = null; // {code, details} or {key, params}

function officeName(id) {
  if (id === "*") return t("tokens.all_offices");
  const office = offices.find((o) => o.id === id);
  return office ? nameOf(office.names) : id;
}

function renderSelects() {
  const role = roleSelect.value || "kiosk";
  const roles = isAdmin(session) ? [...DEVICE_ROLES, "admin"] : DEVICE_ROLES;
  roleSelect.replaceChildren(...roles.map((r) => h("option", { value: r }, t(ROLE_HINT_KEYS[r]))));
  roleSelect.value = role;
  const office = officeSelect.value;
  const choices = roleSelect.value === "admin" ? [{ id: "*" }] : offices;
  officeSelect.replaceChildren(...choices.map((o) => h("option", { value: o.id },
    o.id === "*" ? t("tokens.all_offices") : `${nameOf(o.names)} (${o.id})`)));
  if (choices.some((o) => o.id === office)) officeSelect.value = office;
}

function renderList() {
  tbody.replaceChildren(...tokens.map((token) => {
    const label = token.label || t("tokens.no_label");
    return h("tr", { dataset: { token: token.id } },
      h("td", {}, label),
      h("td", {}, t(ROLE_KEYS[token.role] || "role.staff")),
      h("td", {}, officeName(token.office)),
      h("td", {}, token.created ? formatDateTime(new Date(token.created * 1000).toISOString()) : ""),
      h("td", {}, h("code", {}, token.id)),
      h("td", {}, h("button", {
        type: "button", class: "danger small", dataset: { revoke: token.id },
        "aria-label": t("tokens.revoke_named", { label }),
        onclick: () => revoke(token),
      }, t("tokens.revoke"))));
  }));
  document.getElementById("no-tokens").hidden = tokens.length > 0;
}

function render() {
  document.title = t("tokens.page_title");
  renderSelects();
  renderList();
  if (shown && shown.code) showError(adminErrorText(shown.code, shown.details));
  if (shown && shown.key) setStatus(t(shown.key, shown.params || {}));
}

function fail(error) {
  shown = error;
  showError(adminErrorText(error.code, error.details));
}

async function load() {
  const found = await call("/api/v1/admin/tokens");
  if (found.error) {
    fail(found.error);
    return false;
  }
  tokens = found.body.tokens;
  renderList();
  return true;
}

async function create(event) {
  event.preventDefault();
  clearError();
  shown = null;
  if (!officeSelect.value) {
    document.getElementById("token-office-error").textContent = t("tokens.office_required");
    officeSelect.focus();
    return;
  }
  document.getElementById("token-office-error").textContent = "";
  const answer = await call("/api/v1/admin/tokens", {
    method: "POST",
    body: { role: roleSelect.value, office: officeSelect.value, label: labelInput.value.trim() },
  });
  if (answer.error) {
    fail(answer.error);
    return;
  }
  await load();
  valueInput.value = answer.body.token;
  result.hidden = false;
  labelInput.value = "";
  shown = { key: "tokens.created" };
  setStatus(t("tokens.created"));
  valueInput.focus();
  valueInput.select();
}

async function copy() {
  valueInput.focus();
  valueInput.select();
  let copied = false;
  try {
    await navigator.clipboard.writeText(valueInput.value);
    copied = true;
  } catch {
    // No clipboard API here (plain http on another host): the older way.
    copied = document.execCommand && document.execCommand("copy");
  }
  shown = { key: copied ? "tokens.copied" : "tokens.copy_failed" };
  setStatus(t(shown.key));
}

async function revoke(token) {
  clearError();
  const label = token.label || t("tokens.no_label");
  const yes = await confirmDialog(t("tokens.revoke_confirm", { label, office: officeName(token.office) }),
    t("tokens.revoke_yes"));
  if (!yes) return;
  const answer = await call(`/api/v1/admin/tokens/${token.id}`, { method: "DELETE" });
  if (answer.error) {
    fail(answer.error);
    return;
  }
  await load();
  shown = { key: "tokens.revoked", params: { label } };
  setStatus(t("tokens.revoked", { label }));
  // The row (and its button) is gone: focus goes to the list's heading.
  document.getElementById("h-token-list").focus();
}

async function start() {
  session = await boot(render);
  if (!session) return;
  const found = await call("/api/v1/admin/offices");
  if (found.error) {
    fail(found.error);
    document.body.dataset.ready = "true";
    return;
  }
  offices = found.body.offices;
  roleSelect.addEventListener("change", renderSelects);
  form.addEventListener("submit", create);
  document.getElementById("token-copy").addEventListener("click", copy);
  document.getElementById("token-hide").addEventListener("click", () => {
    valueInput.value = "";
    result.hidden = true;
    shown = null;
    setStatus("");
    roleSelect.focus();
  });
  render();
  await load();
  document.body.dataset.ready = "true";
}

start();
