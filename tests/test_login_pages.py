"""The login and password pages in Debian's headless Chromium (Playwright)
against the real app on 127.0.0.1: keyboard only, the redirect after
login, errors announced in the chosen language, lock-out time, logout; and
the message catalogs."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from tests.accounts import (
    LANGS,
    PASSWORD,
    STATIC,
    add_accounts,
    base_url,
    catalog_file,
    keys_named,
    script_errors,
    text_of,
    type_login,
    users,
    wait_text,
)
from tests.browser import RequestLog, audit, focus_is, own_desktop, tab_to, wait_ready
from tests.conftest import ManualClock, small_office
from tests.servers import AppHarness, app_harness

GOOD = PASSWORD
NEW = "fune ni notte umi e"
# A counter PC: a desktop screen, Japanese, in Japan.
COUNTER_PC = {"viewport": {"width": 1366, "height": 768}, "locale": "ja-JP",
              "timezone_id": "Asia/Tokyo"}


def catalog(lang: str) -> dict[str, str]:
    return catalog_file("login", lang)


@pytest.fixture
async def site(redis: Redis, tenant: str) -> AsyncIterator[AppHarness]:
    # The app's clock stands at 10:00 in Kitakyushu (lock-outs end at 10:15).
    async with app_harness(redis, tenant, small_office(), clock=ManualClock()) as harness:
        await add_accounts(harness, ("clerk", "staff", [harness.office], "窓口 花子"))
        yield harness


def counter_pc(log: RequestLog) -> Any:
    """A fresh desktop browser context whose requests may not leave this machine."""
    return own_desktop(log, COUNTER_PC)


async def test_keyboard_login_redirects_then_logout(site: AppHarness) -> None:
    ja = catalog("ja")
    base = base_url(site)
    log = RequestLog()
    async with counter_pc(log) as page:
        await page.goto(f"{base}/login")
        await wait_ready(page)
        assert await page.title() == ja["login.page_title"]
        assert await audit(page) == []
        # The login name field has the focus: type, Tab, type, Enter.
        assert await focus_is(page, "#name")
        await page.keyboard.type("clerk")
        await page.keyboard.press("Tab")
        assert await focus_is(page, "#password")
        await page.keyboard.type(GOOD)
        assert log.console_errors == []
        await page.keyboard.press("Enter")
        await page.wait_for_url(f"{base}/staff", timeout=10_000)  # the default next
        # /staff is the staff console's page (not part of this test; it may
        # not exist yet): its own errors are not the login page's.
        log.console_errors.clear()
        cookies = {c["name"]: c for c in await page.context.cookies()}
        session = cookies["mg_session"]
        assert session["httpOnly"] and session["sameSite"] == "Strict" and session["path"] == "/"

        # Already logged in: the login page sends the person straight on.
        await page.goto(f"{base}/login?next=/account/password")
        await page.wait_for_url(f"{base}/account/password")
        await wait_ready(page)
        assert "窓口 花子" in await text_of(page, "#who")
        assert await audit(page) == []

        # Log out with the keyboard: the plain form with its hidden CSRF field.
        await tab_to(page, "#logout")
        await page.keyboard.press("Enter")
        await page.wait_for_url(f"{base}/login?bye=1")
        await wait_ready(page)
        assert await text_of(page, "#status") == ja["login.bye"]
        assert await audit(page) == []  # the status line too meets the contrast
        assert "mg_session" not in {c["name"] for c in await page.context.cookies()}
        # The page asks to log in again.
        await page.goto(f"{base}/account/password")
        await page.wait_for_url(re.compile(r"/login\?next=%2Faccount%2Fpassword$"))
        await wait_ready(page)
    assert log.foreign() == [] and log.console_errors == [], log


async def test_errors_are_announced_in_the_chosen_language(site: AppHarness) -> None:
    en = catalog("en")
    log = RequestLog()
    async with counter_pc(log) as page:
        await page.goto(f"{base_url(site)}/login")
        await wait_ready(page)
        # Switch to English with the keyboard (the switch is before the form).
        await tab_to(page, "button[data-lang='en']", backwards=True)
        await page.keyboard.press("Enter")
        await wait_text(page, "h1", en["login.heading"])
        assert await page.get_attribute("html", "lang") == "en"
        assert await page.get_attribute("button[data-lang='en']", "aria-pressed") == "true"
        assert await page.get_attribute("#alert", "role") == "alert"
        assert await page.get_attribute("#status", "aria-live") == "polite"

        # Nothing typed: said at the field, focus on it.
        await tab_to(page, "#submit")
        await page.keyboard.press("Enter")
        await wait_text(page, "#name-error", en["error.name_required"])
        assert await focus_is(page, "#name")
        assert await page.get_attribute("#name", "aria-invalid") == "true"

        await page.keyboard.type("clerk")
        await page.keyboard.press("Tab")
        await page.keyboard.type("not the password")
        await page.keyboard.press("Enter")
        await wait_text(page, "#alert", en["error.login_failed"])
        assert await focus_is(page, "#password")  # ready for another try
        assert await page.input_value("#password") == ""
        assert await audit(page) == []  # the alert too meets the contrast

        for _ in range(4):
            await page.keyboard.type("still not it")
            await page.keyboard.press("Enter")
            await page.wait_for_function("() => document.activeElement.id === 'password' && "
                                         "document.getElementById('password').value === ''")
        locked = en["error.login_locked"].replace("{time}", "10:15")
        await wait_text(page, "#alert", locked)

        # The language is remembered on this PC.
        await page.reload()
        await wait_ready(page)
        assert await text_of(page, "h1") == en["login.heading"]
    assert log.foreign() == [] and script_errors(log) == [], log


async def test_password_change_by_keyboard(site: AppHarness) -> None:
    ja = catalog("ja")
    base = base_url(site)
    log = RequestLog()
    async with counter_pc(log) as page:
        await page.goto(f"{base}/account/password")
        await page.wait_for_url(re.compile(r"/login\?next="))
        await wait_ready(page)
        await type_login(page, "clerk")
        await page.wait_for_url(f"{base}/account/password")
        await wait_ready(page)

        await tab_to(page, "#current")
        await page.keyboard.type(GOOD)
        await page.keyboard.press("Tab")
        assert await focus_is(page, "#new")
        await page.keyboard.type("short")
        await page.keyboard.press("Tab")
        await page.keyboard.type("short")
        await page.keyboard.press("Enter")
        too_short = ja["weak.too_short"].replace("{min}", "12")
        await wait_text(page, "#alert", too_short)
        assert await focus_is(page, "#new")
        assert await text_of(page, "#new-error") == too_short
        assert await page.get_attribute("#new", "aria-invalid") == "true"

        await page.fill("#new", "")
        await page.keyboard.type(NEW)
        await page.keyboard.press("Tab")
        await page.keyboard.press("Control+A")
        await page.keyboard.type(NEW)
        await page.keyboard.press("Enter")
        await wait_text(page, "#status", ja["password.done"])
        assert await audit(page) == []
        assert await page.input_value("#current") == ""
    assert log.foreign() == [] and script_errors(log) == [], log
    accounts = users(site)
    assert await accounts.password_matches(await accounts.require("clerk"), NEW)


# --- the catalogs

def keys_used() -> set[str]:
    """Every catalog key named in the pages and their modules."""
    return keys_named("login", r'"((?:login|error|weak|password|common|lang)\.[a-z_]+)"')


def test_every_catalog_has_every_key() -> None:
    ja = catalog("ja")
    used = keys_used()
    assert used and used <= set(ja), sorted(used - set(ja))
    for lang in LANGS:
        data = catalog(lang)
        assert set(data) == set(ja), (lang, set(ja) ^ set(data))
        for key, text in data.items():
            assert text.strip(), (lang, key)
            # The same {placeholders} as the Japanese.
            assert set(re.findall(r"\{\w+\}", text)) == set(re.findall(r"\{\w+\}", ja[key])), (
                lang, key)


def test_html_carries_japanese_before_the_script_runs() -> None:
    """The pages read right in Japanese even before (or without) the script."""
    ja = catalog("ja")
    for name in ("login.html", "password.html"):
        html = (STATIC / "login" / name).read_text(encoding="utf-8")
        assert '<html lang="ja">' in html
        assert "<script>" not in html and "style=" not in html  # strict CSP: no inline code
        for key, text in re.findall(r'data-i18n="([^"]+)">([^<]+)<', html):
            assert text.strip() == ja[key], (name, key)
