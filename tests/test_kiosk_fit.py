"""Every walk-in service of the kiosk is on screen at the supported kiosk
sizes, in every language (issue 10 §4): no button below the fold where a
citizen would have to guess that the page scrolls. The demo office has
eight walk-in services (A–H) and one by appointment only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from queue_server.demo_data import demo_offices
from tests.browser import audit, chromium
from tests.conftest import ManualClock
from tests.servers import AppHarness, app_harness
from tests.test_kiosk_page import LANGS, kiosk_context, open_kiosk

SIZES = ({"width": 1366, "height": 768}, {"width": 1920, "height": 1080},
         {"width": 1080, "height": 1920})

# Each control of the start screen: wholly inside the viewport and what the
# screen shows at its centre.
SEEN_JS = """() => {
  const seen = (el) => {
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || r.left < 0 || r.top < 0 || r.right > innerWidth
        || r.bottom > innerHeight) return false;
    const hit = document.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2);
    return Boolean(hit) && el.contains(hit);
  };
  const els = [...document.querySelectorAll('#service-list button, #booking-button')];
  return {
    shown: els.map((el) => el.dataset.service || el.id),
    hidden: els.filter((el) => !seen(el)).map((el) => el.dataset.service || el.id),
    scrolls: document.scrollingElement.scrollHeight > innerHeight + 1,
  };
}"""


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()  # Friday 2026-11-27 10:00: the office is open


@pytest.fixture
async def demo(redis: Redis, tenant: str, clock: ManualClock) -> AsyncIterator[AppHarness]:
    async with app_harness(redis, tenant, demo_offices()[1], clock=clock) as harness:
        yield harness


async def test_every_service_button_is_on_screen(demo: AppHarness, clock: ManualClock) -> None:
    walk_in = [s.id for s in demo_offices()[1].services if s.walk_in]
    assert len(walk_in) == 8
    token = await demo.token("kiosk")
    async with chromium() as browser:
        for size in SIZES:
            async with kiosk_context(browser, clock, viewport=size) as page:
                await open_kiosk(page, demo, token=token)
                for lang in LANGS:
                    await page.click(f"#lang-list button[data-lang='{lang}']")
                    await page.wait_for_selector(
                        f"#lang-list button[data-lang='{lang}'][aria-pressed='true']")
                    found: dict[str, Any] = await page.evaluate(SEEN_JS)
                    await page.screenshot(path=f"/tmp/kiosk_fit_{size['width']}_{lang}.png")
                    assert found["shown"] == [*walk_in, "booking-button"], found
                    assert found["hidden"] == [], (size, lang, found)


async def test_narrow_screen_language_bar_and_zoom(demo: AppHarness, clock: ManualClock) -> None:
    """At a narrow width every language button is on screen (more rows, not
    off the edge), the page may be zoomed (no user-scalable=no), and axe
    finds nothing serious."""
    token = await demo.token("kiosk")
    async with chromium() as browser:
        for width in (390, 600):
            size = {"width": width, "height": 844}
            async with kiosk_context(browser, clock, viewport=size) as page:
                await open_kiosk(page, demo, token=token)
                boxes = await page.evaluate("""() => [...document.querySelectorAll(
                    '#lang-list button')].map((b) => {
                      const r = b.getBoundingClientRect();
                      return [b.dataset.lang, r.left, r.right, b.scrollWidth, b.clientWidth];
                    })""")
                assert len(boxes) == len(LANGS)
                for lang, left, right, wide, shown in boxes:
                    assert 0 <= left and right <= width, (width, lang, left, right)
                    assert wide <= shown + 1, (width, lang, wide, shown)
                viewport = await page.get_attribute("meta[name=viewport]", "content") or ""
                assert "user-scalable" not in viewport and "maximum-scale" not in viewport
                assert await audit(page) == []
