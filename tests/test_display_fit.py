"""The lobby display shows every service it is set to show, whole and on
screen, at the supported TV sizes and in every language (issue 10 §4): the
demo office's nine services, long English and Vietnamese names included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from queue_server.demo_data import demo_offices
from tests.browser import CHROMIUM, CHROMIUM_ARGS, audit, require_browser
from tests.servers import AppHarness, app_harness

try:
    from playwright.async_api import async_playwright, expect
except ImportError:  # require_browser() skips (fails in CI)
    pass

LANGS = ("ja", "en", "ko", "zh-Hans", "vi")
SIZES = ({"width": 1366, "height": 768}, {"width": 1920, "height": 1080})
WAIT_MS = 15_000


@pytest.fixture
async def demo(redis: Redis, tenant: str) -> AsyncIterator[AppHarness]:
    office = demo_offices()[1]  # Kokurakita: every service, twelve counters
    office = office.model_copy(update={"display": office.display.model_copy(
        update={"languages": list(LANGS)})})
    async with app_harness(redis, tenant, office) as harness:
        yield harness


# For every service row: is its name (and its figures) inside the viewport
# and inside the waiting panel, and is it what the screen shows at its
# centre (nothing covers it)?
SEEN_JS = """() => {
  const panel = document.querySelector('#waiting').getBoundingClientRect();
  const inside = (r) => r.left >= panel.left - 1 && r.right <= panel.right + 1
    && r.top >= panel.top - 1 && r.bottom <= panel.bottom + 1
    && r.left >= 0 && r.top >= 0 && r.right <= innerWidth && r.bottom <= innerHeight;
  const seen = (el) => {
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || !inside(r)) return false;
    const hit = document.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2);
    return Boolean(hit) && (el === hit || el.contains(hit) || hit.contains(el));
  };
  return [...document.querySelectorAll('#waiting-body tr:not([hidden])')].map((tr) => ({
    id: tr.dataset.service,
    name: tr.querySelector('.service-name').textContent,
    ok: [...tr.querySelectorAll('.service-name, .letter, td')].every(seen),
    scale: getComputedStyle(document.querySelector('#waiting')).getPropertyValue('--waiting-scale'),
    size: parseFloat(getComputedStyle(tr.querySelector('.service-name')).fontSize),
  }));
}"""


async def test_every_service_is_on_the_lobby_display(demo: AppHarness) -> None:
    services = [s.id for s in demo_offices()[1].services]
    assert len(services) == 9
    base = str(demo.client.make_url("")).rstrip("/")
    require_browser()
    async with async_playwright() as p:
        # The lobby TV: kiosk-mode Chromium may play sound without a click.
        browser = await p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"])
        try:
            for size in SIZES:
                context = await browser.new_context(viewport=size, locale="ja-JP",
                                                    timezone_id="Asia/Tokyo")
                page = await context.new_page()
                for lang in LANGS:
                    await page.goto(f"{base}/display/{demo.office}?lang={lang}")
                    await page.wait_for_selector("body[data-ready='true']", state="attached",
                                                 timeout=WAIT_MS)
                    await expect(page.locator("#waiting-body tr")).to_have_count(
                        len(services), timeout=WAIT_MS)
                    await page.wait_for_selector("#waiting[data-fitted]",
                                                 state="attached", timeout=WAIT_MS)
                    rows: list[dict[str, Any]] = await page.evaluate(SEEN_JS)
                    await page.screenshot(path=f"/tmp/display_fit_{size['width']}_{lang}.png")
                    assert [r["id"] for r in rows] == services
                    hidden = [r["name"] for r in rows if not r["ok"]]
                    assert hidden == [], (size, lang, hidden)
                    # Still readable from across the lobby.
                    assert min(r["size"] for r in rows) >= 12, (size, lang, rows)
                    if lang in ("ja", "en"):
                        assert await audit(page) == [], (size, lang)
                await context.close()
        finally:
            await browser.close()


@pytest.fixture
async def crowded(redis: Redis, tenant: str) -> AsyncIterator[AppHarness]:
    """The demo office with its nine services twice over (eighteen)."""
    office = demo_offices()[1]
    extra = [s.model_copy(update={"id": f"{s.id}2", "letter": letter})
             for s, letter in zip(office.services, "KLMNPQRST", strict=True)]
    office = office.model_copy(update={"services": [*office.services, *extra]})
    async with app_harness(redis, tenant, office) as harness:
        yield harness


async def test_services_that_cannot_fit_are_paged_visibly(crowded: AppHarness) -> None:
    """More rows than fit even at the smallest text: they come a page at a
    time, "page 1 of 2" says so, and every service is seen whole on one of
    the pages."""
    demo = crowded
    services = [s["id"] for s in (await demo.status())["services"]]
    assert len(services) == 18
    base = str(demo.client.make_url("")).rstrip("/")
    require_browser()
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"])
        try:
            context = await browser.new_context(viewport={"width": 1366, "height": 768},
                                                locale="ja-JP", timezone_id="Asia/Tokyo")
            page = await context.new_page()
            await page.clock.install()
            await page.goto(f"{base}/display/{demo.office}?lang=en")
            await page.wait_for_selector("body[data-ready='true']", state="attached",
                                         timeout=WAIT_MS)
            await expect(page.locator("#waiting-body tr")).to_have_count(18, timeout=WAIT_MS)
            pages = int(await page.get_attribute("#waiting", "data-pages") or 1)
            assert pages >= 2
            seen: list[str] = []
            for n in range(1, pages + 1):
                await expect(page.locator("#waiting")).to_have_attribute("data-page", str(n))
                await expect(page.locator("#waiting-page")).to_have_text(f"page {n} of {pages}")
                await expect(page.locator("#waiting-page")).to_be_visible()
                rows: list[dict[str, Any]] = await page.evaluate(SEEN_JS)
                assert rows and all(r["ok"] for r in rows), (n, rows)
                seen += [r["id"] for r in rows]
                await page.screenshot(path=f"/tmp/display_paged_{n}.png")
                await page.clock.run_for(8_000)
            assert seen == services
            await context.close()
        finally:
            await browser.close()
