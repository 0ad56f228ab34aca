// The login page: the form is sent with fetch() (JSON answers), errors are
// announced in #alert and focus goes to the field to correct; on success
// the browser goes to the `next` path the server approved.

import {
  applyI18n, chooseLang, langSwitch, markLangSwitch, setLang, t,
} from "./i18n.js";
import {
  clearError, errorOf, errorText, sendForm, setStatus, showAgain, showError,
} from "./messages.js";

const form = document.getElementById("login-form");
const nameInput = document.getElementById("name");
const passwordInput = document.getElementById("password");
const nextInput = document.getElementById("next");
const submit = document.getElementById("submit");
const showPassword = document.getElementById("show-password");
const langList = document.getElementById("lang-list");

let sending = false;
let shown = null; // the message on screen: {code, details} or {key}

function render() {
  applyI18n();
  document.title = t("login.page_title");
  markLangSwitch(langList);
  showAgain(shown);
}

function fieldError(input, key) {
  const box = document.getElementById(input.id + "-error");
  box.textContent = key ? t(key) : "";
  if (key) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

function fail(code, details = {}, { focusName = false } = {}) {
  shown = { code, details };
  showError(errorText(code, details));
  const target = focusName || code === "validation_failed" ? nameInput : passwordInput;
  if (code === "login_failed" || code === "login_locked" || code === "login_rate_limited") {
    passwordInput.value = ""; // typed again for the next try, never kept on screen
    passwordInput.setAttribute("aria-invalid", "true");
  }
  target.focus();
}

async function send(event) {
  event.preventDefault();
  if (sending) return;
  clearError();
  shown = null;
  fieldError(nameInput, nameInput.value.trim() ? "" : "error.name_required");
  fieldError(passwordInput, passwordInput.value ? "" : "error.password_required");
  const empty = [nameInput, passwordInput].find((input) => input.hasAttribute("aria-invalid"));
  if (empty) {
    empty.focus();
    return;
  }
  sending = true;
  setStatus(t("login.sending"));
  await sendForm(form, "/login", {
    submit,
    answer: async (response) => {
      if (response.ok) {
        const body = await response.json();
        shown = { key: "login.redirecting" };
        setStatus(t("login.redirecting"));
        location.assign(body.next);
        return;
      }
      const error = await errorOf(response);
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
  const params = new URLSearchParams(location.search);
  nextInput.value = params.get("next") || "";
  render();
  form.addEventListener("submit", send);
  showPassword.addEventListener("change", () => {
    passwordInput.type = showPassword.checked ? "text" : "password";
  });
  for (const input of [nameInput, passwordInput]) {
    input.addEventListener("input", () => fieldError(input, ""));
  }
  // A plain-form answer (no script then, or a reload) comes back as ?error=.
  const error = params.get("error");
  if (error) {
    // The fields are empty again: start from the name.
    fail(error, { until: params.get("until") || "", reason: params.get("reason") || "" },
      { focusName: true });
  } else {
    if (params.get("bye")) {
      shown = { key: "login.bye" };
      setStatus(t("login.bye"));
    }
    // The one thing to do here: type the login name (a counter PC, every morning).
    nameInput.focus();
  }
  document.body.dataset.ready = "true";
}

start();
