"""The booking page on the kiosk: the kiosk's button for another day opens
/book/{office}?lang=..&kiosk=1 full-page on the lobby machine. There the page
shows a large way back to the kiosk's start screen on every step, goes back
by itself after a minute without a touch (after a ten-second countdown),
keeps nothing in the machine's localStorage and offers nothing to keep on
"this phone". Driven in Debian's headless Chromium through Playwright, with
the page's clock fast-forwarded (page.clock)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from redis.asyncio import Redis

from tests.browser import RequestLog, audit, chromium, phone_page, wait_ready
from tests.servers import AppHarness, app_harness
from tests.test_booking_pages import base_url, booking_office, catalog, step_shown, text_of


@pytest.fixture
async def site(redis: Redis, tenant: str) -> AsyncIterator[AppHarness]:
    async with app_harness(redis, tenant, booking_office()) as harness:
        yield harness


STORAGE_JS = "JSON.stringify(Object.assign({}, window.localStorage))"


async def storage(page: Any) -> dict[str, str]:
    return dict(json.loads(await page.evaluate(STORAGE_JS)))


async def home_shown(page: Any, site: AppHarness, text: str) -> None:
    link = page.locator("#kiosk-home")
    assert await link.is_visible()
    assert await link.get_attribute("href") == f"/kiosk/{site.office}"
    assert (await link.text_content() or "").strip() == text
    box = await link.bounding_box()
    assert box and box["height"] >= 64 and box["width"] >= 300, box


async def test_every_step_has_the_way_back_and_nothing_is_kept(site: AppHarness) -> None:
    en = catalog("en")
    log = RequestLog()
    async with chromium() as browser, phone_page(browser, log=log) as page:
        await page.clock.install()
        await page.goto(f"{base_url(site)}/book/{site.office}?lang=en&kiosk=1")
        await wait_ready(page)
        assert await page.get_attribute("html", "lang") == "en"
        await home_shown(page, site, en["kiosk.home"])
        # Today's queue is the kiosk's own business: not offered here.
        assert await page.locator("#queue-offer").is_hidden()

        # A language chosen here stays in this page's address only.
        await page.click("#lang-list button[data-lang='ko']")
        await page.wait_for_selector("html[lang='ko']", state="attached")
        await home_shown(page, site, catalog("ko")["kiosk.home"])
        assert "lang=ko" in urlsplit(page.url).query and "kiosk=1" in urlsplit(page.url).query
        await page.click("#lang-list button[data-lang='en']")
        await page.wait_for_selector("html[lang='en']", state="attached")

        # Every step of a booking shows the way back.
        await home_shown(page, site, en["kiosk.home"])
        steps = (("#service-list button[data-service='juminhyo']", "date"),
                 ("#date-list button.choice >> nth=0", "time"),
                 ("#time-list button.choice >> nth=0", "phone"),
                 ("#phone-form button[type='submit']", "confirm"),
                 ("#submit", "done"))
        for target, step in steps:
            if step == "confirm":
                await page.fill("#phone", "03-1234-5678")
            await page.click(target)
            await step_shown(page, step)
            await home_shown(page, site, en["kiosk.home"])
        # The done page offers nothing to keep on "this phone": no link to
        # the booking's own page, no "save this screen".
        assert await page.locator("#manage-link").is_hidden()
        assert await page.locator("#done-manage").is_hidden()
        sms = await text_of(page, "#d-sms")
        assert sms in (en["kiosk.sms_not_mobile"], en["kiosk.sms_disabled"],
                       en["kiosk.keep_code"], en["done.sms_queued"].format(phone="03-1234-5678"))
        assert sms not in (en["done.sms_not_mobile"], en["done.sms_disabled"],
                           en["done.keep_code"])
        assert await audit(page) == []

        # Nothing of the citizen (nor their language) stays on the machine.
        assert await storage(page) == {}

        # The way back goes to the kiosk's start screen.
        await page.click("#kiosk-home")
        await page.wait_for_url(f"**/kiosk/{site.office}")
    assert log.foreign() == []


async def test_inactivity_returns_to_the_kiosk_after_a_countdown(site: AppHarness) -> None:
    ja = catalog("ja")
    async with chromium() as browser, phone_page(browser) as page:
        await page.clock.install()
        await page.goto(f"{base_url(site)}/book/{site.office}?lang=ja&kiosk=1")
        await wait_ready(page)
        await page.click("#service-list button[data-service='juminhyo']")
        await step_shown(page, "date")

        # Still reading after 49 s: no warning. Then ten seconds of countdown.
        await page.clock.run_for(49_000)
        assert await page.locator("#idle-warning").is_hidden()
        await page.clock.run_for(2_000)
        assert await page.locator("#idle-warning").is_visible()
        assert await text_of(page, "#idle-text") in (
            ja["kiosk.idle_warning"].format(seconds=9), ja["kiosk.idle_warning"].format(seconds=10))
        assert await page.evaluate("document.activeElement.id") == "idle-stay"
        assert await audit(page) == []

        # "Continue" keeps the visit where it was, for another minute.
        await page.click("#idle-stay")
        assert await page.locator("#idle-warning").is_hidden()
        await page.clock.run_for(45_000)
        assert await page.locator("#step-date").is_visible()
        assert urlsplit(page.url).path == f"/book/{site.office}"

        # Left alone: back to the kiosk's start screen.
        await page.clock.run_for(20_000)
        await page.wait_for_url(f"**/kiosk/{site.office}")
        assert await storage(page) == {}


async def test_on_a_phone_the_page_is_as_before(site: AppHarness) -> None:
    """Without ?kiosk=1 nothing of the kiosk shows and the language is remembered."""
    async with chromium() as browser, phone_page(browser) as page:
        await page.clock.install()
        await page.goto(f"{base_url(site)}/book/{site.office}?lang=en")
        await wait_ready(page)
        assert await page.locator("#kiosk-home").is_hidden()
        await page.clock.run_for(120_000)
        assert await page.locator("#idle-warning").is_hidden()
        assert urlsplit(page.url).path == f"/book/{site.office}"
        assert await storage(page) == {"madoguchi.lang": "en"}
