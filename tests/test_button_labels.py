"""Button labels never break inside a word (issue 10 §4: 「最初の画／面に戻る」,
「もう一度呼／ぶ」) at the supported sizes: one line, or a break between
words (CSS word-break: auto-phrase for Japanese). Checked in Chromium on
the kiosk's screens and the staff console."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from tests.browser import RequestLog, chromium, desktop_page
from tests.conftest import ManualClock
from tests.line_breaks import broken_words
from tests.test_kiosk_page import kiosk_context, on_screen, open_kiosk
from tests.test_staff_console import OFFICE, log_in, make_site

SIZES = ({"width": 1366, "height": 768}, {"width": 1920, "height": 1080},
         {"width": 1080, "height": 1920}, {"width": 683, "height": 768})


async def test_kiosk_buttons_break_between_words(redis: Redis, tenant: str) -> None:
    from tests.servers import app_harness
    from tests.test_kiosk_page import kiosk_office

    clock = ManualClock()
    async with app_harness(redis, tenant, kiosk_office(), clock=clock) as site, \
            chromium() as browser:
        token = await site.token("kiosk")
        for size in SIZES[:3]:
            async with kiosk_context(browser, clock, viewport=size) as page:
                await open_kiosk(page, site, token=token)
                found: list[Any] = await broken_words(page)
                await page.click("#booking-button")
                await on_screen(page, "booking")
                found += await broken_words(page)
                assert found == [], (size, found)


async def test_staff_console_buttons_break_between_words(
        redis: Redis, tenant: str) -> None:
    clock = ManualClock()
    async with make_site(redis, tenant, clock) as site, chromium() as browser:
        await site.act("1", "open")
        for size in SIZES:
            options = {"viewport": size, "locale": "ja-JP", "timezone_id": "Asia/Tokyo"}
            async with desktop_page(browser, RequestLog(), options) as page:
                await log_in(page, site, "clerk", f"/staff?office={OFFICE}&counter=1")
                await page.wait_for_selector("button.act[data-action='recall']")
                found = await broken_words(page)
                await page.screenshot(path=f"/tmp/staff_{size['width']}.png")
                assert found == [], (size, found)
