// /admin: the offices this person manages, each a link to its editor; for
// administrators also "add an office" (from the template, as a copy of
// another office, or from an exported file) and the accounts list.

import {
  adminErrorText, boot, call, clearError, contentTypeOf, currentLang, h, isAdmin, nameOf,
  problemText, setStatus, showError, showProblemList, t, ROLE_KEYS, send,
} from "./common.js";

const list = document.getElementById("office-list");
const form = document.getElementById("create-form");
const idInput = document.getElementById("new-id");
const nameInput = document.getElementById("new-name");
const copyFrom = document.getElementById("copy-from");
const fileInput = document.getElementById("new-file");
const problems = document.getElementById("create-problems");
const ID_RE = /^[a-z0-9][a-z0-9_-]{0,39}$/;

let session = null;
let offices = [];
let users = null;
let shownError = null;

function renderOffices() {
  list.replaceChildren(...offices.map((office) => h("tr", { dataset: { office: office.id } },
    h("td", {}, h("a", { href: `/admin/offices/${office.id}` }, nameOf(office.names) || office.id)),
    h("td", {}, h("code", {}, office.id)),
    h("td", {}, String(office.services)),
    h("td", {}, String(office.counters)),
    h("td", {}, String(office.version)))));
  document.getElementById("no-offices").hidden = offices.length > 0;
  const chosen = copyFrom.value;
  copyFrom.replaceChildren(...offices.map((office) => h("option", { value: office.id },
    `${nameOf(office.names)} (${office.id})`)));
  if (chosen) copyFrom.value = chosen;
}

function renderUsers() {
  if (!users) return;
  document.getElementById("account-list").replaceChildren(...users.map((user) => h("tr", {},
    h("td", {}, h("code", {}, user.name)),
    h("td", {}, user.display_name),
    h("td", {}, t(ROLE_KEYS[user.role] || "role.staff")),
    h("td", {}, user.offices.includes("*") ? t("accounts.all_offices") : user.offices.join(", ")),
    h("td", {}, user.disabled ? t("accounts.disabled") : t("accounts.active")))));
}

function render() {
  document.title = t("offices.page_title");
  renderOffices();
  renderUsers();
  if (shownError) showError(adminErrorText(shownError.code, shownError.details));
}

function fieldError(input, text) {
  document.getElementById(input.id + "-error").textContent = text;
  if (text) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

function source() {
  return form.querySelector("input[name='source']:checked").value;
}

// The template of a new office: one service and one counter, the rest the
// defaults; the clerk adds the real ones in the editor. Their names are
// data in Japanese (the offices' language) whatever the page's language,
// and in the page's language too.
async function template(id, name) {
  const response = await fetch("/static/queue/i18n/admin.ja.json", { cache: "no-cache" });
  const ja = await response.json();
  const named = (key) => {
    const names = { ja: ja[key] };
    if (currentLang() !== "ja") names[currentLang()] = t(key);
    return names;
  };
  return {
    id, names: { ja: name },
    services: [{ id: "general", letter: "A", names: named("template.service") }],
    counters: [{ id: "1", names: named("template.counter"), services: ["general"] }],
  };
}

async function create(event) {
  event.preventDefault();
  clearError();
  shownError = null;
  problems.replaceChildren();
  const id = idInput.value.trim();
  const name = nameInput.value.trim();
  fieldError(idInput, id ? (ID_RE.test(id) ? "" : problemText({ type: "id_format" }))
    : problemText({ type: "missing" }));
  fieldError(nameInput, name || source() === "file" ? "" : problemText({ type: "missing" }));
  fieldError(fileInput, source() !== "file" || fileInput.files.length ? ""
    : t("offices.file_required"));
  const wrong = [idInput, nameInput, fileInput].find((i) => i.getAttribute("aria-invalid"));
  if (wrong) {
    wrong.focus();
    return;
  }
  let result;
  const path = `/api/v1/admin/offices?id=${encodeURIComponent(id)}`;
  if (source() === "file") {
    const file = fileInput.files[0];
    result = await send(path, "POST", await file.text(), contentTypeOf(file.name));
  } else {
    let doc;
    if (source() === "copy") {
      const loaded = await call(`/api/v1/admin/offices/${copyFrom.value}/config`);
      if (loaded.error) {
        shownError = loaded.error;
        showError(adminErrorText(loaded.error.code, loaded.error.details));
        return;
      }
      // The other office's names and address are its own, not this one's.
      const { address, ...copied } = loaded.body.config;
      doc = { ...copied, id, names: { ja: name } };
    } else {
      doc = await template(id, name);
    }
    result = await call(path, { method: "POST", body: doc });
  }
  if (result.error) {
    shownError = result.error;
    showError(adminErrorText(result.error.code, result.error.details));
    const found = (result.error.details || {}).problems;
    if (found) showProblemList(problems, found);
    if (result.error.code === "office_exists") fieldError(idInput, t("admin.error.office_exists"));
    return;
  }
  setStatus(t("offices.created"));
  location.assign(`/admin/offices/${id}`);
}

async function start() {
  session = await boot(render);
  if (!session) return;
  const loaded = await call("/api/v1/admin/offices");
  if (loaded.error) {
    shownError = loaded.error;
    showError(adminErrorText(loaded.error.code, loaded.error.details));
    document.body.dataset.ready = "true";
    return;
  }
  offices = loaded.body.offices;
  if (loaded.body.may_create) {
    document.getElementById("create").hidden = false;
    form.addEventListener("submit", create);
    for (const radio of form.querySelectorAll("input[name='source']")) {
      radio.addEventListener("change", () => {
        document.getElementById("copy-field").hidden = source() !== "copy";
        document.getElementById("file-field").hidden = source() !== "file";
      });
    }
    for (const input of [idInput, nameInput]) input.addEventListener("input", () => fieldError(input, ""));
  }
  if (isAdmin(session)) {
    const found = await call("/api/v1/admin/users");
    if (!found.error) {
      users = found.body.users;
      document.getElementById("accounts").hidden = false;
    }
  }
  render();
  document.body.dataset.ready = "true";
}

start();
