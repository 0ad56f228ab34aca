"""What the staff-side page tests (login, staff console, administration,
dashboard) share: accounts made with queue_server.users.Users (a cheap
password hash, so logging in is fast), logging in through the login page by
keyboard, and the message catalogs and the keys the pages name."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher

from queue_server.sessions import LOGIN
from queue_server.users import Users
from tests.servers import AppHarness

STATIC = Path(__file__).resolve().parent.parent / "queue_server" / "static"
LANGS = ("ja", "en", "ko", "zh-Hans", "vi")
PASSWORD = "sakura kawa yama 2026"
CHEAP = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
WAIT_MS = 10_000


# --- accounts

def users(site: AppHarness) -> Users:
    return Users(site.redis, site.tenant, hasher=CHEAP)


async def add_accounts(site: AppHarness, *accounts: tuple[str, str, list[str], str]) -> Users:
    """Each (login name, role, offices, display name) with PASSWORD; the
    app checks passwords with the same cheap hash."""
    site.app[LOGIN].users.hasher = CHEAP  # type: ignore[union-attr]
    made = users(site)
    for name, role, offices, display_name in accounts:
        await made.create(name, PASSWORD, role, offices, display_name=display_name)
    return made


def base_url(site: AppHarness) -> str:
    return str(site.client.make_url("")).rstrip("/")


async def type_login(page: Any, name: str, password: str = PASSWORD) -> None:
    """On the login page, the focus in the name field: the name, Tab, the
    password, Enter."""
    await page.keyboard.type(name)
    await page.keyboard.press("Tab")
    await page.keyboard.type(password)
    await page.keyboard.press("Enter")


# --- reading the page

def script_errors(log: Any) -> list[str]:
    """Console errors other than Chromium's note of each 4xx answer (in the
    tests where a refused request is expected)."""
    return [e for e in log.console_errors if not e.startswith("Failed to load resource")]


async def text_of(page: Any, selector: str) -> str:
    return (await page.text_content(selector) or "").strip()


async def wait_text(page: Any, selector: str, text: str) -> None:
    await page.wait_for_function(
        "([s, t]) => (document.querySelector(s)?.textContent || '').includes(t)",
        arg=[selector, text], timeout=WAIT_MS)


# --- catalogs

def catalog_file(name: str, lang: str) -> dict[str, str]:
    """static/i18n/{name}.{lang}.json."""
    data = json.loads((STATIC / "i18n" / f"{name}.{lang}.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def keys_named(folder: str, *patterns: str) -> set[str]:
    """Every catalog key the files of static/{folder} name: in data-i18n="…",
    and each pattern's first group."""
    used: set[str] = set()
    for path in (STATIC / folder).iterdir():
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r'data-i18n="([^"]+)"', text))
        for pattern in patterns:
            used |= set(re.findall(pattern, text))
    return used
