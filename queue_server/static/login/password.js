// The password page: who is logged in, the change form (sent with fetch()
// and the session's CSRF token), and logout (a plain form whose hidden
// field carries the token).

import {
  applyI18n, chooseLang, langSwitch, markLangSwitch, setLang, t,
} from "./i18n.js";
import {
  clearError, errorOf, errorText, sendForm, setStatus, showAgain, showError,
} from "./messages.js";
import { getSession } from "./session.js";

const form = document.getElementById("password-form");
const fields = {
  current: document.getElementById("current"),
  new: document.getElementById("new"),
  confirm: document.getElementById("confirm"),
};
const submit = document.getElementById("submit");
const langList = document.getElementById("lang-list");

let session = null;
let sending = false;
let shown = null;

function render() {
  applyI18n();
  document.title = t("password.page_title");
  markLangSwitch(langList);
  if (session) {
    const user = session.user;
    document.getElementById("who").textContent = t("password.signed_in_as", {
      name: user.display_name, login: user.name,
    });
  }
  showAgain(shown);
}

function fieldError(input, text) {
  document.getElementById(input.id + "-error").textContent = text;
  if (text) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

// Which field an error is about: focus goes there.
function fieldOf(code) {
  if (code === "wrong_password" || code === "login_locked" || code === "login_rate_limited") {
    return fields.current;
  }
  if (code === "password_mismatch") return fields.confirm;
  return fields.new;
}

function fail(code, details = {}) {
  shown = { code, details };
  const text = errorText(code, details);
  showError(text);
  const input = fieldOf(code);
  fieldError(input, text);
  input.focus();
}

async function send(event) {
  event.preventDefault();
  if (sending) return;
  clearError();
  shown = null;
  for (const input of Object.values(fields)) fieldError(input, "");
  const empty = Object.values(fields).find((input) => !input.value);
  if (empty) {
    fieldError(empty, t("error.field_required"));
    empty.focus();
    return;
  }
  if (fields.new.value !== fields.confirm.value) {
    fail("password_mismatch");
    return;
  }
  sending = true;
  setStatus(t("password.sending"));
  await sendForm(form, "/account/password", {
    submit,
    headers: { "X-CSRF-Token": session.csrf },
    answer: async (response) => {
      if (response.ok) {
        for (const input of Object.values(fields)) input.value = "";
        shown = { key: "password.done" };
        setStatus(t("password.done"));
        return;
      }
      const error = await errorOf(response);
      if (error.code === "session_expired") {
        location.assign("/login?next=" + encodeURIComponent(location.pathname));
        return;
      }
      fail(error.code, error.details);
    },
    failed: () => fail("network"),
  });
  sending = false;
}

async function start() {
  await setLang(chooseLang());
  // Kept in storage (madoguchi.staff-lang), not in the address.
  langSwitch(langList, { inUrl: false, onChange: render });
  session = await getSession();
  if (!session) return; // on the way to the login page
  for (const hidden of document.querySelectorAll("input.csrf")) hidden.value = session.csrf;
  render();
  form.addEventListener("submit", send);
  const params = new URLSearchParams(location.search);
  if (params.get("error")) {
    fail(params.get("error"), { reason: params.get("reason") || "" });
  } else if (params.get("done")) {
    shown = { key: "password.done" };
    setStatus(t("password.done"));
  }
  document.body.dataset.ready = "true";
}

start();
