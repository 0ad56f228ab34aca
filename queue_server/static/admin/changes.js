// A list of configuration changes ({path, old, new}: the audit log's and the
// import preview's) as "path: old → new", with added and removed said in
// words, not only by colour.

import { h, t } from "./common.js";

function shown(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? t("changes.yes") : t("changes.no");
  return JSON.stringify(value);
}

export function renderChanges(changes, { limit = 50 } = {}) {
  const list = h("ul", { class: "changes" });
  for (const change of changes.slice(0, limit)) {
    const path = h("code", {}, change.path);
    let body;
    if (change.old === null || change.old === undefined) {
      body = [t("changes.added"), " ", h("ins", { class: "new" }, shown(change.new))];
    } else if (change.new === null || change.new === undefined) {
      body = [t("changes.removed"), " ", h("del", { class: "old" }, shown(change.old))];
    } else {
      body = [
        h("del", { class: "old" }, h("span", { class: "sr-only" }, t("changes.before")),
          shown(change.old)),
        " → ",
        h("ins", { class: "new" }, h("span", { class: "sr-only" }, t("changes.after")),
          shown(change.new)),
      ];
    }
    list.append(h("li", {}, path, ": ", ...body));
  }
  if (changes.length > limit) {
    list.append(h("li", {}, t("changes.more", { count: changes.length - limit })));
  }
  return list;
}
