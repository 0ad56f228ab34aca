// The page's one alert box (role="alert"): API errors in the chosen
// language, focused so a screen reader announces them at once.

import { errorText } from "./i18n.js";

export function showError(state, error, { focus = true } = {}) {
  state.error = error;
  const box = document.getElementById("alert");
  box.textContent = errorText(error);
  box.classList.add("shown");
  if (focus) {
    box.tabIndex = -1;
    box.focus();
  }
}

export function clearError(state) {
  state.error = null;
  const box = document.getElementById("alert");
  box.textContent = "";
  box.classList.remove("shown");
  box.removeAttribute("tabindex");
}
