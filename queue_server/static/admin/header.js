// The administration pages' header (product, menu, who is logged in,
// logout, languages), drawn into <header class="top" data-header="admin">.
// common.js imports this first; it sets the menu's aria-current.

import { account, fillHeader, languages, navigation, product } from "../common/header.js";

fillHeader("admin",
  product(["admin.product", "madoguchi 管理"]),
  navigation({
    navClass: "admin-nav",
    label: ["nav.label", "管理メニュー"],
    links: [
      { href: "/admin", text: ["nav.offices", "庁舎"] },
      { href: "/admin/tokens", text: ["nav.tokens", "機器のトークン"] },
      { href: "/admin/audit", text: ["nav.audit", "変更の記録"] },
    ],
  }),
  account({ boxClass: "who", buttonClass: "secondary small", logout: ["nav.logout", "ログアウト"] }),
  languages());
