// The booking's own page /b/{token} (the link in the SMS and on the done
// page): see the booking, cancel it (asked twice), and — later — check in.

import { showError as showAlert, clearError as clearAlert } from "./alert.js";
import { api, enc } from "./api.js";
import {
  applyI18n, chooseLang, currentLang, dayOf, formatDay, formatTime, markLangSwitch,
  putName, rememberInUrl, renderLangSwitch, setLang, t,
} from "./i18n.js";

const STATUS_KEYS = {
  "booked": "manage.status_booked",
  "checked_in": "manage.status_checked_in",
  "cancelled": "manage.status_cancelled",
  "no_show": "manage.status_no_show",
};

const $ = (id) => document.getElementById(id);
const token = decodeURIComponent(location.pathname.split("/")[2] || "");

const state = {
  booking: null,
  office: null,
  service: null,
  error: null,
  message: null, // key of the polite status message shown
  busy: false,
};

function tz() {
  return (state.office && state.office.timezone) || "Asia/Tokyo";
}

function officeIdOf(booking) {
  if (booking && booking.office) return booking.office;
  const dot = token.indexOf(".");
  return dot > 0 ? token.slice(0, dot) : "";
}

function showError(error, options) {
  showAlert(state, error, options);
}

function clearError() {
  clearAlert(state);
}

function setMessage(key) {
  state.message = key;
  $("status-message").textContent = key ? t(key) : "";
}

function renderTitle() {
  const el = document.createElement("span");
  if (state.office) putName(el, state.office.names);
  $("office-name").textContent = el.textContent;
  document.title = t("manage.page_title");
}

function render() {
  const b = state.booking;
  if (!b) return;
  $("booking").hidden = false;
  $("m-status").textContent = t(STATUS_KEYS[b.status] || "manage.status_booked");
  $("m-status").dataset.status = b.status || "";
  const code = String(b.code || "");
  $("code").textContent = code.length === 6 ? code.slice(0, 3) + " " + code.slice(3) : code;
  $("code-sr").textContent = t("done.code_spoken", { code: code.split("").join(" ") });
  if (state.office) putName($("m-office"), state.office.names);
  if (state.service) putName($("m-service"), state.service.names);
  else $("m-service").textContent = b.service || "";
  if (b.slot_start) {
    $("m-date").textContent = formatDay(dayOf(new Date(b.slot_start), tz()), tz());
    $("m-time").textContent = t("time.range", {
      start: formatTime(b.slot_start, tz()),
      end: b.slot_end ? formatTime(b.slot_end, tz()) : "",
    });
  }
  const bring = state.service && state.service.bring;
  const hasBring = bring && Object.keys(bring).length > 0 && b.status === "booked";
  $("m-bring-box").hidden = !hasBring;
  if (hasBring) putName($("m-bring"), bring);
  $("checkin").hidden = b.status !== "booked";
  $("cancel-box").hidden = b.status !== "booked";
  const office = officeIdOf(b);
  $("book-again").href = office ? `/book/${enc(office)}?lang=${enc(currentLang())}` : "#";
  $("book-again").hidden = !office;
}

async function load() {
  state.booking = await api("GET", `/bookings/${enc(token)}`);
  const office = officeIdOf(state.booking);
  if (!office) return;
  try {
    const [offices, services] = await Promise.all([
      api("GET", "/offices"),
      api("GET", `/offices/${enc(office)}/services`),
    ]);
    state.office = (offices.offices || []).find((o) => o.id === office) || null;
    state.service = (services.services || []).find((s) => s.id === state.booking.service) || null;
  } catch {
    // Names are a nicety: the booking itself is shown either way.
  }
}

function askCancel() {
  $("cancel-confirm").hidden = false;
  $("cancel").hidden = true;
  $("cancel-question").focus();
}

function keepBooking() {
  $("cancel-confirm").hidden = true;
  $("cancel").hidden = false;
  $("cancel").focus();
}

async function confirmCancel() {
  if (state.busy) return;
  state.busy = true;
  clearError();
  try {
    const result = await api("POST", `/bookings/${enc(token)}/cancel`, {});
    state.booking = result && result.status ? { ...state.booking, ...result } : state.booking;
    if (!result || !result.status) state.booking.status = "cancelled";
    $("cancel-confirm").hidden = true;
    $("cancel").hidden = false;
    render();
    setMessage("manage.cancelled");
    $("h-booking").focus();
  } catch (error) {
    showError(error);
  } finally {
    state.busy = false;
  }
}

async function chooseLanguage(code) {
  try {
    await setLang(code, { remember: true });
  } catch {
    showError({ code: "network" }); // the page stays in the language it has
    return;
  }
  rememberInUrl(code);
  applyI18n(document);
  markLangSwitch($("lang-list"));
  renderTitle();
  render();
  if (state.message) setMessage(state.message);
  if (state.error) showError(state.error, { focus: false });
}

async function start() {
  let loadError = null;
  try {
    await load();
  } catch (error) {
    loadError = error;
  }
  await setLang(chooseLang(state.booking && state.booking.lang));
  applyI18n(document);
  renderLangSwitch($("lang-list"), chooseLanguage);
  renderTitle();
  $("cancel").addEventListener("click", askCancel);
  $("cancel-no").addEventListener("click", keepBooking);
  $("cancel-yes").addEventListener("click", confirmCancel);
  if (loadError) showError(loadError, { focus: false });
  else render();
  document.body.dataset.ready = "true";
}

start();
