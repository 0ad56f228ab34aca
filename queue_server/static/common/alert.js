// The page's one alert box and the fields' own error lines (served at
// /static/queue/common/alert.js). The texts come from the page (its
// errorText() in the chosen language); a page keeps what it shows (the
// error, the field's spec) so a language change can show it again.

// #alert (role="alert"): shown, and focused so a screen reader announces it
// at once (not when it is shown again on a language change).
export function showAlert(text, { focus = true } = {}) {
  const box = document.getElementById("alert");
  box.textContent = text;
  box.classList.add("shown");
  if (focus) {
    box.tabIndex = -1;
    box.focus();
  }
}

export function clearAlert() {
  const box = document.getElementById("alert");
  box.textContent = "";
  box.classList.remove("shown");
  box.removeAttribute("tabindex");
}

// A field's own error: the field `id`, its hint `id-hint` and its error
// line `id-error`; a text, or "" / null to clear it. The field points at
// its error (then its hint) with aria-describedby.
export function showFieldError(id, text) {
  const input = document.getElementById(id);
  const box = document.getElementById(id + "-error");
  if (!text) {
    box.hidden = true;
    box.textContent = "";
    input.removeAttribute("aria-invalid");
    input.setAttribute("aria-describedby", id + "-hint");
    return;
  }
  box.textContent = text;
  box.hidden = false;
  input.setAttribute("aria-invalid", "true");
  input.setAttribute("aria-describedby", `${id}-error ${id}-hint`);
}

// The polite "loading" line (#loading) and the page's aria-busy.
export function setLoading(on) {
  document.getElementById("loading").hidden = !on;
  document.body.setAttribute("aria-busy", String(on));
}

// For a page that keeps the error it shows in state.error (a language
// change shows it again), with the page's errorText():
// - showError(error, options) and clearError();
// - busy(fn): runs fn() unless one is running (state.busy), with the
//   loading line; what it throws is shown.
export function pageAlert(state, errorText) {
  function showError(error, options) {
    state.error = error;
    showAlert(errorText(error), options);
  }
  function clearError() {
    state.error = null;
    clearAlert();
  }
  async function busy(fn) {
    if (state.busy) return;
    state.busy = true;
    setLoading(true);
    try {
      await fn();
    } catch (error) {
      showError(error);
    } finally {
      state.busy = false;
      setLoading(false);
    }
  }
  return { showError, clearError, busy };
}
