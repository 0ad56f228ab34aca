"""The dashboard's tables fit a 1366-pixel screen (issue 10 §4): no column
of a per-service table is cut off behind a sideways scroll on the
managers' PCs (on a phone they still scroll, inside their own box)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from queue_server.demo_data import demo_offices
from queue_server.engine import Engine
from tests.accounts import add_accounts
from tests.browser import RequestLog, audit, wait_ready
from tests.conftest import ManualClock
from tests.servers import app_harness
from tests.test_dashboard_pages import DAY, Site, desktop, log_in


@pytest.fixture
async def city(redis: Redis, tenant: str) -> AsyncIterator[Site]:
    """The demo's Kokurakita ward office: nine services with long names."""
    clock = ManualClock()
    async with app_harness(redis, tenant, demo_offices()[1], clock=clock) as harness:
        await add_accounts(harness, ("manager", "manager", [harness.office], "所属長 一郎"))
        yield Site(harness, clock, Engine(redis, tenant, clock=clock))

# Each table's box: how wide its table is, and how wide the box shows.
WIDTHS_JS = """() => [...document.querySelectorAll('.table-wrap')]
  .filter((w) => w.getClientRects().length && w.querySelector('table'))
  .map((w) => ({name: w.querySelector('table').id || w.querySelector('caption')?.textContent
                  || w.previousElementSibling?.textContent || '?',
                shown: w.clientWidth, wide: w.scrollWidth,
                cols: w.querySelector('tr').children.length}))"""


async def tables(page: Any) -> list[dict[str, Any]]:
    await page.evaluate("() => document.querySelectorAll('details').forEach((d) => d.open = true)")
    return list(await page.evaluate(WIDTHS_JS))


async def busy_morning(site: Site) -> None:
    """Every counter open, three tickets for each walk-in service, each
    counter serves one and calls the next."""
    engine, clock, office = site.engine, site.clock, site.api.office
    config = demo_offices()[1]
    for counter in config.counters:
        await engine.set_counter_state(office, counter.id, "open")
    for service in config.services:
        if service.walk_in:
            for _ in range(3):
                await engine.issue_ticket(office, service.id)
                clock.advance(30)
    for counter in config.counters:
        if await engine.call_next(office, counter.id):
            await engine.start(office, counter.id, None)
    clock.advance(7 * 60)
    for counter in config.counters:
        await engine.finish(office, counter.id, None)
        await engine.call_next(office, counter.id)


async def test_dashboard_tables_fit_1366(city: Site) -> None:
    site = city
    await busy_morning(site)
    log = RequestLog()
    async with desktop(log) as page:
        await page.set_viewport_size({"width": 1366, "height": 768})
        await log_in(page, site, "manager")
        seen = []
        for path in ("/dashboard", f"/dashboard/stats?from={DAY}&to={DAY}"):
            await page.goto(site.base + path)
            await wait_ready(page)
            found = await tables(page)
            assert found, path
            seen += found
            await page.screenshot(path=f"/tmp/dash_{path.split('?')[0].replace('/', '_')}.png",
                                  full_page=True)
        cut = [t for t in seen if t["wide"] > t["shown"] + 1]
        assert cut == [], cut


async def test_tables_that_scroll_sideways_take_keyboard_focus(city: Site) -> None:
    """On a narrow screen the wide tables scroll in their own box: each such
    box is focusable and named (axe: scrollable-region-focusable), and axe
    finds nothing serious at either size."""
    site = city
    await busy_morning(site)
    log = RequestLog()
    async with desktop(log) as page:
        await log_in(page, site, "manager")
        for path in ("/dashboard", f"/dashboard/stats?from={DAY}&to={DAY}",
                     "/dashboard/staffing"):
            for size in ({"width": 390, "height": 844}, {"width": 1366, "height": 768}):
                await page.set_viewport_size(size)
                await page.goto(site.base + path)
                await wait_ready(page)
                await page.evaluate(
                    "() => document.querySelectorAll('details').forEach((d) => d.open = true)")
                boxes = await page.evaluate("""() => [...document.querySelectorAll(
                    '.table-wrap')].filter((w) => w.scrollWidth > w.clientWidth + 1).map(
                    (w) => ({focusable: w.tabIndex === 0, role: w.getAttribute('role'),
                             named: Boolean(w.getAttribute('aria-labelledby')
                                            || w.getAttribute('aria-label'))}))""")
                if size["width"] == 390 and path != "/dashboard/staffing":
                    assert boxes, path  # the demo's tables are wider than a phone
                assert all(b == {"focusable": True, "role": "region", "named": True}
                           for b in boxes), (path, boxes)
                assert await audit(page) == [], (path, size)
