// The console's state: who is logged in, where they work, and the last
// board the server gave. One object that every module reads; staff.js is
// the only one that changes it, always from a server answer (the screen
// never guesses what the server did).

import { currentLang } from "../login/i18n.js";

export const state = {
  session: null, // /api/v1/session
  offices: [], // [{id, names}] this person may work in
  allOffices: [], // [{id, names}] every office (public list), for names in messages
  office: null, // chosen office id
  counter: null, // chosen counter id
  config: null, // /staff/{office}/config.json of the chosen office
  board: null, // /api/v1/offices/{office}/counters/{counter}/board
  printers: [], // /api/v1/offices/{office}/printers
  busy: false, // an action is on its way (keys pressed meanwhile are refused)
  online: false, // the office's event socket is open
};

// A name in the page's language, else Japanese (every office has it).
export function nameOf(names, fallback = "") {
  if (!names) return fallback;
  return names[currentLang()] || names.ja || Object.values(names)[0] || fallback;
}

export function serviceOf(id, config = state.config) {
  return (config && config.services.find((s) => s.id === id)) || null;
}

export function serviceName(id, config = state.config) {
  const service = serviceOf(id, config);
  return service ? nameOf(service.names, id) : id;
}

export function counterOf(id, config = state.config) {
  return (config && config.counters.find((c) => c.id === id)) || null;
}

export function counterName(id, config = state.config) {
  const counter = counterOf(id, config);
  return counter ? nameOf(counter.names, id) : id;
}

export function officeName(id) {
  const known = state.offices.find((o) => o.id === id) || state.allOffices.find((o) => o.id === id);
  if (known && known.names) return nameOf(known.names, id);
  if (state.config && state.config.office === id) return nameOf(state.config.names, id);
  return id;
}
