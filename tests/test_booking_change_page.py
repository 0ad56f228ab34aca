"""Changing a booking's date and time on its manage page /b/{token} (issue 3:
the manage link views, changes, cancels and checks in), driven in Debian's
headless Chromium through Playwright against the real app, booking API and
Redis on 127.0.0.1, on a clock the test moves: Friday 2026-11-27 10:00 JST.

The change reuses the booking page's date and time steps (picker.js); days
that cannot be chosen say why (availability's `reason`), on both pages."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis

from queue_server.office_config import Office
from queue_server.settings import Settings
from tests.browser import RequestLog, audit, chromium, focus_is, phone_page, tab_to, wait_ready
from tests.conftest import ManualClock
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from tests.servers import OFFICE, AppHarness, app_harness
from tests.test_booking_pages import BOOK, LANGS, base_url, catalog, names, step_shown, text_of

TOKYO = ZoneInfo("Asia/Tokyo")
PUBLIC = "https://madoguchi.city.kitakyushu.lg.jp"
# The clock (tests.conftest.START) stands on Friday 2026-11-27 at 10:00.
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=TOKYO)
OLD_SLOT = "2026-11-30T09:30:00+09:00"  # Monday: the booking's time
NEW_SLOT = "2026-12-02T10:30:00+09:00"  # Wednesday: where it moves to
OTHER_SLOT = "2026-12-02T11:30:00+09:00"
SHORT_DAY = "2026-12-01"  # open 9:00-10:00 only: one slot, filled by the tests
TODAY_SLOT = "2026-11-27T10:30:00+09:00"


def change_office() -> Office:
    """One-place hour slots (a second booking fills a time), no lead time;
    a service that takes no same-day bookings; a short Tuesday."""
    return Office.model_validate({
        "id": OFFICE,
        "names": names("テスト区役所", "Test Ward Office", "테스트 구청", "测试区役所",
                       "Văn phòng quận Test"),
        "hours": {"overrides": {SHORT_DAY: {"open": "09:00", "close": "10:00"}}},
        "services": [
            {"id": "juminhyo", "letter": "A", "bookable": True, "slot_minutes": 60,
             "slot_capacity": 1, "booking_lead_minutes": 0,
             "names": names("住民票の写し", "Residence record", "주민표", "住民票",
                            "Phiếu cư trú")},
            {"id": "inkan", "letter": "B", "bookable": True, "slot_minutes": 60,
             "slot_capacity": 2, "booking_lead_minutes": 0, "same_day_booking": False,
             "names": names("印鑑登録", "Seal registration", "인감 등록", "印章登记",
                            "Đăng ký con dấu")},
        ],
        "counters": [{"id": "1", "names": {"ja": "1番窓口"}, "services": ["juminhyo", "inkan"]}],
    })


@pytest.fixture
async def site(redis: Redis, tenant: str, clock: ManualClock) -> AsyncIterator[AppHarness]:
    """The app on the test's clock, SMS not configured."""
    async with app_harness(redis, tenant, change_office(), settings=Settings(tenant=tenant),
                           clock=clock) as harness:
        yield harness


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    server = await FakeTwilio().start()
    yield server
    await server.close()


@pytest.fixture
async def sms_site(redis: Redis, tenant: str, clock: ManualClock,
                   fake: FakeTwilio) -> AsyncIterator[AppHarness]:
    """The app on the test's clock, SMS on against the fake Twilio."""
    settings = Settings(tenant=tenant, public_base_url=PUBLIC, twilio_account_sid=ACCOUNT_SID,
                        twilio_auth_token=AUTH_TOKEN, twilio_from="+15005550006",
                        twilio_api_base=fake.base_url, sms_poll_ms=50)
    async with app_harness(redis, tenant, change_office(), settings=settings,
                           clock=clock) as harness:
        yield harness


async def book(site: AppHarness, slot: str, phone: str, lang: str = "ja",
               service: str = "juminhyo") -> dict[str, Any]:
    return dict(await site.ok("POST", site.path("/bookings"), 201, json_body={
        "service": service, "slot": slot, "phone": phone, "lang": lang}))


async def free_at(site: AppHarness, slot: str, service: str = "juminhyo") -> int:
    day = slot[:10]
    body = await site.ok("GET", site.path(f"/availability?service={service}&date={day}"))
    when = datetime.fromisoformat(slot)
    return int(next(s["free"] for s in body["slots"]
                    if datetime.fromisoformat(s["start"]) == when))


async def booking(site: AppHarness, token: str) -> dict[str, Any]:
    return dict(await site.ok("GET", f"/api/v1/bookings/{token}"))


def same_time(a: str, b: str) -> bool:
    return datetime.fromisoformat(a) == datetime.fromisoformat(b)


def token_leaks(urls: list[str], token: str) -> list[str]:
    """Requests that carry the token anywhere but the manage page itself
    (/b/{token}) and the booking API (/api/v1/bookings/{token}[/…])."""
    allowed = re.compile(rf"^(/b/{re.escape(token)}|/api/v1/bookings/{re.escape(token)}"
                         r"(/(change|cancel|check-in))?)$")
    out = []
    for url in urls:
        if token not in url:
            continue
        parts = urlsplit(url)
        if token in parts.query or token in parts.fragment or not allowed.match(parts.path):
            out.append(url)
    return out


async def header_leaks(requests: list[Any], token: str) -> list[str]:
    """Request headers (a Referer, say) that carry the token."""
    out = []
    for request in requests:
        for name, value in (await request.all_headers()).items():
            if token in value:
                out.append(f"{request.url} {name}: {value}")
    return out


def refusals_only(errors: list[str]) -> list[str]:
    """Console errors but Chromium's note of each refused request, which a
    test provokes on purpose (a 409 is part of the flow)."""
    refused = re.compile(r"^Failed to load resource: ")
    return [e for e in errors if not refused.match(e)]


async def saved_entries(page: Any) -> list[dict[str, Any]]:
    return list(await page.evaluate(
        "JSON.parse(localStorage.getItem('madoguchi.saved') || '[]')"))


async def reason_of(page: Any, day: str) -> str:
    return await text_of(page, f"#date-list .unavailable[data-date='{day}'] .choice-sub")


async def history_view(page: Any, view: str) -> None:
    """The page handled the history step (its popstate handler ran)."""
    await page.wait_for_function("(v) => history.state && history.state.view === v", arg=view)


async def to_confirm(page: Any, day: str, slot: str) -> None:
    """From the booking: change → day → time → confirm, by mouse."""
    await page.click("#change")
    await step_shown(page, "date")
    await page.click(f"#date-list button[data-date='{day}']")
    await step_shown(page, "time")
    await page.click(f"#time-list button[data-slot='{slot}']")
    await step_shown(page, "confirm")


# --- the change, by keyboard --------------------------------------------------------


async def test_change_by_keyboard_moves_the_booking_and_its_seat(
        sms_site: AppHarness, fake: FakeTwilio) -> None:
    site = sms_site
    ja = catalog("ja")
    booked = await book(site, OLD_SLOT, "090-1234-5678")
    token = booked["token"]
    await book(site, f"{SHORT_DAY}T09:00:00+09:00", "090-2222-0001")  # the short day is full
    assert (await free_at(site, OLD_SLOT), await free_at(site, NEW_SLOT)) == (0, 1)
    await fake.wait_for_messages(2)  # both confirmations went out

    log = RequestLog()
    requests: list[Any] = []
    async with chromium() as browser, phone_page(browser, log=log) as page:
        page.on("request", lambda request: requests.append(request))
        await page.goto(base_url(site) + booked["manage_url"])
        await wait_ready(page)
        assert await text_of(page, "#h-change") == ja["change.title"]
        assert await text_of(page, "#change") == ja["change.start"]
        assert await audit(page) == []

        # Into the change and back out: the focus returns to the button.
        await tab_to(page, "#change")
        await page.keyboard.press("Enter")
        await step_shown(page, "date")
        assert await focus_is(page, "#h-date")
        await tab_to(page, "#step-date button.back")
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#booking", state="visible")
        await history_view(page, "booking")
        assert await focus_is(page, "#change")
        assert await page.is_hidden("#step-date")

        # Date: the same service; greyed-out days say why.
        await page.keyboard.press("Enter")
        await step_shown(page, "date")
        assert await focus_is(page, "#h-date")
        assert await page.is_hidden("#booking")
        assert await text_of(page, "#progress") == ja["common.progress"].format(n=1, total=3)
        assert await text_of(page, "#date-service") == ja["date.chosen_service"].format(
            service="住民票の写し")
        current = await text_of(page, "#date-current")
        assert current.startswith(ja["change.current"].split("{")[0]), current
        assert "11月30日" in current and "9:30" in current, current
        assert await reason_of(page, "2026-11-28") == ja["date.closed_weekend"]
        assert await reason_of(page, SHORT_DAY) == ja["date.full"] == "満員"
        assert await page.get_attribute(
            f"#date-list .unavailable[data-date='{SHORT_DAY}']", "data-reason") == "full"
        assert await audit(page) == []
        await page.screenshot(path="/tmp/change_date_ja.png", full_page=True)

        await tab_to(page, "#date-list button[data-date='2026-12-02']")
        await page.keyboard.press("Enter")
        await step_shown(page, "time")
        assert await focus_is(page, "#h-time")
        assert "12月2日" in await text_of(page, "#time-date")
        await tab_to(page, f"#time-list button[data-slot='{NEW_SLOT}']")
        await page.keyboard.press("Enter")
        await step_shown(page, "confirm")
        assert await focus_is(page, "#h-confirm")
        assert await text_of(page, "#progress") == ja["common.progress"].format(n=3, total=3)

        # Confirm: old → new, nothing sent yet.
        assert "11月30日" in await text_of(page, "#c-old-date")
        assert await text_of(page, "#c-old-time") == "9:30～10:30"
        assert "12月2日" in await text_of(page, "#c-new-date")
        assert await text_of(page, "#c-new-time") == "10:30～11:30"
        assert await text_of(page, "#c-service") == "住民票の写し"
        assert await text_of(page, "#c-office") == "テスト区役所"
        assert same_time((await booking(site, token))["slot_start"], OLD_SLOT)
        assert await audit(page) == []
        await page.screenshot(path="/tmp/change_confirm_ja.png", full_page=True)

        await tab_to(page, "#change-submit")
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#m-sms", state="visible")

        # Back on the booking: the new time, the message, the SMS note.
        assert await focus_is(page, "#h-booking")
        assert await page.is_hidden("#step-confirm")
        assert await text_of(page, "#status-message") == ja["change.done"]
        assert await text_of(page, "#m-sms") == ja["change.sms_queued"]
        assert "12月2日" in await text_of(page, "#m-date")
        assert await text_of(page, "#m-time") == "10:30～11:30"
        assert re.sub(r"\s", "", await text_of(page, "#code")) == booked["code"]
        assert await text_of(page, "#progress") == ""
        assert urlsplit(page.url).path == f"/b/{token}"
        (entry,) = [e for e in await saved_entries(page) if e["kind"] == "booking"]
        assert entry["token"] == token and same_time(entry["slot_start"], NEW_SLOT)
        assert await audit(page) == []
        await page.screenshot(path="/tmp/change_done_ja.png", full_page=True)

        # Back does not return to the steps of a change that is made.
        await page.go_back()
        await history_view(page, "booking")
        assert await page.is_visible("#booking") and await page.is_hidden("#step-time")
        assert urlsplit(page.url).path == f"/b/{token}"

        # The new time is marked as the booking's own; the old one is free to
        # book again, on the page too.
        await page.click("#change")
        await step_shown(page, "date")
        await page.click("#date-list button[data-date='2026-12-02']")
        await step_shown(page, "time")
        mine = page.locator(f"#time-list .unavailable[data-slot='{NEW_SLOT}']")
        assert await mine.get_attribute("data-current") == "true"
        assert await text_of(page, f"#time-list .unavailable[data-slot='{NEW_SLOT}'] "
                                   ".choice-sub") == ja["change.current_slot"]
        assert "12月2日" in await text_of(page, "#time-current")
        assert await audit(page) == []
        await page.screenshot(path="/tmp/change_time_current_ja.png", full_page=True)
        await page.click("#step-time button.back")
        await step_shown(page, "date")
        await page.click("#date-list button[data-date='2026-11-30']")
        await step_shown(page, "time")
        assert await page.locator(f"#time-list button[data-slot='{OLD_SLOT}']").count() == 1
        await page.click("#step-time button.back")
        await step_shown(page, "date")
        await page.click("#step-date button.back")
        await page.wait_for_selector("#booking", state="visible")
        assert await header_leaks(requests, token) == []
        assert await page.evaluate("JSON.stringify(sessionStorage)") == "{}"

    changed = await booking(site, token)
    assert changed["status"] == "booked" and changed["id"] == booked["id"]
    assert changed["code"] == booked["code"]
    assert same_time(changed["slot_start"], NEW_SLOT)
    assert same_time(changed["slot_end"], "2026-12-02T11:30:00+09:00")
    assert (await free_at(site, OLD_SLOT), await free_at(site, NEW_SLOT)) == (1, 0)
    # The confirmation of the new time, through the real twilio client.
    await fake.wait_for_messages(3)
    (sms,) = fake.to("+819012345678")[1:]
    assert "12月2日" in sms["Body"] and "10:30" in sms["Body"], sms["Body"]
    assert f"{PUBLIC}/b/{token}" in sms["Body"]

    assert token_leaks(log.urls, token) == []
    assert any(urlsplit(u).path == f"/api/v1/bookings/{token}/change" for u in log.urls)
    assert log.foreign() == [], log.foreign()
    assert log.console_errors == [], log.console_errors


# --- someone takes the last place meanwhile -------------------------------------------


async def test_slot_taken_meanwhile_leaves_the_booking_and_lets_them_pick_again(
        site: AppHarness) -> None:
    en, ko = catalog("en"), catalog("ko")
    booked = await book(site, OLD_SLOT, "080-1111-2222", lang="en")
    token = booked["token"]
    log = RequestLog()
    async with chromium() as browser, phone_page(browser, locale="en-GB", log=log) as page:
        await page.goto(base_url(site) + booked["manage_url"])
        await wait_ready(page)
        assert await page.get_attribute("html", "lang") == "en"
        await tab_to(page, "#change")
        await page.keyboard.press("Enter")
        await step_shown(page, "date")
        await tab_to(page, "#date-list button[data-date='2026-12-02']")
        await page.keyboard.press("Enter")
        await step_shown(page, "time")
        await tab_to(page, f"#time-list button[data-slot='{NEW_SLOT}']")
        await page.keyboard.press("Enter")
        await step_shown(page, "confirm")

        # The last place of that time goes to someone else.
        await book(site, NEW_SLOT, "090-5555-0002")

        await tab_to(page, "#change-submit")
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#alert.shown")
        assert await text_of(page, "#alert") == en["change.error_slot_full"]
        assert await focus_is(page, "#alert")
        assert await page.is_visible("#step-confirm")
        assert await page.is_hidden("#change-submit")  # not the same time again
        assert await page.is_visible("#pick-other-time")
        assert await audit(page) == []
        await page.screenshot(path="/tmp/change_slot_full_en.png", full_page=True)
        unchanged = await booking(site, token)
        assert unchanged["status"] == "booked" and same_time(unchanged["slot_start"], OLD_SLOT)
        assert (await free_at(site, OLD_SLOT), await free_at(site, NEW_SLOT)) == (0, 0)

        # The message follows a language change.
        await tab_to(page, "button[data-lang='ko']", backwards=True)
        await page.keyboard.press("Enter")
        await page.wait_for_function("() => document.documentElement.lang === 'ko'")
        assert await text_of(page, "#alert") == ko["change.error_slot_full"]
        assert await text_of(page, "#h-confirm") == ko["change.confirm_title"]

        # Pick again: that time is now full, another one is taken.
        await tab_to(page, "#pick-other-time")
        await page.keyboard.press("Enter")
        await step_shown(page, "time")
        assert await focus_is(page, "#h-time")
        assert await page.is_hidden("#alert")
        assert await page.locator(f"#time-list button[data-slot='{NEW_SLOT}']").count() == 0
        assert await text_of(page, f"#time-list .unavailable[data-slot='{NEW_SLOT}'] "
                                   ".choice-sub") == ko["time.full"]
        await tab_to(page, f"#time-list button[data-slot='{OTHER_SLOT}']")
        await page.keyboard.press("Enter")
        await step_shown(page, "confirm")
        assert await page.is_visible("#change-submit")
        assert await page.is_hidden("#confirm-recover")
        assert "11:30" in await text_of(page, "#c-new-time")  # 오전 11:30~오후 12:30
        await tab_to(page, "#change-submit")
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#m-sms", state="visible")
        assert await text_of(page, "#status-message") == ko["change.done"]
        assert await text_of(page, "#m-sms") == ko["change.sms_none"]  # SMS is not set up
        assert "11:30" in await text_of(page, "#m-time")
        await page.screenshot(path="/tmp/change_done_ko.png", full_page=True)
    assert same_time((await booking(site, token))["slot_start"], OTHER_SLOT)
    assert (await free_at(site, OLD_SLOT), await free_at(site, OTHER_SLOT)) == (1, 0)
    assert token_leaks(log.urls, token) == []
    assert log.foreign() == []
    assert refusals_only(log.console_errors) == [], log.console_errors


# --- other refusals from the server -----------------------------------------------------


async def test_time_passed_and_booking_cancelled_meanwhile(
        site: AppHarness, clock: ManualClock) -> None:
    vi = catalog("vi")
    booked = await book(site, OLD_SLOT, "090-3333-4444", lang="vi")
    token = booked["token"]
    log = RequestLog()
    async with chromium() as browser, phone_page(browser, locale="vi-VN", log=log) as page:
        await page.goto(base_url(site) + booked["manage_url"])
        await wait_ready(page)
        assert await page.get_attribute("html", "lang") == "vi"
        await to_confirm(page, "2026-11-27", TODAY_SLOT)

        # 10:31: today's 10:30 has begun before it was confirmed.
        clock.now = datetime.fromisoformat(TODAY_SLOT).timestamp() + 60
        await page.click("#change-submit")
        await page.wait_for_selector("#alert.shown")
        assert await text_of(page, "#alert") == vi["error.slot_unavailable"]
        assert await page.is_visible("#pick-other-day")
        assert same_time((await booking(site, token))["slot_start"], OLD_SLOT)
        await page.click("#pick-other-time")
        await step_shown(page, "time")
        assert await page.locator(f"#time-list [data-slot='{TODAY_SLOT}']").count() == 0

        # Cancelled (by an SMS reply, say) before the change is confirmed.
        await page.click("#time-list button.choice >> nth=0")
        await step_shown(page, "confirm")
        await site.ok("POST", f"/api/v1/bookings/{token}/cancel", json_body={})
        await page.click("#change-submit")
        await page.wait_for_selector("#alert.shown")
        assert await text_of(page, "#alert") == vi["error.booking_not_active"]
        await page.wait_for_function(
            "() => document.getElementById('m-status').dataset.status === 'cancelled'")
        assert await page.is_visible("#booking") and await page.is_hidden("#step-confirm")
        assert await page.is_hidden("#change-box") and await page.is_hidden("#cancel-box")
        assert await text_of(page, "#progress") == ""
        await page.go_back()  # the steps of that change are gone
        await history_view(page, "booking")
        assert await page.is_hidden("#step-time")
    assert (await booking(site, token))["status"] == "cancelled"
    assert token_leaks(log.urls, token) == []
    assert refusals_only(log.console_errors) == [], log.console_errors


# What each refusal of a change says (the catalog key), in every language.
REFUSALS = [
    ("slot_full", 409, "change.error_slot_full"),
    ("same_slot", 409, "error.same_slot"),
    ("slot_unavailable", 409, "error.slot_unavailable"),
    ("beyond_horizon", 409, "error.beyond_horizon"),
    ("office_closed", 409, "error.office_closed"),
    ("validation_failed", 422, "error.validation_failed"),
    ("rate_limited", 429, "error.rate_limited"),
    ("internal", 500, "error.internal"),
    ("unavailable", 503, "error.unavailable"),
    ("network", 0, "error.network"),
    ("booking_not_active", 409, "error.booking_not_active"),  # last: ends the change
]


async def test_every_refusal_is_explained_in_every_language(site: AppHarness) -> None:
    """The server's answers to a change (sent by the test here, as a real
    server cannot be made to give some of them on cue), in all six languages:
    each is the catalog's text, never the API's English message."""
    booked = await book(site, OLD_SLOT, "090-7777-0000")
    answer: dict[str, Any] = {}

    async def change_route(route: Any) -> None:
        code, status = answer["code"], answer["status"]
        if status == 0:
            await route.abort("internetdisconnected")
            return
        await route.fulfill(status=status, content_type="application/json",
                            body=json.dumps({"error": {"code": code, "message": "English"}}))

    log = RequestLog()
    async with chromium() as browser, phone_page(browser, log=log) as page:
        await page.route("**/api/v1/bookings/*/change", change_route)
        for lang in LANGS:
            cat = catalog(lang)
            await page.goto(f"{base_url(site)}{booked['manage_url']}?lang={lang}")
            await wait_ready(page)
            await to_confirm(page, "2026-12-02", NEW_SLOT)
            for code, status, key in REFUSALS:
                answer.update(code=code, status=status)
                await page.click("#change-submit")
                await page.wait_for_function(
                    "(t) => document.getElementById('alert').textContent === t", arg=cat[key])
                assert "English" not in await text_of(page, "#alert")
                if await page.is_visible("#pick-other-time"):
                    await page.click("#pick-other-time")
                    await step_shown(page, "time")
                    await page.click(f"#time-list button[data-slot='{NEW_SLOT}']")
                    await step_shown(page, "confirm")
            # booking_not_active: the booking is shown again, as it is now.
            await page.wait_for_selector("#booking", state="visible")
            assert await page.is_hidden("#step-confirm")
            if lang == "zh-Hans":
                await page.screenshot(path="/tmp/change_refused_zh.png", full_page=True)
    assert same_time((await booking(site, booked["token"]))["slot_start"], OLD_SLOT)
    assert log.foreign() == []
    assert refusals_only(log.console_errors) == [], log.console_errors


# --- why a day cannot be chosen ---------------------------------------------------------


async def test_greyed_out_days_say_why(site: AppHarness, clock: ManualClock) -> None:
    ja, en = catalog("ja"), catalog("en")
    booked = await book(site, OLD_SLOT, "090-8888-0000", service="inkan")
    async with chromium() as browser, phone_page(browser) as page:
        await page.goto(base_url(site) + booked["manage_url"] + "?lang=ja")
        await wait_ready(page)
        await page.click("#change")
        await step_shown(page, "date")
        # No same-day bookings for this service; the weekend; the days after
        # the 30-day horizon; the year-end closure.
        assert await reason_of(page, "2026-11-27") == ja["date.reason_same_day"]
        assert await reason_of(page, "2026-11-29") == ja["date.closed_weekend"]
        assert await page.locator("#date-list button[data-date='2026-11-30']").count() == 1
        await tab_to(page, "#date-more")
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#date-list [data-date='2026-12-24']")
        # The focus carries on at the first day of the new page that can be chosen.
        assert await focus_is(page, "#date-list button[data-date='2026-12-11']")
        await tab_to(page, "#date-more")
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#date-list [data-date='2027-01-07']")
        assert await reason_of(page, "2026-12-28") == ja["date.reason_beyond_horizon"]
        assert await reason_of(page, "2026-12-28") == "受付期間外"
        assert await reason_of(page, "2026-12-29") == ja["date.closed_year_end"]
        assert await page.is_hidden("#date-more")  # six weeks at most
        await page.screenshot(path="/tmp/change_days_reasons_ja.png", full_page=True)
        await page.eval_on_selector("#date-list [data-date='2026-12-29']",
                                    "(el) => el.scrollIntoView({block: 'center'})")
        await page.screenshot(path="/tmp/change_days_horizon_ja.png")  # the phone's screen
        # The reasons follow a language change.
        await page.click("button[data-lang='en']")
        await page.wait_for_function("() => document.documentElement.lang === 'en'")
        assert await reason_of(page, "2026-11-27") == en["date.reason_same_day"]
        assert await reason_of(page, "2026-12-28") == en["date.reason_beyond_horizon"]

        # The booking page's date step says why too: at 16:40 today is over.
        clock.now = datetime(2026, 11, 27, 16, 40, tzinfo=TOKYO).timestamp()
        await page.goto(f"{base_url(site)}/book/{site.office}?lang=ja")
        await wait_ready(page)
        await page.click("#service-list button[data-service='juminhyo']")
        await step_shown(page, "date")
        assert await reason_of(page, "2026-11-27") == ja["date.reason_too_soon"]
        assert await reason_of(page, "2026-11-28") == ja["date.closed_weekend"]
        assert await page.get_attribute("#date-list li:first-child .unavailable",
                                        "class") == "unavailable"


# --- catalogs ----------------------------------------------------------------------------


def test_every_change_refusal_has_a_text_in_every_language() -> None:
    i18n = (BOOK / "i18n.js").read_text(encoding="utf-8")
    mapped = dict(re.findall(r'^\s*"([a-z_]+)": "(error\.[a-z_]+)",$', i18n, re.MULTILINE))
    manage = (BOOK / "manage.js").read_text(encoding="utf-8")
    for code, _, key in REFUSALS:
        if key.startswith("error."):
            assert mapped.get(code) == key, code
        else:
            assert f'"{key}"' in manage, key
    for lang in LANGS:
        cat = catalog(lang)
        for code in ("unknown_booking", "not_bookable", "unknown_service"):
            assert mapped[code] in cat, (lang, code)
        for _, _, key in REFUSALS:
            assert cat.get(key, "").strip(), (lang, key)
        for key in ("change.sms_queued", "change.sms_not_mobile", "change.sms_none",
                    "change.sms_limit", "date.reason_not_bookable", "date.reason_too_soon"):
            assert cat.get(key, "").strip(), (lang, key)
