"""The lobby check-in page /here/{office} (checkin/booking_pages.py): the QR
code on the lobby display opens it with the rotating presence code
(`?p=1234`); it checks in the bookings and remote tickets this phone saved
(localStorage "madoguchi.saved") and goes on to the ticket page. Driven in
Debian's headless Chromium against the app in-process on a ManualClock."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from redis.asyncio import Redis

from queue_server.context import CONTEXT
from queue_server.settings import Settings
from tests.browser import RequestLog, audit, chromium, focus_is, phone_page, tab_to, wait_ready
from tests.conftest import ManualClock
from tests.servers import AppHarness, app_harness
from tests.test_booking_e2e import FIRST_SLOT, MINUTE, OFFICE, kokurakita, script_errors
from tests.test_booking_pages import base_url, catalog, step_shown, text_of

WALK_IN_ONLY = "shomei"  # certificates: walk-in, not bookable


@pytest.fixture
async def site(redis: Redis, tenant: str, clock: ManualClock) -> AsyncIterator[AppHarness]:
    """Kokurakita on the test's clock (SMS off)."""
    async with app_harness(redis, tenant, kokurakita(), settings=Settings(tenant=tenant),
                           clock=clock) as harness:
        yield harness


async def lobby_path(site: AppHarness) -> tuple[str, str]:
    """The lobby QR's address (as a path here) and its code, from the API the
    lobby display uses."""
    body = await site.ok("GET", site.path("/checkin-code"), role="display")
    url = urlsplit(body["url"])
    assert url.path == f"/here/{OFFICE}" and url.query == f"p={body['code']}"
    return f"{url.path}?{url.query}", str(body["code"])


async def book(site: AppHarness, phone: str = "090-1212-3434") -> dict[str, Any]:
    return dict(await site.ok("POST", site.path("/bookings"), 201, json_body={
        "service": "mynumber", "slot": FIRST_SLOT.isoformat(), "phone": phone}))


async def saved(page: Any) -> list[dict[str, Any]]:
    return list(await page.evaluate(
        "JSON.parse(localStorage.getItem('madoguchi.saved') || '[]')"))


class Sent:
    """Every request the page makes, with its headers (a Referer) and body:
    where the code went."""

    def __init__(self, page: Any) -> None:
        self.requests: list[tuple[str, str, str]] = []
        page.on("request", lambda r: self.requests.append(
            (r.method, r.url, r.headers.get("referer", "") + " " + (r.post_data or ""))))

    def carrying(self, code: str) -> list[tuple[str, str]]:
        return [(m, urlsplit(u).path) for m, u, rest in self.requests
                if code in urlsplit(u).query or code in rest]


async def test_saved_booking_checks_in_with_one_press(
        site: AppHarness, clock: ManualClock) -> None:
    booked = await book(site)
    clock.advance(40 * MINUTE)  # 10:40: the 11:00 slot's check-in is open
    ja = catalog("ja")
    log = RequestLog()
    async with chromium() as browser, phone_page(browser, log=log) as page:
        # The SMS link's page saves the booking on this phone.
        await page.goto(base_url(site) + booked["manage_url"])
        await wait_ready(page)
        assert [e["token"] for e in await saved(page)] == [booked["token"]]

        # Then the citizen scans the lobby QR.
        path, code = await lobby_path(site)
        sent = Sent(page)
        response = await page.goto(base_url(site) + path)
        assert response is not None and response.status == 200
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "script-src 'self'" in response.headers["content-security-policy"]
        await wait_ready(page)
        # The code is taken out of the address bar at once.
        assert urlsplit(page.url).query == ""
        assert await text_of(page, "h1") == ja["here.heading"]
        assert await text_of(page, "#office-name") == "小倉北区役所"
        assert await page.is_hidden("#code-box")  # the QR gave the code
        assert await page.is_hidden("#nothing")
        button = page.locator("#entry-list button.act")
        assert await button.count() == 1
        assert await text_of(page, "#entry-list .choice-main") == ja[
            "here.checkin_booking"].format(service="マイナンバーカード")
        assert await text_of(page, "#entry-list .choice-sub") == ja["here.booking_when"].format(
            date="11月27日(金)", time="11:00")
        assert await audit(page) == []
        await page.screenshot(path="/tmp/here_booking_ja.png", full_page=True)

        assert script_errors(log) == []
        # One press (by keyboard) and on to the ticket page.
        await tab_to(page, "#entry-list button.act")
        await page.keyboard.press("Enter")
        await page.wait_for_url(re.compile(r"/t/[^/?]+\?lang=ja$"))
        ticket_id = page.url.split("/t/")[1].split("?")[0]
        # The code went to the check-in API only (and came in the QR's address).
        assert sent.carrying(code) == [
            ("GET", f"/here/{OFFICE}"), ("POST", f"/api/v1/bookings/{booked['token']}/check-in")]
        entries = await saved(page)
        assert not any(e["kind"] == "booking" for e in entries)
        assert any(e["kind"] == "ticket" and e["id"] == ticket_id for e in entries)
    booking = await site.ok("GET", f"/api/v1/bookings/{booked['token']}")
    assert booking["status"] == "checked_in" and booking["ticket"] == ticket_id
    ticket = await site.ok("GET", f"/api/v1/tickets/{ticket_id}")
    assert datetime.fromisoformat(ticket["due_at"]) == FIRST_SLOT
    assert log.foreign() == []


async def test_queue_joined_on_the_phone_arrives_from_the_lobby(
        site: AppHarness, clock: ManualClock) -> None:
    """Join today's queue for a walk-in-only service on /book, come back,
    scan the QR: the remote ticket joins the line."""
    await site.act("1", "open")
    ko = catalog("ko")
    log = RequestLog()
    async with chromium() as browser, phone_page(browser, locale="ko-KR", log=log) as page:
        await page.goto(f"{base_url(site)}/book/{OFFICE}?lang=ko")
        await wait_ready(page)
        assert await page.is_visible("#queue-offer")
        assert await text_of(page, "#h-queue-offer") == ko["queue.offer_title"]
        assert await audit(page) == []
        await page.screenshot(path="/tmp/book_queue_offer_ko.png", full_page=True)
        await tab_to(page, f"#queue-service-list button[data-service='{WALK_IN_ONLY}']")
        await page.keyboard.press("Enter")
        await step_shown(page, "queue")
        await page.screenshot(path="/tmp/book_queue_step_ko.png", full_page=True)
        await tab_to(page, "#queue-submit")  # no phone number: it is optional
        await page.keyboard.press("Enter")
        await step_shown(page, "queued")
        number = await text_of(page, "#q-number")
        assert await text_of(page, "#q-sms") == ko["queued.no_sms"]
        assert await text_of(page, "#q-back") == ko["queued.come_now"]  # nobody waits
        ticket_id = (await saved(page))[0]["id"]
        assert (await site.ok("GET", f"/api/v1/tickets/{ticket_id}"))["state"] == "remote"

        clock.advance(20 * MINUTE)
        path, _code = await lobby_path(site)
        await page.goto(base_url(site) + path)
        await wait_ready(page)
        assert await page.get_attribute("html", "lang") == "ko"  # remembered
        assert await text_of(page, "#entry-list button.act .choice-main") == ko[
            "here.arrive_ticket"].format(number=number)
        assert await audit(page) == []
        await page.screenshot(path="/tmp/here_arrive_ko.png", full_page=True)
        assert script_errors(log) == []
        await page.click("#entry-list button.act")
        await page.wait_for_url(re.compile(r"/t/" + re.escape(ticket_id) + r"\?lang=ko$"))
    assert (await site.ok("GET", f"/api/v1/tickets/{ticket_id}"))["state"] == "waiting"
    called = await site.act("1", "call-next")
    assert called["id"] == ticket_id
    assert log.foreign() == []


async def test_a_changed_code_is_asked_for_again(site: AppHarness, clock: ManualClock) -> None:
    """A QR scanned long ago (its code has changed twice since): the page asks
    for the code on the screen now, at a labelled field, and goes on."""
    booked = await book(site)
    clock.advance(35 * MINUTE)
    old_path, old_code = await lobby_path(site)
    clock.advance(11 * MINUTE)  # two 5-minute periods later: the old code is refused ...
    bookings = site.app[CONTEXT].bookings
    while old_code in {bookings.presence_code(OFFICE)[0],
                       bookings.presence_code(OFFICE, clock.now - 300)[0]}:
        clock.advance(5 * MINUTE)  # ... unless it happens to be drawn again (1 in 5000)
    _path, code = await lobby_path(site)
    en = catalog("en")
    log = RequestLog()
    async with chromium() as browser, phone_page(browser, locale="en-GB", log=log) as page:
        await page.goto(base_url(site) + booked["manage_url"] + "?lang=en")
        await wait_ready(page)
        await page.goto(base_url(site) + old_path)
        await wait_ready(page)
        await page.click("#entry-list button.act")
        await page.wait_for_selector("#code-box", state="visible")
        assert await text_of(page, "#presence-error") == en["error.presence_required"]
        assert await focus_is(page, "#presence")
        assert await page.get_attribute("#presence", "aria-invalid") == "true"
        assert await audit(page) == []
        await page.screenshot(path="/tmp/here_code_changed_en.png", full_page=True)
        await page.keyboard.type(code)
        errors = script_errors(log)
        await page.keyboard.press("Enter")  # the one button there is
        await page.wait_for_url(re.compile(r"/t/[^/?]+\?lang=en$"))
    assert (await site.ok("GET", f"/api/v1/bookings/{booked['token']}"))[
        "status"] == "checked_in"
    assert errors == []


async def test_too_early_says_when_check_in_opens(site: AppHarness) -> None:
    booked = await book(site)  # 10:00; check-in opens at 10:30
    async with chromium() as browser, phone_page(browser, locale="zh-CN") as page:
        await page.goto(base_url(site) + booked["manage_url"] + "?lang=zh-Hans")
        await wait_ready(page)
        path, _code = await lobby_path(site)
        await page.goto(base_url(site) + path)
        await wait_ready(page)
        await page.click("#entry-list button.act")
        await page.wait_for_selector("#alert.shown")
        assert await text_of(page, "#alert") == catalog("zh-Hans")["error.too_early_at"].format(
            date="2026年11月27日周五", time="10:30")
        assert await focus_is(page, "#alert")
        assert urlsplit(page.url).path == f"/here/{OFFICE}"


async def test_nothing_saved_explains_the_other_ways(site: AppHarness) -> None:
    ko = catalog("ko")
    log = RequestLog()
    async with chromium() as browser, phone_page(browser, log=log) as page:
        path, code = await lobby_path(site)
        await page.goto(base_url(site) + path + "&lang=ko")
        await wait_ready(page)
        assert urlsplit(page.url).query == "lang=ko"
        assert await page.get_attribute("html", "lang") == "ko"
        assert await page.is_visible("#nothing")
        assert await page.is_hidden("#entries") and await page.is_hidden("#code-box")
        assert await text_of(page, "#h-nothing") == ko["here.nothing_title"]
        for key in ("here.nothing_help", "here.nothing_booked", "here.nothing_kiosk"):
            assert ko[key] in await text_of(page, "#nothing")
        assert await text_of(page, "#code-shown") == ko["here.code_shown"].format(code=code)
        assert await page.get_attribute("#book-link", "href") == f"/book/{OFFICE}?lang=ko"
        assert await audit(page) == []
        # Keyboard: skip link first, then the language buttons, then the link on.
        await page.keyboard.press("Tab")
        assert await focus_is(page, "a.skip")
        await tab_to(page, "#book-link")
        await page.screenshot(path="/tmp/here_nothing_ko.png", full_page=True)
    assert log.foreign() == [] and log.console_errors == []


async def test_saved_list_keeps_ten_recent_entries(site: AppHarness) -> None:
    """Entries older than two days go (a booking not before two days after
    its slot); at most ten stay, the newest; other offices' are not shown."""
    now = datetime.now().astimezone()

    def ago(**delta: float) -> str:
        return (now - timedelta(**delta)).isoformat()

    recent = [{"kind": "ticket", "office": "moji", "id": f"moji.{'x' * 20}{i:02d}",
               "number": f"A-{i:03d}", "saved_at": ago(minutes=i + 1)} for i in range(11)]
    stale_ticket = {"kind": "ticket", "office": "moji", "id": "moji." + "s" * 22,
                    "number": "A-999", "saved_at": ago(days=3)}
    booked_ahead = {"kind": "booking", "office": "moji", "token": "moji." + "b" * 32,
                    "service": "mynumber", "slot_start": (now + timedelta(days=1)).isoformat(),
                    "saved_at": ago(days=5)}
    booked_past = {"kind": "booking", "office": "moji", "token": "moji." + "p" * 32,
                   "service": "mynumber", "slot_start": ago(days=3), "saved_at": ago(days=4)}
    junk = {"kind": "unknown", "office": "moji"}

    async def kept_of(page: Any, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        await page.evaluate("(v) => localStorage.setItem('madoguchi.saved', v)",
                            json.dumps(entries))
        await page.reload()
        await wait_ready(page)
        assert await page.is_visible("#nothing")  # nothing of this office
        return await saved(page)

    async with chromium() as browser, phone_page(browser) as page:
        await page.goto(f"{base_url(site)}/here/{OFFICE}")
        await wait_ready(page)
        kept = await kept_of(page, [stale_ticket, *recent, junk])
        assert [e["id"] for e in kept] == [e["id"] for e in recent[:10]]
        kept = await kept_of(page, [stale_ticket, booked_ahead, booked_past])
        assert kept == [booked_ahead]


async def test_unknown_office_is_404_and_explained(site: AppHarness) -> None:
    async with chromium() as browser, phone_page(browser) as page:
        response = await page.goto(f"{base_url(site)}/here/nosuchoffice?p=1234&lang=vi")
        assert response is not None and response.status == 404
        await page.wait_for_selector("#alert.shown")
        assert await text_of(page, "#alert") == catalog("vi")["error.unknown_office"]
        assert urlsplit(page.url).query == "lang=vi"
        assert await page.is_hidden("#nothing") and await page.is_hidden("#book-link")
