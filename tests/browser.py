"""Playwright helpers: Debian's headless Chromium (never a downloaded
browser, DESIGN §12), a log of every request a page makes, and keyboard-only
navigation."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("MADOGUCHI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-extensions",
]
# A mid-range Android phone.
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}
LOCAL_HOSTS = {"127.0.0.1"}

try:
    from playwright.async_api import Browser, Page, Request, async_playwright
except ImportError:  # reported by require_browser()
    async_playwright = None  # type: ignore[assignment]
    Browser = Page = Request = Any  # type: ignore[assignment,misc]


def require_browser() -> None:
    """Skip (a failure in CI) without Playwright or Debian's chromium."""
    if async_playwright is None:
        pytest.skip("the playwright package is not installed (pip install -e '.[dev]')")
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.skip(f"{CHROMIUM} missing: apt-get install chromium fonts-noto-cjk")


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    require_browser()
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                          headless=True)
        try:
            yield browser
        finally:
            await browser.close()


@dataclass
class RequestLog:
    """Every URL the page asked for; anything not on this machine is
    refused before it leaves the browser (and stays in the log)."""

    urls: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def foreign(self) -> list[str]:
        out = []
        for url in self.urls:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue
            if parts.hostname not in LOCAL_HOSTS:
                out.append(url)
        return out


@contextlib.asynccontextmanager
async def phone_page(browser: Browser, *, locale: str = "ja-JP",
                     log: RequestLog | None = None) -> AsyncIterator[Page]:
    """A fresh phone-sized context (own storage) in Japan's time zone."""
    context = await browser.new_context(locale=locale, timezone_id="Asia/Tokyo", **PHONE)
    log = log if log is not None else RequestLog()

    async def guard(route: Any) -> None:
        log.urls.append(route.request.url)
        host = urlsplit(route.request.url).hostname
        if host in LOCAL_HOSTS or route.request.url.startswith(("data:", "blob:")):
            await route.continue_()
        else:
            await route.abort()

    await context.route("**/*", guard)
    page = await context.new_page()
    page.on("console", lambda m: log.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: log.console_errors.append(str(e)))
    try:
        yield page
    finally:
        await context.close()


@contextlib.asynccontextmanager
async def desktop_page(browser: Browser, log: RequestLog, options: dict[str, Any], *,
                       websockets: bool = False) -> AsyncIterator[Page]:
    """A fresh context (own cookies and storage) with `options` whose
    requests may not leave this machine; `websockets`: log their URLs too
    (they do not pass through context.route)."""
    context = await browser.new_context(**options)

    async def guard(route: Any) -> None:
        log.urls.append(route.request.url)
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            await route.continue_()
        else:
            await route.abort()

    await context.route("**/*", guard)
    page = await context.new_page()
    page.on("console", lambda m: log.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: log.console_errors.append(str(e)))
    if websockets:
        page.on("websocket", lambda ws: log.urls.append(ws.url))
    try:
        yield page
    finally:
        await context.close()


@contextlib.asynccontextmanager
async def own_desktop(log: RequestLog, options: dict[str, Any], *,
                      websockets: bool = False) -> AsyncIterator[Page]:
    """desktop_page() in a browser of its own."""
    async with chromium() as browser, desktop_page(browser, log, options,
                                                   websockets=websockets) as page:
        yield page


async def wait_ready(page: Page) -> None:
    """The page script finished its start-up (body[data-ready])."""
    await page.wait_for_selector("body[data-ready='true']", state="attached", timeout=10_000)


async def focused(page: Page) -> dict[str, Any]:
    return await page.evaluate(
        """() => {
            const el = document.activeElement;
            return el ? {tag: el.tagName.toLowerCase(), id: el.id, text: el.textContent.trim(),
                         date: el.dataset.date || null, slot: el.dataset.slot || null,
                         lang: el.dataset.lang || null} : {};
        }"""
    )


async def tab_to(page: Page, selector: str, *, limit: int = 80, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until the focused element matches `selector`:
    proves the element is reachable by keyboard in focus order."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        await page.keyboard.press(key)
        if await page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
            return
    raise AssertionError(f"{selector!r} not reached with {limit} × {key}; focus is on "
                         f"{await focused(page)}")


async def focus_is(page: Page, selector: str) -> bool:
    return bool(await page.evaluate("(s) => document.activeElement?.matches(s) ?? false",
                                    selector))


# Checks a page the way an accessibility review starts (WCAG 2.1 AA): form
# fields have labels, images have alt text, controls have names and 44 px
# targets, ids are unique, <html lang> is set and visible text has 4.5:1
# contrast (3:1 when large). Returns the problems found, as strings.
A11Y_AUDIT_JS = r"""
() => {
  const problems = [];
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && s.display !== "none";
  };
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + " " + JSON.stringify((el.textContent || "").trim().slice(0, 40));
  if (!document.documentElement.lang) problems.push("html has no lang");
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden") continue;
    const named = el.labels.length > 0 || el.getAttribute("aria-label")
      || el.getAttribute("aria-labelledby");
    const labelText = [...el.labels].map((l) => l.textContent.trim()).join("");
    if (!named || (el.labels.length && !labelText)) problems.push("no label: " + describe(el));
  }
  for (const img of document.querySelectorAll("img, [role=img]")) {
    if (!img.hasAttribute("alt") && !img.getAttribute("aria-label")) {
      problems.push("image without alt: " + describe(img));
    }
  }
  for (const el of document.querySelectorAll("button, a[href], [role=button]")) {
    if (!visible(el)) continue;
    const name = (el.getAttribute("aria-label") || el.textContent || "").trim();
    if (!name) problems.push("control without a name: " + describe(el));
    const r = el.getBoundingClientRect();
    // A link inside a sentence is exempt from the target size (WCAG 2.5.5).
    const inline = el.tagName === "A" && !el.className.includes("button")
      && !el.classList.contains("skip");
    if (!inline && (r.width < 44 || r.height < 44)) {
      const size = `${Math.round(r.width)}x${Math.round(r.height)}`;
      problems.push(`target ${size} < 44px: ` + describe(el));
    }
  }
  const ids = new Map();
  for (const el of document.querySelectorAll("[id]")) ids.set(el.id, (ids.get(el.id) || 0) + 1);
  for (const [id, n] of ids) if (n > 1) problems.push(`id ${id} used ${n} times`);

  const rgb = (text) => {
    const m = text.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(",").map((v) => parseFloat(v));
    return { r, g, b, a };
  };
  const lum = ({ r, g, b }) => {
    const c = [r, g, b].map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0.99) return c;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  for (const el of document.body.querySelectorAll("*")) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !visible(el) || el.closest(".sr-only")) continue;
    const s = getComputedStyle(el);
    const fg = rgb(s.color);
    const bg = background(el);
    const [hi, lo] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(s.fontSize);
    const large = size >= 24 || (size >= 18.66 && parseInt(s.fontWeight, 10) >= 700);
    const need = large ? 3 : 4.5;
    if (ratio < need) problems.push(`contrast ${ratio.toFixed(2)} < ${need}: ` + describe(el));
  }
  return problems;
}
"""


async def audit(page: Page) -> list[str]:
    """The checks above, then axe-core's serious and critical violations
    (tests/axe_check.py): every page test that audits runs both."""
    from tests.axe_check import axe_problems

    return list(await page.evaluate(A11Y_AUDIT_JS)) + await axe_problems(page)
