"""The managers' pages (queue_server/dashboard_pages.py, static/dashboard/*)
in Debian's headless Chromium (Playwright) against the real app on
127.0.0.1: the live dashboard follows calls made through the API without a
reload, the statistics page shows the API's numbers for a scripted morning
(charts' accessible text included) and its CSV link downloads the export,
the staffing planner matches the API, and an account sees only its own
offices. The browser runs in New York time: every time and date shown must
be the office's (Tokyo). The app runs on a ManualClock, so every number is
known in advance; nothing waits by sleeping."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from queue_server.engine import Engine
from queue_server.office_config import Names
from tests.accounts import (
    LANGS,
    PASSWORD,
    STATIC,
    add_accounts,
    catalog_file,
    keys_named,
    type_login,
    wait_text,
)
from tests.browser import RequestLog, audit, focus_is, own_desktop, tab_to, wait_ready
from tests.conftest import ManualClock, small_office
from tests.servers import AppHarness, app_harness

EAST = "eastoffice"
DAY = "2026-11-27"  # START's day (a Friday)
# A manager's desktop, Japanese, but in New York: the pages must show
# Tokyo's times and dates, not the PC's.
DESKTOP = {"viewport": {"width": 1366, "height": 900}, "locale": "ja-JP",
           "timezone_id": "America/New_York"}


def catalog(name: str, lang: str) -> dict[str, str]:
    return catalog_file(name, lang)


JA = {**catalog("login", "ja"), **catalog("dashboard", "ja")}


def ja(key: str, **params: Any) -> str:
    text = JA[key]
    for name, value in params.items():
        text = text.replace("{" + name + "}", str(value))
    return text


@dataclass
class Site:
    api: AppHarness
    clock: ManualClock
    engine: Engine  # on the app's clock, for scripted days

    @property
    def base(self) -> str:
        return str(self.api.client.make_url("")).rstrip("/")


@pytest.fixture
async def site(redis: Redis, tenant: str) -> AsyncIterator[Site]:
    clock = ManualClock()
    async with app_harness(redis, tenant, small_office(), clock=clock) as harness:
        east = small_office(EAST).model_copy(update={"names": Names.model_validate(
            {"ja": "東区役所", "en": "East Ward Office"})})
        await harness.engine.configure(east)
        await add_accounts(harness, ("manager", "manager", [harness.office], "所属長 一郎"),
                           ("eastclerk", "staff", [EAST], "東 花子"),
                           ("cityadmin", "admin", [], "市 管理"))
        yield Site(harness, clock, Engine(redis, tenant, clock=clock))


def desktop(log: RequestLog) -> Any:
    """A fresh browser context whose requests (websockets too) may not
    leave this machine."""
    return own_desktop(log, DESKTOP, websockets=True)


async def log_in(page: Any, site: Site, name: str) -> None:
    """Logs in through the login API (the login page has its own tests);
    the session cookie lands in the page's context."""
    response = await page.context.request.post(
        f"{site.base}/login", form={"name": name, "password": PASSWORD},
        headers={"Accept": "application/json"})
    assert response.ok, await response.text()


async def text_of(page: Any, selector: str) -> str:
    return " ".join((await page.text_content(selector) or "").split())


async def kpi(page: Any, key: str) -> str:
    return await text_of(page, f"#kpis [data-kpi='{key}'] dd")


async def reflows(page: Any) -> bool:
    """WCAG 1.4.10: at 320 CSS pixels the page needs no sideways scrolling
    (wide data tables scroll inside their own box, which is allowed)."""
    await page.set_viewport_size({"width": 320, "height": 700})
    width = await page.evaluate("document.documentElement.scrollWidth")
    await page.set_viewport_size(DESKTOP["viewport"])
    return bool(width <= 320)


def minutes(value: float) -> str:
    return ja("unit.minutes", n=f"{value:g}")


def share(value: float) -> str:
    return f"{round(value * 100)}%"


# --- the live dashboard


async def test_live_dashboard_follows_calls_without_reload(site: Site) -> None:
    api = site.api
    await api.ok("POST", api.path("/counters/1/open"), role="staff")
    await api.issue()  # A-001 at 10:00
    site.clock.advance(30)
    await api.issue()  # A-002 at 10:00:30
    log = RequestLog()
    async with desktop(log) as page:
        # No session: the page sends the person to log in, and back here after.
        await page.goto(f"{site.base}/dashboard")
        await page.wait_for_url(re.compile(r"/login\?next=%2Fdashboard$"))
        await wait_ready(page)
        await type_login(page, "manager")
        await page.wait_for_url(f"{site.base}/dashboard")
        await wait_ready(page)
        assert await page.title() == ja("live.page_title")
        # A manager of one office sees that office in detail.
        assert await text_of(page, "#office-name") == "テスト区役所"
        await wait_text(page, "#connection", ja("live.connected"))
        row = "#counters-table tr[data-counter='1']"
        assert await text_of(page, f"{row} th") == "1番窓口"
        assert ja("state.open") in await text_of(page, f"{row} .c-state")
        # Nothing at the counter: a dash to the eye, words to a screen reader.
        assert await text_of(page, f"{row} .c-ticket") == "—" + ja("live.no_ticket")
        assert await page.locator(f"{row} .c-ticket .sr-only").count() == 1
        assert ja("state.closed") in await text_of(
            page, "#counters-table tr[data-counter='2'] .c-state")
        shomei = "#services-table tr[data-service='shomei']"
        assert await text_of(page, f"{shomei} .s-waiting") == ja("unit.people", n=2)
        # The browser is in New York (20:00 the day before); the office's time shows.
        assert await text_of(page, "#updated") == ja("live.updated_at", time="10:00:30")
        await page.evaluate("window.sameDocument = true")

        site.clock.advance(90)  # 10:02
        called = await api.act("1", "call-next")
        assert called["number"] == "A-001"
        await wait_text(page, f"{row} .c-ticket", "A-001")
        assert ja("live.ticket_called") in await text_of(page, f"{row} .c-ticket")
        assert await text_of(page, f"{row} .c-since") == "10:02"
        assert await text_of(page, f"{row} .c-elapsed") == minutes(0)
        await wait_text(page, f"{shomei} .s-waiting", ja("unit.people", n=1))
        assert await text_of(page, "#recent li") == ja(
            "live.recent_call", time="10:02", number="A-001", counter="1番窓口")

        site.clock.advance(60)  # 10:03: started
        await api.act("1", "start")
        await wait_text(page, f"{row} .c-ticket", ja("live.ticket_serving"))
        assert await text_of(page, f"{row} .c-since") == "10:03"
        # Five minutes on, an event elsewhere refreshes the board: how long
        # A-001 has been served and how long A-002 has waited, by the
        # server's clock.
        site.clock.advance(300)  # 10:08
        await api.issue(service="ido")
        await wait_text(page, "#services-table tr[data-service='ido'] .s-waiting",
                        ja("unit.people", n=1))
        assert await text_of(page, f"{row} .c-elapsed") == minutes(5)
        assert await text_of(page, f"{shomei} .s-longest") == minutes(7)  # since 10:00:30
        assert await text_of(page, "[data-kpi='longest'] dd") == minutes(7)
        assert await text_of(page, "[data-kpi='waiting'] dd") == ja("unit.people", n=2)
        assert await page.evaluate("window.sameDocument") is True  # never reloaded

        assert await audit(page) == []
        await page.screenshot(path="/tmp/dashboard-live.png", full_page=True)
        assert await reflows(page)
    sockets = [u for u in log.urls if u.startswith("ws:")]
    assert sockets and all("/ws/offices/testoffice/display" in u for u in sockets), sockets
    assert log.foreign() == [] and log.console_errors == [], log


async def test_city_wide_overview_for_an_admin(site: Site) -> None:
    api = site.api
    east_staff = await api.auth("staff", EAST)
    await api.ok("POST", f"/api/v1/offices/{EAST}/counters/1/open", headers=east_staff)
    await api.ok("POST", f"/api/v1/offices/{EAST}/tickets", 201, headers=east_staff,
                 json_body={"service": "shomei"})
    log = RequestLog()
    async with desktop(log) as page:
        await log_in(page, site, "cityadmin")
        await page.goto(f"{site.base}/dashboard")
        await wait_ready(page)
        # Every office, one card each, live.
        assert await page.input_value("#office") == "*"
        await wait_text(page, "#connection", ja("live.connected"))
        names = await page.locator("#cards > li h3").all_text_contents()
        assert names == ["東区役所", "テスト区役所"]  # in id order: eastoffice, testoffice
        east = f"#cards li[data-office='{EAST}']"
        await wait_text(page, f"{east} [data-service='shomei'] .s-waiting",
                        ja("unit.people", n=1))

        await api.ok("POST", f"/api/v1/offices/{EAST}/counters/1/call-next", headers=east_staff)
        await wait_text(page, f"{east} tr[data-counter='1'] .c-ticket", "A-001")
        await wait_text(page, f"{east} [data-service='shomei'] .s-waiting",
                        ja("unit.people", n=0))
        assert await audit(page) == []
        await page.screenshot(path="/tmp/dashboard-city.png", full_page=True)

        # Keyboard: from a card's heading to that office in detail.
        await tab_to(page, "#cards li[data-office='testoffice'] h3 a")
        await page.keyboard.press("Enter")
        await page.wait_for_function("() => !document.getElementById('detail').hidden")
        assert await focus_is(page, "#office-name")
        assert await text_of(page, "#office-name") == "テスト区役所"
        assert await page.input_value("#office") == "testoffice"
        assert page.url.endswith("/dashboard?office=testoffice")
    sockets = {u.split("/ws/offices/")[1].split("/")[0] for u in log.urls if "/ws/" in u}
    assert sockets == {EAST, "testoffice"}
    assert log.foreign() == [] and log.console_errors == [], log


async def test_many_offices_are_polled(site: Site) -> None:
    """More offices than sockets (Kitakyushu has seven wards; a city with
    more): the overview polls /status instead of holding a socket each."""
    extra = [f"ward{i}" for i in range(8)]
    for office in extra:
        await site.api.engine.configure(small_office(office))
    staff = await site.api.auth("staff", "ward3")
    await site.api.ok("POST", "/api/v1/offices/ward3/counters/1/open", headers=staff)
    await site.api.ok("POST", "/api/v1/offices/ward3/tickets", 201, headers=staff,
                      json_body={"service": "shomei"})
    log = RequestLog()
    async with desktop(log) as page:
        await log_in(page, site, "cityadmin")
        await page.goto(f"{site.base}/dashboard")
        await wait_ready(page)
        assert await page.locator("#cards > li").count() == 10
        await wait_text(page, "#connection", ja("live.polling", seconds=5))
        card = "#cards li[data-office='ward3']"
        await wait_text(page, f"{card} [data-service='shomei'] .s-waiting",
                        ja("unit.people", n=1))
        await site.api.ok("POST", "/api/v1/offices/ward3/counters/1/call-next", headers=staff)
        await wait_text(page, f"{card} tr[data-counter='1'] .c-ticket", "A-001")
    assert not [u for u in log.urls if "/ws/" in u], log.urls
    assert log.foreign() == [] and log.console_errors == [], log


async def test_staff_of_another_office_does_not_see_this_one(site: Site) -> None:
    log = RequestLog()
    async with desktop(log) as page:
        await log_in(page, site, "eastclerk")
        await page.goto(f"{site.base}/dashboard?office=testoffice")
        await wait_ready(page)
        assert await text_of(page, "#alert") == ja("office.refused")
        assert await page.locator("#office option").all_text_contents() == ["東区役所"]
        assert await text_of(page, "#office-name") == "東区役所"
        await wait_text(page, "#connection", ja("live.connected"))

        await page.goto(f"{site.base}/dashboard/stats?office=testoffice&from={DAY}&to={DAY}")
        await wait_ready(page)
        assert await text_of(page, "#alert") == ja("office.refused")
        assert await text_of(page, "#h-results") == ja(
            "stats.results_heading", office="東区役所", range="2026年11月27日(金)")

        listed = await (await page.context.request.get(
            f"{site.base}/dashboard/offices.json")).json()
        assert [o["id"] for o in listed["offices"]] == [EAST] and not listed["city_wide"]
        # The API itself refuses, whatever a page would do.
        refused = await page.context.request.get(
            f"{site.base}/api/v1/offices/testoffice/stats?from={DAY}")
        assert refused.status == 403
        assert await audit(page) == []
    assert not [u for u in log.urls if "testoffice/" in u and "/api/v1/offices/testoffice/stats"
                not in u], log.urls
    assert log.foreign() == [] and log.console_errors == [], log


async def test_pages_need_a_session(site: Site) -> None:
    for path in ("/dashboard", "/dashboard/stats", "/dashboard/staffing?office=testoffice"):
        async with site.api.client.get(path, allow_redirects=False) as resp:
            assert resp.status == 303, path
            assert resp.headers["Location"].startswith("/login?next=%2Fdashboard"), path
    status, body = await site.api.request("GET", "/dashboard/offices.json")
    assert status == 401 and body["error"]["code"] == "unauthorized"
    status, body = await site.api.request("GET", "/dashboard/offices.json", role="kiosk")
    assert status == 403 and body["error"]["code"] == "forbidden"


# --- statistics


async def scripted_morning(site: Site) -> None:
    """The morning of tests/test_stats.py, at the app's office: five tickets
    (kiosk, phone, staff, online at 10:00–10:02, one more at 11:06), waits of
    10, 13 and 58 minutes, one no-show, one cancelled, two served (4 and 6
    minutes)."""
    engine, clock, office = site.engine, site.clock, site.api.office
    await engine.set_counter_state(office, "1", "open")
    await engine.issue_ticket(office, "shomei")
    clock.advance(60)
    await engine.issue_ticket(office, "shomei", channel="phone")
    clock.advance(60)
    await engine.issue_ticket(office, "shomei", channel="staff")
    d = await engine.issue_ticket(office, "shomei", channel="online")
    clock.advance(8 * 60)
    await engine.call_next(office, "1")
    await engine.start(office, "1", None)
    clock.advance(4 * 60)
    await engine.call_next(office, "1")
    clock.advance(60)
    await engine.recall(office, "1", None)
    clock.advance(60)
    await engine.no_show(office, "1", None)
    await engine.cancel(d["id"])
    clock.advance(44 * 60)
    await engine.call_next(office, "1")
    clock.advance(6 * 60)
    await engine.finish(office, "1", None)
    await engine.issue_ticket(office, "ido")


async def test_stats_page_shows_the_api_numbers(site: Site) -> None:
    await scripted_morning(site)
    api = site.api
    body = await api.ok("GET", api.path(f"/stats?from={DAY}&to={DAY}&targets=15,30"),
                        role="staff")
    totals = body["totals"]
    assert (totals["arrivals"], totals["avg_wait_minutes"], totals["p90_wait_minutes"]) == (
        5, 27.0, 58.0)
    log = RequestLog()
    async with desktop(log) as page:
        await log_in(page, site, "manager")
        await page.goto(f"{site.base}/dashboard/stats")
        await wait_ready(page)
        # Today by the office's (server's) clock, not New York's or the PC's date.
        assert await page.input_value("#from") == DAY
        assert await page.input_value("#to") == DAY
        assert await text_of(page, "#status") == ja("stats.shown", range="2026年11月27日(金)")
        assert await kpi(page, "arrivals") == str(totals["arrivals"])
        assert await kpi(page, "served") == str(totals["served"])
        assert await kpi(page, "no_shows") == str(totals["no_shows"])
        assert await kpi(page, "cancelled") == str(totals["cancelled"])
        assert await kpi(page, "avg_wait") == minutes(totals["avg_wait_minutes"])
        assert await kpi(page, "p90_wait") == minutes(totals["p90_wait_minutes"])
        assert await kpi(page, "avg_service") == minutes(totals["avg_service_minutes"])
        assert await kpi(page, "level_1") == share(totals["service_level"]["15"]) == "67%"
        assert await kpi(page, "level_2") == share(totals["service_level"]["30"])
        assert await text_of(page, "#kpis [data-kpi='level_1'] dt") == ja(
            "stats.kpi_level", minutes=15)

        # Arrivals per hour: the bars and their text alternative carry the API's numbers.
        arrivals = "figure[data-chart='arrivals']"
        expected = [(h["hour"], h["arrivals"]) for h in body["by_hour"]]
        assert expected == [(10, 4), (11, 1)]
        assert await page.locator(f"{arrivals} rect[data-value]").evaluate_all(
            "(bars) => bars.map((b) => Number(b.dataset.value))") == [n for _, n in expected]
        desc = ja("chart.separator").join(
            ja("stats.desc_arrivals", hour=ja("hour.range", hour=h, next=h + 1), n=n)
            for h, n in expected)
        assert desc == "10時〜11時：4人、11時〜12時：1人"
        assert await text_of(page, f"{arrivals} svg desc") == desc
        assert await page.get_attribute(f"{arrivals} svg", "role") == "img"
        assert await page.get_attribute(f"{arrivals} svg", "aria-label") == ja(
            "stats.chart_arrivals")
        described_by = await page.get_attribute(f"{arrivals} svg", "aria-describedby")
        assert await text_of(page, f"{arrivals} svg > desc#{described_by}") == desc
        # The same numbers as a table, behind a disclosure, by keyboard.
        await tab_to(page, f"{arrivals} summary")
        await page.keyboard.press("Enter")
        rows = await page.locator(f"{arrivals} table tbody tr").evaluate_all(
            "(rows) => rows.map((r) => [...r.cells].map((c) => c.textContent))")
        assert rows == [["10時〜11時", "4"], ["11時〜12時", "1"]]

        level = await text_of(page, "figure[data-chart='level'] svg desc")
        assert level.startswith(ja("stats.desc_series", label=ja("stats.all_services"),
                                   series=ja("stats.series_level", minutes=15), value="67%"))
        wait_desc = await text_of(page, "figure[data-chart='wait'] svg desc")
        by_hour = {h["hour"]: h for h in body["by_hour"]}
        assert ja("stats.desc_series", label="10時〜11時", series=ja("stats.series_p90_wait"),
                  value=minutes(by_hour[10]["p90_wait_minutes"])) in wait_desc
        counter = await text_of(page, "figure[data-chart='counter_time'] svg desc")
        assert counter == ja("stats.desc_value", label="1番窓口", value=minutes(5))
        channels = await text_of(page, "figure[data-chart='channels'] svg desc")
        assert channels.startswith(ja("stats.channel_part", channel=ja("channel.kiosk"),
                                      n=2, share="40%"))
        assert await audit(page) == []
        await page.screenshot(path="/tmp/dashboard-stats.png", full_page=True)

        # Other targets, typed with the keyboard: the service levels follow the API.
        other = await api.ok("GET", api.path(f"/stats?from={DAY}&to={DAY}&targets=10,60"),
                             role="staff")
        await tab_to(page, "#target1")
        await page.keyboard.press("Control+A")
        await page.keyboard.type("10")
        await page.keyboard.press("Tab")
        await page.keyboard.press("Control+A")
        await page.keyboard.type("60")
        await page.keyboard.press("Enter")
        await wait_text(page, "#kpis [data-kpi='level_1'] dt", ja("stats.kpi_level", minutes=10))
        assert await kpi(page, "level_1") == share(other["totals"]["service_level"]["10"])
        assert await kpi(page, "level_2") == share(other["totals"]["service_level"]["60"])
        assert "targets=10%2C60" in page.url

        # Presets: last month has no records; this week starts on Monday.
        await tab_to(page, "button[data-preset='last_month']", backwards=True)
        await page.keyboard.press("Enter")
        await page.wait_for_function("() => !document.getElementById('empty').hidden")
        assert (await page.input_value("#from"), await page.input_value("#to")) == (
            "2026-10-01", "2026-10-31")
        assert await kpi(page, "arrivals") == "0"
        await page.click("button[data-preset='week']")
        await wait_text(page, "#kpis [data-kpi='arrivals'] dd", "5")
        assert await page.input_value("#from") == "2026-11-23"

        # A wrong range is explained at the field, without asking the server.
        await page.fill("#to", "2026-11-01")
        await page.click("#show")
        await wait_text(page, "#to-error", ja("stats.error_order"))
        assert await focus_is(page, "#to")

        # The CSV link downloads the API's export for the range shown.
        await page.click("button[data-preset='today']")
        await wait_text(page, "#status", ja("stats.shown", range="2026年11月27日(金)"))
        async with api.client.get(api.path(f"/stats.csv?from={DAY}&to={DAY}"),
                                  headers=await api.auth("staff")) as resp:
            expected_csv = await resp.read()
        async with page.expect_download() as info:
            await page.click("#csv")
        download = await info.value
        assert download.suggested_filename == f"madoguchi-testoffice-{DAY}-{DAY}.csv"
        saved = await download.path()
        assert await asyncio.to_thread(Path(saved).read_bytes) == expected_csv

        # Another language: the charts' text alternative too.
        await page.click("button[data-lang='en']")
        await wait_text(page, "h1", "Statistics")
        assert await text_of(page, f"{arrivals} svg desc") == "10:00–11:00: 4; 11:00–12:00: 1"
        assert await audit(page) == []
        assert await reflows(page)
    assert log.foreign() == [] and log.console_errors == [], log


async def test_city_wide_statistics_for_an_admin(site: Site) -> None:
    await scripted_morning(site)
    city = await site.api.ok("GET", f"/api/v1/stats?from={DAY}", headers=await site.api.auth(
        "admin", "*"))
    log = RequestLog()
    async with desktop(log) as page:
        await log_in(page, site, "cityadmin")
        await page.goto(f"{site.base}/dashboard/stats?office=*")
        await wait_ready(page)
        assert await page.input_value("#office") == "*"
        assert await page.is_hidden("#csv")  # the export is per office
        assert await kpi(page, "arrivals") == str(city["totals"]["arrivals"]) == "5"
        assert await text_of(page, "figure[data-chart='offices'] svg desc") == ja(
            "chart.separator").join([ja("stats.desc_value", label="東区役所", value="0"),
                                     ja("stats.desc_value", label="テスト区役所", value="5")])
        assert await audit(page) == []
    assert log.foreign() == [] and log.console_errors == [], log


# --- the staffing planner


async def test_staffing_page_matches_the_api(site: Site) -> None:
    await scripted_morning(site)
    api = site.api
    log = RequestLog()
    async with desktop(log) as page:
        await log_in(page, site, "manager")
        await page.goto(f"{site.base}/dashboard/staffing")
        await wait_ready(page)
        assert await page.input_value("#date") == DAY

        # From history: the next Friday, from the average of the last four.
        forecast = await api.ok("GET", api.path("/staffing?date=2026-12-04&target_share=0.8"
                                                "&target_minutes=15"), role="staff")
        await page.fill("#date", "2026-12-04")
        await page.click("#compute")
        await page.wait_for_selector("#plan tbody tr")
        busy = [h for h in forecast["hours"] if 10 <= h["hour"] <= 11]
        assert [(h["arrivals"]) for h in busy] == [4.0, 1.0]
        assert await page.locator("#plan tbody tr").evaluate_all(
            "(rows) => rows.map((r) => Number(r.dataset.hour))") == [10, 11]
        for h in busy:
            cells = f"#plan tr[data-hour='{h['hour']}']"
            assert await text_of(page, f"{cells} [data-col='counters']") == str(h["counters"])
            assert await text_of(page, f"{cells} [data-col='level']") == share(
                h["service_level"])
        assert await text_of(page, "#summary") != ""
        await page.screenshot(path="/tmp/dashboard-staffing-forecast.png", full_page=True)

        # Typed arrivals, by keyboard: 6 and 30 an hour at 5 minutes each, 80 %
        # within 5 minutes (the numbers of tests/test_stats.py).
        typed = await api.ok("GET", api.path(
            "/staffing?arrivals=6,30&first_hour=9&service_minutes=5&target_minutes=5"
            "&target_share=0.8"), role="staff")
        await tab_to(page, "#source-history", backwards=True)
        await page.keyboard.press("ArrowDown")  # the radio group: to "type the arrivals"
        assert await page.is_checked("#source-typed")
        await page.select_option("#first-hour", "9")
        await page.select_option("#last-hour", "10")
        await tab_to(page, "#arrivals-9")
        await page.keyboard.type("6")
        await page.keyboard.press("Tab")
        assert await focus_is(page, "#arrivals-10")
        await page.keyboard.type("30")
        await tab_to(page, "#service-minutes")
        await page.keyboard.type("5")
        await tab_to(page, "#target-minutes")
        await page.keyboard.press("Control+A")
        await page.keyboard.type("5")
        await page.keyboard.press("Enter")
        await wait_text(page, "#summary", ja("staffing.from_typed"))
        rows = await page.locator("#plan tbody tr").evaluate_all(
            "(rows) => rows.map((r) => [Number(r.dataset.hour), "
            "r.querySelector('[data-col=counters]').textContent])")
        assert rows == [[h["hour"], str(h["counters"])] for h in typed["hours"]] == [
            [9, "2"], [10, "4"]]
        for h in typed["hours"]:
            cells = f"#plan tr[data-hour='{h['hour']}']"
            assert await text_of(page, f"{cells} [data-col='level']") == share(
                h["service_level"])
            assert await text_of(page, f"{cells} [data-col='mean_wait']") == ja(
                "unit.minutes", n=f"{h['mean_wait_minutes']:g}")
        assert await text_of(page, "figure[data-chart='counters'] svg desc") == ja(
            "chart.separator").join(ja(
                "staffing.desc_hour", hour=ja("hour.range", hour=h["hour"], next=h["hour"] + 1),
                n=h["counters"], level=share(h["service_level"]),
                wait=ja("unit.minutes", n=f"{round(h['mean_wait_minutes'], 1):g}"))
                for h in typed["hours"])
        assert await text_of(page, "#peak") == ja("staffing.peak", n=4, hour="10時〜11時")

        # A wrong number is explained at its field.
        await page.fill("#target-share", "150")
        await page.click("#compute")
        await wait_text(page, "#target-share-error", ja("staffing.error_share"))
        assert await focus_is(page, "#target-share")
        assert await audit(page) == []
        await page.screenshot(path="/tmp/dashboard-staffing.png", full_page=True)
        assert await reflows(page)
    assert log.foreign() == [] and log.console_errors == [], log


# --- catalogs, markup, colours

DYNAMIC = {"role": ("admin", "manager", "staff"),
           "channel": ("kiosk", "phone", "online", "staff")}


def keys_used() -> set[str]:
    used = keys_named(
        "dashboard", r"aria-label:([a-z_.]+)",
        r'"((?:nav|live|stats|staffing|office|error|unit|value|hour|range|chart|state|'
        r'common|lang)\.[a-z0-9_]+)"')
    # Built from a role or channel name (`role.${user.role}`).
    used |= {f"{family}.{name}" for family, names in DYNAMIC.items() for name in names}
    return used


def test_every_catalog_has_every_key() -> None:
    dashboard = catalog("dashboard", "ja")
    login = catalog("login", "ja")
    used = keys_used()
    # Shared texts come from the login catalog, which the pages load too.
    assert used <= set(dashboard) | set(login), sorted(used - set(dashboard) - set(login))
    assert set(dashboard) <= used, sorted(set(dashboard) - used)  # nothing stale
    for lang in LANGS:
        data = catalog("dashboard", lang)
        assert set(data) == set(dashboard), (lang, set(dashboard) ^ set(data))
        for key, text in data.items():
            assert text.strip(), (lang, key)
            assert set(re.findall(r"\{\w+\}", text)) == set(
                re.findall(r"\{\w+\}", dashboard[key])), (lang, key)


def test_html_reads_in_japanese_and_has_no_inline_code() -> None:
    for name in ("dashboard.html", "stats.html", "staffing.html"):
        html = (STATIC / "dashboard" / name).read_text(encoding="utf-8")
        assert '<html lang="ja">' in html
        assert "<script>" not in html and "style=" not in html and "<style" not in html
        assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers
        for key, text in re.findall(r'data-i18n="([^"]+)">([^<]+)<', html):
            assert " ".join(text.split()) == JA[key], (name, key)
    for path in (STATIC / "dashboard").glob("*.js"):
        text = path.read_text(encoding="utf-8")
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
        assert "https://" not in text, path


def contrast(hex_colour: str, background: str = "#ffffff") -> float:
    def luminance(colour: str) -> float:
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
                  for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(hex_colour), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_chart_colours_stand_out_from_the_page() -> None:
    """WCAG 1.4.11: chart marks need 3:1 against the white background."""
    source = (STATIC / "dashboard" / "charts.js").read_text(encoding="utf-8")
    colours = re.findall(r'"(#[0-9A-Fa-f]{6})"',
                         re.search(r"export const COLORS = \[([^\]]+)\]", source)[1])
    assert len(colours) == 4
    for colour in colours:
        assert contrast(colour) >= 3, colour
