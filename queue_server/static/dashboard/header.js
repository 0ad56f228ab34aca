// The dashboard pages' header (product, the three pages, who is logged in,
// logout, languages), drawn into <header class="top" data-header="dashboard">.
// page.js imports this first; it marks the current page (data-nav).

import { account, div, fillHeader, languages, navigation, product } from "../common/header.js";

fillHeader("dashboard",
  div({ class: "bar" },
    product(["common.product", "madoguchi 窓口システム"]),
    navigation({
      listClass: "nav",
      label: ["nav.label", "管理画面"],
      links: [
        { href: "/dashboard", data: { nav: "live" }, text: ["nav.live", "ライブ"] },
        { href: "/dashboard/stats", data: { nav: "stats" }, text: ["nav.stats", "統計"] },
        { href: "/dashboard/staffing", data: { nav: "staffing" }, text: ["nav.staffing", "人員計画"] },
      ],
    }),
    account({
      boxClass: "account", whoClass: "who", buttonClass: "secondary",
      logout: ["nav.logout", "ログアウト"],
    })),
  languages());
