"""One rule for how a wait is said (issue 10 §4): queue_server/wait_words.py
(server, printed ticket) and queue_server/static/common/wait.js (every page)
against the same table of cases, and the places that say a wait: never "0
minutes" with people ahead, 「まもなく」 only when nobody is."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis

from queue_server.wait_words import wait_wording
from tests.browser import RequestLog, chromium, desktop_page
from tests.servers import AppHarness, app_harness
from ticket_printer.elements import Text
from ticket_printer.ticket import TicketPrint, ticket_elements

ROOT = Path(__file__).resolve().parent.parent
CASES = json.loads((Path(__file__).parent / "wait_wording_cases.json").read_text())["cases"]


@pytest.mark.parametrize(("ahead", "minutes", "kind", "said"), CASES)
def test_python_rule(ahead: int | None, minutes: float | None, kind: str,
                     said: int | None) -> None:
    assert tuple(wait_wording(ahead, minutes)) == (kind, said)


@pytest.fixture
async def site(redis: Redis, tenant: str) -> Any:
    async with app_harness(redis, tenant) as harness:
        yield harness


async def test_javascript_rule_agrees(site: AppHarness) -> None:
    base = str(site.client.make_url("")).rstrip("/")
    async with chromium() as browser, desktop_page(browser, RequestLog(), {}) as page:
        await page.goto(f"{base}/static/queue/common/wait.js")
        got = await page.evaluate("""async (cases) => {
            const { waitWording } = await import('/static/queue/common/wait.js');
            return cases.map(([ahead, minutes]) => {
              const w = waitWording(ahead, minutes);
              return [w.kind, w.minutes];
            });
        }""", CASES)
    assert got == [[kind, said] for _, _, kind, said in CASES]


def test_every_page_says_a_wait_through_the_shared_module() -> None:
    pages = ["displays/static/display/display.js", "displays/static/ticket/ticket.js",
             "checkin/static/kiosk/kiosk.js", "checkin/static/book/book.js"]
    for name in pages:
        source = (ROOT / name).read_text(encoding="utf-8")
        assert 'from "/static/queue/common/wait.js"' in source, name
        assert "waitWording(" in source, name


def printed(ahead: int, minutes: int | None) -> list[str]:
    ticket = TicketPrint(office_name="テスト区役所", service_name="住民票", number="A-004",
                         ahead=ahead, url="https://example.invalid/t/x",
                         issued_at=datetime(2026, 1, 5, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo")),
                         wait_minutes=minutes)
    return [e.text for e in ticket_elements(ticket) if isinstance(e, Text)]


def test_printed_ticket_follows_the_rule() -> None:
    # Three ahead and an estimate of 0 (idle counters): never "約0分".
    lines = printed(3, 0)
    assert "待ち時間の目安 約5分" in lines and not any("約0分" in x for x in lines), lines
    # Nobody ahead: 「まもなく」 and no minutes, whatever the estimate.
    lines = printed(0, 45)
    assert "まもなくお呼びします" in lines and not any("待ち時間" in x for x in lines), lines
    assert "待ち時間の目安 約1時間5分" in printed(9, 62)


async def test_lobby_display_says_waits_by_the_rule(redis: Redis, tenant: str) -> None:
    from queue_server.demo_data import demo_offices
    from queue_server.office_config import OpeningHours
    from tests.test_display_page import tv, tv_browser

    # Kokurakita as `make run` loads it (open at every hour: kiosk tickets
    # are refused outside opening hours, and this runs at any hour).
    office = demo_offices()[1].model_copy(update={"hours": OpeningHours.always_open()})
    async with app_harness(redis, tenant, office) as city:
        for counter in ("1", "2", "3"):  # certificates (shomei, then zei)
            await city.act(counter, "open")
        for _ in range(4):
            await city.issue("shomei")
        base = str(city.client.make_url("")).rstrip("/")
        async with tv_browser() as browser, tv(browser) as screen:
            page = screen.page
            await page.goto(f"{base}/display/{office.id}?lang=ja")
            await page.wait_for_selector("#waiting-body tr[data-service='zei'] td.wait",
                                         timeout=15_000)
            shomei = await page.text_content("tr[data-service='shomei'] td.wait") or ""
            zei = await page.text_content("tr[data-service='zei'] td.wait") or ""
            people = await page.text_content("tr[data-service='shomei'] td.people") or ""
    assert people == "4人"
    minutes = int(shomei.removeprefix("約").removesuffix("分"))
    assert minutes >= 5 and minutes % 5 == 0, shomei
    assert zei == "まもなく"  # nobody waits: never "0人 約45分"
