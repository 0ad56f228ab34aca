"""Online booking end to end (DESIGN §1 flow 3, issue 3): book on
/book/kokurakita in Debian's headless Chromium, the confirmation SMS reaches
the fake Twilio through the real twilio client, the citizen checks in on
arrival (through the API, and on the manage page with the lobby's code) and
the booked ticket is called in its slot's place (DESIGN §5: due_at = slot
start). The app runs in-process on a ManualClock the test moves."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis

from queue_server.context import CONTEXT
from queue_server.demo_data import demo_offices
from queue_server.office_config import Office
from queue_server.settings import Settings
from tests.browser import RequestLog, audit, chromium, focus_is, phone_page, tab_to, wait_ready
from tests.conftest import ManualClock
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from tests.servers import AppHarness, app_harness
from tests.test_booking_pages import base_url, catalog, step_shown, text_of

OFFICE = "kokurakita"
SERVICE = "mynumber"  # bookable (30-minute slots, 3 places) and takes walk-ins
COUNTER = "7"  # Kokurakita's My Number counter: mynumber, then ido
PUBLIC = "https://madoguchi.city.kitakyushu.lg.jp"
FROM = "+15005550006"
TOKYO = ZoneInfo("Asia/Tokyo")
# The clock starts on Friday 2026-11-27 at 10:00; bookings need an hour's
# lead, so the first bookable slot is today's 11:00.
FIRST_SLOT = datetime(2026, 11, 27, 11, 0, tzinfo=TOKYO)
MINUTE = 60.0


def kokurakita() -> Office:
    return next(o for o in demo_offices() if o.id == OFFICE)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    server = await FakeTwilio().start()
    yield server
    await server.close()


@pytest.fixture
async def city(redis: Redis, tenant: str, clock: ManualClock,
               fake: FakeTwilio) -> AsyncIterator[AppHarness]:
    """The app with Kokurakita configured, SMS on against the fake Twilio
    (polled every 50 ms), on the test's clock."""
    settings = Settings(tenant=tenant, public_base_url=PUBLIC, twilio_account_sid=ACCOUNT_SID,
                        twilio_auth_token=AUTH_TOKEN, twilio_from=FROM,
                        twilio_api_base=fake.base_url, sms_poll_ms=50)
    async with app_harness(redis, tenant, kokurakita(), settings=settings,
                           clock=clock) as harness:
        yield harness


async def presence_code(city: AppHarness) -> str:
    """The code the lobby display shows now (read with a display token)."""
    body = await city.ok("GET", city.path("/checkin-code"), role="display")
    return str(body["code"])


def link_path(sms_body: str) -> str:
    """The manage link of an SMS, as a path on this server."""
    match = re.search(re.escape(PUBLIC) + r"(/b/[A-Za-z0-9._~-]+)", sms_body)
    assert match, sms_body
    return match.group(1)


async def book_first_slot_by_keyboard(page: Any, phone: str) -> dict[str, str]:
    """The citizen books the next bookable slot of SERVICE with Tab, typing
    and Enter, and reads the done page."""
    await tab_to(page, f"#service-list button[data-service='{SERVICE}']")
    await page.keyboard.press("Enter")
    await step_shown(page, "date")
    await tab_to(page, "#date-list button.choice")
    day = await page.evaluate("document.activeElement.dataset.date")
    await page.keyboard.press("Enter")
    await step_shown(page, "time")
    await tab_to(page, "#time-list button.choice")
    slot = await page.evaluate("document.activeElement.dataset.slot")
    await page.keyboard.press("Enter")
    await step_shown(page, "phone")
    await tab_to(page, "#phone")
    await page.keyboard.type(phone)
    await page.keyboard.press("Enter")
    await step_shown(page, "confirm")
    await tab_to(page, "#submit")
    await page.keyboard.press("Enter")
    await step_shown(page, "done")
    assert await focus_is(page, "#h-done")
    href = await page.get_attribute("#manage-link", "href") or ""
    return {"day": day, "slot": slot, "code": re.sub(r"\s", "", await text_of(page, "#code")),
            "manage": href.split("?")[0]}


def script_errors(log: RequestLog) -> list[str]:
    """Console errors but Chromium's note of each 4xx answer, which the tests
    provoke on purpose (the API's refusals are part of the flow)."""
    refused = re.compile(r"^Failed to load resource: .* status of 4\d\d ")
    return [e for e in log.console_errors if not refused.match(e)]


async def saved(page: Any) -> list[dict[str, Any]]:
    return list(await page.evaluate(
        "JSON.parse(localStorage.getItem('madoguchi.saved') || '[]')"))


async def test_book_sms_check_in_and_called_in_the_slots_place(
        city: AppHarness, clock: ManualClock, fake: FakeTwilio) -> None:
    ja = catalog("ja")
    phone, e164 = "090-2468-1357", "+819024681357"
    # A walk-in before anything else (10:00).
    early = await city.issue(SERVICE)

    log = RequestLog()
    async with chromium() as browser, phone_page(browser, log=log) as page:
        await page.goto(f"{base_url(city)}/book/{OFFICE}")
        await wait_ready(page)
        done = await book_first_slot_by_keyboard(page, phone)
        # "Today" is the server's (the ManualClock's), not the browser's.
        assert done["day"] == "2026-11-27"
        assert datetime.fromisoformat(done["slot"]) == FIRST_SLOT
        assert re.fullmatch(r"\d{6}", done["code"]), done
        assert await text_of(page, "#d-sms") == ja["done.sms_queued"].format(phone=phone)
        # The done page remembers the booking for the lobby QR page.
        token = done["manage"].removeprefix("/b/")
        (entry,) = await saved(page)
        assert entry["kind"] == "booking" and entry["office"] == OFFICE
        assert entry["token"] == token and entry["service"] == SERVICE
        assert datetime.fromisoformat(entry["slot_start"]) == FIRST_SLOT
        await page.screenshot(path="/tmp/e2e_book_done.png", full_page=True)

        # The confirmation SMS, through the real twilio client, with the link.
        await fake.wait_for_messages(1)
        (sms,) = [m for m in fake.to(e164) if "/b/" in m["Body"]]
        assert sms["From"] == FROM
        assert link_path(sms["Body"]) == done["manage"]

        # Walk-ins come after the slot has started (11:01, 11:02) ...
        clock.now = FIRST_SLOT.timestamp() + 1 * MINUTE
        late_1 = await city.issue(SERVICE)
        clock.advance(MINUTE)
        late_2 = await city.issue(SERVICE)
        # ... and the citizen checks in at the kiosk with the phone number at
        # 11:03, inside the check-in window and the 5-minute grace.
        clock.advance(MINUTE)
        ticket = await city.ok("POST", city.path("/check-in"), 201, role="kiosk",
                               json_body={"phone": phone})
        assert ticket["state"] == "waiting"
        assert datetime.fromisoformat(ticket["due_at"]) == FIRST_SLOT
        assert ticket["booking"]["status"] == "checked_in"

        # The counter calls: the walk-in who came at 10:00 has waited longest
        # (an appointment does not overtake people who came before its
        # slot); then the booking, before the walk-ins issued before it was.
        await city.act(COUNTER, "open")
        called = [(await city.act(COUNTER, "call-next"))["id"] for _ in range(4)]
        assert called == [early["id"], ticket["id"], late_1["id"], late_2["id"]]

        # The SMS link shows the booking as checked in, with its ticket.
        await page.goto(base_url(city) + link_path(sms["Body"]))
        await wait_ready(page)
        assert await page.get_attribute("#m-status", "data-status") == "checked_in"
        assert await text_of(page, "#m-status") == ja["manage.status_checked_in"]
        assert await page.is_hidden("#checkin") and await page.is_hidden("#cancel-box")
        assert await page.get_attribute("#ticket-link", "href") == f"/t/{ticket['id']}?lang=ja"
        assert await audit(page) == []
        # A used booking is no longer offered on the lobby QR page.
        assert await saved(page) == []
        await page.screenshot(path="/tmp/e2e_manage_checked_in.png", full_page=True)
    assert log.foreign() == [], log.foreign()
    assert log.console_errors == [], log.console_errors


async def test_manage_page_check_in_with_the_lobby_code(
        city: AppHarness, clock: ManualClock) -> None:
    """Too early, a wrong code, then the lobby's code: the ticket page."""
    booked = await city.ok("POST", city.path("/bookings"), 201, json_body={
        "service": SERVICE, "slot": FIRST_SLOT.isoformat(), "phone": "080-1111-2222",
        "lang": "en"})
    en = catalog("en")
    log = RequestLog()
    async with chromium() as browser, phone_page(browser, locale="en-GB", log=log) as page:
        await page.goto(base_url(city) + booked["manage_url"])
        await wait_ready(page)
        assert await page.get_attribute("html", "lang") == "en"
        assert await page.is_visible("#checkin-form")
        window = await text_of(page, "#checkin-window")
        assert "10:30" in window and "11:15" in window, window
        # The code field: numeric keypad, 4 digits, labelled, described.
        assert await page.get_attribute("#presence", "inputmode") == "numeric"
        assert await page.get_attribute("#presence", "maxlength") == "4"
        assert await page.evaluate("document.getElementById('presence').labels.length") == 1
        assert await audit(page) == []

        # Nothing typed: told at the field, nothing sent.
        await tab_to(page, "#checkin-submit")
        await page.keyboard.press("Enter")
        assert await text_of(page, "#presence-error") == en["checkin.code_required"]
        assert await focus_is(page, "#presence")
        assert await page.get_attribute("#presence", "aria-invalid") == "true"

        # 10:00 is before the window: the server says so, the page says when.
        await page.keyboard.type(await presence_code(city))
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#alert.shown")
        assert await text_of(page, "#alert") == en["error.too_early_at"].format(
            date="Fri, 27 November 2026", time="10:30")
        assert await focus_is(page, "#alert")

        # 10:40: a wrong code is refused at the field.
        clock.advance(40 * MINUTE)
        right = await presence_code(city)
        # The code just replaced counts too: the wrong one is neither.
        previous = city.app[CONTEXT].bookings.presence_code(OFFICE, clock.now - 300)[0]
        wrong = next(c for c in (f"{(int(right) + i) % 10_000:04d}" for i in (1, 2, 3))
                     if c not in (right, previous))
        await page.fill("#presence", wrong)
        await page.press("#presence", "Enter")
        await page.wait_for_selector("#presence-error:not([hidden])")
        await page.wait_for_function(
            "(t) => document.getElementById('presence-error').textContent === t",
            arg=en["error.presence_required"])
        assert await focus_is(page, "#presence")
        assert (await city.ok("GET", f"/api/v1/bookings/{booked['token']}"))[
            "status"] == "booked"
        await page.screenshot(path="/tmp/e2e_manage_wrong_code.png", full_page=True)

        # The right code (typed in full-width digits, as a Japanese keyboard
        # may): checked in, on to the ticket page.
        await page.fill("#presence", right.translate(str.maketrans("0123456789",
                                                                   "０１２３４５６７８９")))
        errors_before = script_errors(log)
        await page.press("#presence", "Enter")
        await page.wait_for_url(re.compile(r"/t/[^/?]+\?lang=en$"))
        ticket_id = page.url.split("/t/")[1].split("?")[0]
    booking = await city.ok("GET", f"/api/v1/bookings/{booked['token']}")
    assert booking["status"] == "checked_in" and booking["ticket"] == ticket_id
    ticket = await city.ok("GET", f"/api/v1/tickets/{ticket_id}")
    assert ticket["state"] == "waiting"
    assert datetime.fromisoformat(ticket["due_at"]) == FIRST_SLOT
    assert errors_before == [], errors_before
    assert log.foreign() == []


async def test_manage_page_too_late(city: AppHarness, clock: ManualClock) -> None:
    booked = await city.ok("POST", city.path("/bookings"), 201, json_body={
        "service": SERVICE, "slot": FIRST_SLOT.isoformat(), "phone": "080-1111-3333",
        "lang": "ko"})
    clock.now = FIRST_SLOT.timestamp() + 20 * MINUTE  # the window closed at 11:15
    async with chromium() as browser, phone_page(browser, locale="ko-KR") as page:
        await page.goto(base_url(city) + booked["manage_url"])
        await wait_ready(page)
        await page.fill("#presence", await presence_code(city))
        await page.click("#checkin-submit")
        await page.wait_for_selector("#alert.shown")
        assert await text_of(page, "#alert") == catalog("ko")["error.too_late"]


async def test_join_todays_queue_instead_of_booking(
        city: AppHarness, clock: ManualClock, fake: FakeTwilio) -> None:
    """A service that takes walk-ins offers today's queue on its date step:
    number, come-back time, the SMS promise, saved for the lobby page, and a
    link to the ticket page. Back never takes a second number."""
    for _ in range(3):
        await city.issue(SERVICE)
    await city.act(COUNTER, "open")
    vi = catalog("vi")
    log = RequestLog()
    async with chromium() as browser, phone_page(browser, locale="vi-VN", log=log) as page:
        await page.goto(f"{base_url(city)}/book/{OFFICE}?lang=vi")
        await wait_ready(page)
        await tab_to(page, f"#service-list button[data-service='{SERVICE}']")
        await page.keyboard.press("Enter")
        await step_shown(page, "date")
        assert await page.is_visible("#queue-instead-box")
        assert "3" in await text_of(page, "#queue-instead-text")
        await tab_to(page, "#queue-instead")
        await page.keyboard.press("Enter")
        await step_shown(page, "queue")
        assert await focus_is(page, "#h-queue")
        assert await text_of(page, "#progress") == ""
        assert await audit(page) == []
        await tab_to(page, "#queue-phone")
        await page.keyboard.type("090-5555-1212")
        await page.keyboard.press("Enter")
        await step_shown(page, "queued")
        assert await focus_is(page, "#h-queued")
        number = await text_of(page, "#q-number")
        assert re.fullmatch(r"[A-Z]-\d{3}", number), number
        assert re.fullmatch(r"\d{1,2}:\d{2}", await text_of(page, "#q-back"))
        assert await text_of(page, "#q-sms") == vi["queued.sms_queued"].format(
            phone="090-5555-1212")
        href = await page.get_attribute("#ticket-link", "href") or ""
        ticket_id = href.split("/t/")[1].split("?")[0]
        (entry,) = await saved(page)
        assert entry == {**entry, "kind": "ticket", "office": OFFICE, "id": ticket_id,
                         "number": number}
        assert await audit(page) == []
        await page.screenshot(path="/tmp/e2e_queue_joined_vi.png", full_page=True)

        # Back starts afresh; it does not take another number.
        await page.go_back()
        await step_shown(page, "service")
    ticket = await city.ok("GET", f"/api/v1/tickets/{ticket_id}")
    assert ticket["state"] == "remote" and ticket["number"] == number
    status = await city.status()
    waiting = next(s for s in status["services"] if s["id"] == SERVICE)["waiting"]
    assert waiting == 3  # a remote ticket is not in the line until it arrives
    assert log.foreign() == [] and log.console_errors == []


async def test_no_queue_offer_when_the_office_is_closed_today(
        city: AppHarness, clock: ManualClock) -> None:
    """Saturday: booking goes on as usual, today's queue is not offered."""
    clock.now = datetime(2026, 11, 28, 10, 0, tzinfo=TOKYO).timestamp()
    async with chromium() as browser, phone_page(browser) as page:
        await page.goto(f"{base_url(city)}/book/{OFFICE}")
        await wait_ready(page)
        assert await page.is_hidden("#queue-offer")
        await page.click(f"#service-list button[data-service='{SERVICE}']")
        await step_shown(page, "date")
        assert await page.is_hidden("#queue-instead-box")
        # The first day offered is the server's today (Saturday, closed).
        assert await page.get_attribute("#date-list li:first-child .unavailable",
                                        "class") == "unavailable"
        assert await page.locator("#date-list button.choice").first.get_attribute(
            "data-date") == "2026-11-30"


async def test_queue_closed_since_the_page_was_loaded(
        city: AppHarness, clock: ManualClock) -> None:
    clock.now = datetime(2026, 11, 27, 16, 58, tzinfo=TOKYO).timestamp()
    en = catalog("en")
    async with chromium() as browser, phone_page(browser, locale="en-GB") as page:
        await page.goto(f"{base_url(city)}/book/{OFFICE}?lang=en")
        await wait_ready(page)
        assert await page.is_visible("#queue-offer")
        clock.advance(3 * MINUTE)  # 17:01: closed
        await page.click("#queue-service-list button.choice >> nth=0")
        await page.wait_for_selector("#alert.shown")
        assert await text_of(page, "#alert") == en["queue.error_closed"]
        assert await page.is_hidden("#queue-offer")
        assert await page.is_visible("#step-service")


@pytest.fixture
async def strict_city(redis: Redis, tenant: str, clock: ManualClock) -> AsyncIterator[AppHarness]:
    """Kokurakita allowing one booking or queue join per address and hour."""
    office = kokurakita()
    office = office.model_copy(update={"booking": office.booking.model_copy(
        update={"per_ip_per_hour": 1})})
    async with app_harness(redis, tenant, office, settings=Settings(tenant=tenant),
                           clock=clock) as harness:
        yield harness


async def test_queue_rate_limit_is_explained(strict_city: AppHarness) -> None:
    city = strict_city
    await city.ok("POST", city.path("/queue"), 201, json_body={"service": "shomei"})
    ja = catalog("ja")
    async with chromium() as browser, phone_page(browser) as page:
        await page.goto(f"{base_url(city)}/book/{OFFICE}")
        await wait_ready(page)
        await page.click("#queue-service-list button[data-service='shomei']")
        await step_shown(page, "queue")
        await page.fill("#queue-phone", "090-3333-0000")
        await page.press("#queue-phone", "Enter")
        await page.wait_for_selector("#alert.shown")
        assert await text_of(page, "#alert") == ja["queue.error_rate_limited"]
        assert await focus_is(page, "#alert")
        assert await page.is_visible("#step-queue")  # nothing lost: try again later


async def test_queue_phone_number_is_checked_at_the_field(city: AppHarness) -> None:
    en = catalog("en")
    async with chromium() as browser, phone_page(browser, locale="en-GB") as page:
        await page.goto(f"{base_url(city)}/book/{OFFICE}?lang=en")
        await wait_ready(page)
        await page.click("#queue-service-list button[data-service='shomei']")
        await step_shown(page, "queue")
        await page.fill("#queue-phone", "12345")
        await page.press("#queue-phone", "Enter")
        await page.wait_for_selector("#queue-phone-error:not([hidden])")
        assert await text_of(page, "#queue-phone-error") == en["error.invalid_phone"]
        assert await focus_is(page, "#queue-phone")
        assert "queue-phone-error" in (
            await page.get_attribute("#queue-phone", "aria-describedby") or "")
        # A landline joins, but is told no SMS will come.
        await page.fill("#queue-phone", "093-582-1111")
        await page.press("#queue-phone", "Enter")
        await step_shown(page, "queued")
        assert await text_of(page, "#q-sms") == en["queued.sms_not_mobile"].format(
            phone="093-582-1111")
