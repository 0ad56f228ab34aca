"""The ticket kiosk page /kiosk/{office} (checkin/kiosk_pages.py), driven in
Debian's headless Chromium through Playwright against the real app on
127.0.0.1, with the test playing the kiosk agent on /ws/kiosk-agent (the real
`websockets` client, as the agent uses). The server runs on a ManualClock and
the page's clock is installed at the same instant (Playwright's clock API),
so opening hours, check-in windows and the inactivity timer are exact and
no test waits on wall-clock time."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import websockets
from redis.asyncio import Redis

try:
    from playwright.async_api import expect
except ImportError:  # the browser tests skip (tests.browser.require_browser)
    expect = None

from queue_server.context import CONTEXT
from queue_server.office_config import Office
from tests.browser import LOCAL_HOSTS, RequestLog, audit, wait_ready
from tests.conftest import START, ManualClock
from tests.servers import AppHarness, app_harness, bearer

STATIC = Path(__file__).resolve().parent.parent / "checkin" / "static"
KIOSK = STATIC / "kiosk"
COMMON = STATIC.parent.parent / "queue_server" / "static" / "common"
I18N = STATIC / "i18n"
LANGS = ("ja", "en", "ko", "zh-Hans", "vi", "ja-easy")
TOKYO = ZoneInfo("Asia/Tokyo")
PORTRAIT = {"width": 1080, "height": 1920}
LANDSCAPE = {"width": 1920, "height": 1080}
TIMEOUT = 10.0
MS = 10_000  # Playwright waits, in ms
# Chromium logs every 4xx answer to fetch() as a console error, even when the
# page expects it (a check-in the API refuses, explained on screen).
REFUSED = r"^Failed to load resource: the server responded with a status of 4(03|04|09) "


def catalog(lang: str) -> dict[str, str]:
    data = json.loads((I18N / f"kiosk.{lang}.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def names(ja: str, en: str, ko: str, zh: str, vi: str) -> dict[str, str]:
    return {"ja": ja, "en": en, "ko": ko, "zh-Hans": zh, "vi": vi}


def kiosk_office(office_id: str = "testoffice", *, extra: bool = False) -> Office:
    """A certificate service (コンビニ交付), a bookable walk-in service and a
    booking-only one; `extra` adds a service (a configuration change)."""
    services: list[dict[str, Any]] = [
        {"id": "juminhyo", "letter": "A", "konbini": True, "expected_minutes": 30,
         "bookable": True, "booking_lead_minutes": 0,
         "names": names("住民票の写し", "Residence record", "주민표", "住民票",
                        "Phiếu cư trú")},
        {"id": "tenkyo", "letter": "B", "bookable": True, "expected_minutes": 40,
         "slot_minutes": 30, "slot_capacity": 2, "booking_lead_minutes": 0,
         "names": names("転入・転出", "Moving in or out", "전입·전출", "迁入・迁出",
                        "Chuyển đến, chuyển đi")},
        {"id": "okuyami", "letter": "J", "walk_in": False, "bookable": True,
         "slot_minutes": 60, "booking_lead_minutes": 0,
         "names": names("おくやみ", "Bereavement", "사망 신고 후 절차", "丧葬手续",
                        "Thủ tục khi có người mất")},
    ]
    if extra:
        services.append({"id": "zeimu", "letter": "C", "names": names(
            "税の証明", "Tax certificate", "세금 증명", "税务证明", "Giấy chứng nhận thuế")})
    return Office.model_validate({
        "id": office_id,
        "names": names("テスト区役所", "Test Ward Office", "테스트 구청", "测试区役所",
                       "Văn phòng quận Test"),
        "services": services,
        "counters": [
            {"id": "1", "names": {"ja": "1番窓口", "en": "Counter 1"},
             "services": ["juminhyo", "tenkyo"]},
            {"id": "2", "names": {"ja": "2番窓口", "en": "Counter 2"}, "services": ["okuyami"]},
        ],
    })


def at(day: int, hour: int, minute: int = 0) -> float:
    """A moment of November 2026 in Kitakyushu (the 27th is a Friday)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=TOKYO).timestamp()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)  # Friday 2026-11-27 10:00, the office is open


@pytest.fixture
async def site(redis: Redis, tenant: str, clock: ManualClock) -> AsyncIterator[AppHarness]:
    async with app_harness(redis, tenant, kiosk_office(), clock=clock) as harness:
        yield harness


def base_url(site: AppHarness) -> str:
    return str(site.client.make_url("")).rstrip("/")


@contextlib.asynccontextmanager
async def kiosk_context(browser: Any, clock: ManualClock, *, viewport: dict[str, int] = PORTRAIT,
                        log: RequestLog | None = None,
                        expected_errors: str | None = None) -> AsyncIterator[Any]:
    """A fresh kiosk-sized touch context (own storage) in Japan's time zone,
    whose page clock starts at the server's (manual) time. Every request is
    logged and anything not on this machine refused; at the end, nothing may
    have gone elsewhere and the console must be free of errors (but those
    matching `expected_errors`)."""
    log = log if log is not None else RequestLog()
    context = await browser.new_context(viewport=viewport, locale="ja-JP",
                                        timezone_id="Asia/Tokyo", has_touch=True)

    async def guard(route: Any) -> None:
        log.urls.append(route.request.url)
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            await route.continue_()
        else:
            await route.abort()

    await context.route("**/*", guard)
    page = await context.new_page()
    page.on("console", lambda m: log.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: log.console_errors.append(str(e)))
    await page.clock.install(time=clock.now)
    try:
        yield page
        assert log.foreign() == [], log.foreign()
        errors = [e for e in log.console_errors
                  if not (expected_errors and re.search(expected_errors, e))]
        assert errors == [], errors
    finally:
        await context.close()


async def open_kiosk(page: Any, site: AppHarness, *, token: str | None = None,
                     screen: str = "home") -> None:
    url = f"{base_url(site)}/kiosk/{site.office}"
    if token:
        url += f"?token={token}"
    await page.goto(url)
    await wait_ready(page)
    await on_screen(page, screen)
    if screen in ("home", "closed"):
        # The event socket is open: print results and config changes reach the page.
        await page.wait_for_selector("body[data-live='true']", state="attached", timeout=MS)


async def on_screen(page: Any, screen: str) -> None:
    await page.wait_for_selector(f"body[data-screen='{screen}']", state="attached", timeout=MS)


async def past_card_offer(page: Any) -> None:
    """A ticket was issued: past the optional My Number card step offered
    first (tests/test_kiosk_card.py), to the ticket screen."""
    await on_screen(page, "card-offer")
    await page.click("#card-skip")
    await on_screen(page, "ticket")


async def text_of(page: Any, selector: str) -> str:
    return (await page.text_content(selector) or "").strip()


async def visible(page: Any, selector: str) -> bool:
    return bool(await page.is_visible(selector))


def job_url(site: AppHarness, ticket_id: str) -> str:
    """The smartphone page of a ticket, as the server writes it into QR codes."""
    return f"{site.app[CONTEXT].settings.public_base_url.rstrip('/')}/t/{ticket_id}"


async def read_qr(locator: Any) -> str:
    """The text of the QR code the locator shows on screen (zxing-cpp)."""
    zxingcpp = pytest.importorskip("zxingcpp")
    image = pytest.importorskip("PIL.Image")
    shot = await locator.screenshot()
    (found,) = zxingcpp.read_barcodes(image.open(io.BytesIO(shot)))
    return str(found.text)


# --- playing the kiosk agent ---------------------------------------------------


@contextlib.asynccontextmanager
async def agent(site: AppHarness, token: str) -> AsyncIterator[Any]:
    url = str(site.client.make_url("/ws/kiosk-agent")).replace("http://", "ws://")
    ws = await websockets.connect(url, additional_headers=bearer(token))
    try:
        hello = await recv(ws)
        assert hello["type"] == "hello"
        yield ws
    finally:
        await ws.close()


async def recv(ws: Any) -> dict[str, Any]:
    data = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
    assert isinstance(data, dict)
    return data


async def next_job(ws: Any) -> dict[str, Any]:
    msg = await recv(ws)
    assert msg["type"] == "job", msg
    job = msg["job"]
    assert isinstance(job, dict)
    return job


async def ack(ws: Any, job: dict[str, Any], printed: bool, state: str = "ok") -> None:
    await ws.send(json.dumps({"type": "ack", "job": job["id"], "printed": printed,
                              "state": state}))
    assert (await recv(ws))["type"] == "acked"


# --- enrolment, walk-in ticket, printing ------------------------------------------


async def test_enrolment_keeps_the_token_and_takes_it_out_of_the_address(
    site: AppHarness, clock: ManualClock, browser: Any
) -> None:
    token = await site.token("kiosk")
    async with kiosk_context(browser, clock) as page:
        await open_kiosk(page, site, token=token)
        assert "token" not in page.url and token not in page.url
        assert page.url.endswith(f"/kiosk/{site.office}")
        stored = await page.evaluate(f"localStorage.getItem('madoguchi.kiosk.{site.office}.token')")
        assert stored == token
        # Opened again without the token (a restart of the kiosk PC): still enrolled.
        await open_kiosk(page, site)
        assert await text_of(page, "#h-home") == catalog("ja")["home.title"]
        assert await text_of(page, "#office-name") == "テスト区役所"


async def test_without_a_token_the_kiosk_says_it_is_not_set_up(
    site: AppHarness, clock: ManualClock, browser: Any
) -> None:
    ja = catalog("ja")
    async with kiosk_context(browser, clock) as page:
        await open_kiosk(page, site, screen="setup")
        assert await text_of(page, "#h-setup") == ja["setup.title"]
        assert (await text_of(page, "#setup-url")).endswith(f"/kiosk/{site.office}?token=…")
        assert not await visible(page, "#screen-home")
        # The office's name tells the technician the address names the right one.
        await expect(page.locator("#office-name")).to_have_text("テスト区役所")


async def test_unknown_office_is_404_and_said_on_screen(
    site: AppHarness, clock: ManualClock, browser: Any
) -> None:
    token = await site.token("kiosk")
    # Chromium logs the page's own 404 as a console error; nothing else may be.
    async with kiosk_context(browser, clock, expected_errors=r"status of 404") as page:
        response = await page.goto(f"{base_url(site)}/kiosk/nosuchoffice?token={token}")
        assert response is not None and response.status == 404
        await wait_ready(page)
        await on_screen(page, "fatal")
        assert await text_of(page, "#fatal-text") == catalog("ja")["fatal.unknown_office"]


async def test_walk_in_ticket_is_shown_printed_and_the_kiosk_returns_home(
    site: AppHarness, clock: ManualClock, browser: Any
) -> None:
    ja = catalog("ja")
    token = await site.token("kiosk")
    async with agent(site, token) as ws, kiosk_context(browser, clock) as page:
        await open_kiosk(page, site, token=token)
        button = page.locator("#service-list button[data-service='juminhyo']")
        assert ja["home.konbini"] in (await button.text_content() or "")
        assert "待っている人 0人" in (await button.text_content() or "")
        # The booking-only service has no walk-in button.
        assert await page.locator("#service-list button[data-service='okuyami']").count() == 0
        async with page.expect_response(re.compile(r"/tickets$")) as issued, \
                page.expect_response(re.compile(r"/qr\.svg$")) as qr_answer:
            await button.click()
        ticket = await (await issued.value).json()
        await past_card_offer(page)
        assert await text_of(page, "#ticket-number") == ticket["number"] == "A-001"
        assert await text_of(page, "#ticket-service") == "住民票の写し"
        assert await text_of(page, "#ticket-ahead") == ja["ticket.ahead_none"]
        assert await text_of(page, "#ticket-konbini") == ja["ticket.konbini"]
        # The QR of the smartphone page, drawn by the server, reads back as
        # the same address the printed ticket's QR has.
        assert (await qr_answer.value).status == 200
        qr = page.locator("#ticket-qr svg")
        await expect(qr).to_have_attribute("aria-label", ja["ticket.qr_alt"])
        assert await read_qr(qr) == job_url(site, ticket["id"])
        assert await text_of(page, "#print-status") == ja["print.printing"]

        job = await next_job(ws)
        assert job["id"] == ticket["id"]
        assert job["ticket"]["number"] == "A-001" and job["ticket"]["lang"] == "ja"
        assert job["ticket"]["url"] == job_url(site, ticket["id"])
        await ack(ws, job, printed=True)
        await page.wait_for_selector("body[data-print='printed']", state="attached", timeout=MS)
        assert await text_of(page, "#print-status") == ja["print.done"]
        assert not await visible(page, "#print-failed")
        # The page's clock runs on while the test looks: 15 s, or a second less.
        assert await text_of(page, "#ticket-countdown") in {
            ja["ticket.countdown"].format(seconds=n) for n in (15, 14)}

        await page.clock.run_for(15_000)
        await on_screen(page, "home")
        # Nothing of the ticket (its id is the smartphone page's capability) stays.
        assert await page.locator("#ticket-qr svg").count() == 0
        assert ticket["id"] not in await page.content()
        assert await text_of(page, "#ticket-number") == ""
        await expect(button).to_contain_text("待っている人 1人")  # the queue events' refresh


async def test_printer_failure_keeps_the_ticket_on_screen_until_touched(
    site: AppHarness, clock: ManualClock, browser: Any
) -> None:
    ja = catalog("ja")
    token = await site.token("kiosk")
    async with agent(site, token) as ws, kiosk_context(browser, clock) as page:
        await open_kiosk(page, site, token=token)
        await page.click("#service-list button[data-service='tenkyo']")
        await past_card_offer(page)
        job = await next_job(ws)
        await ack(ws, job, printed=False, state="paper_end")
        await page.wait_for_selector("body[data-print='failed']", state="attached", timeout=MS)
        assert await visible(page, "#print-failed")
        failed = await text_of(page, "#print-failed")
        for key in ("print.failed_title", "print.failed_help", "print.failed_staff"):
            assert ja[key] in failed
        assert await text_of(page, "#ticket-number") == "B-001"
        assert await text_of(page, "#ticket-done") == ja["print.failed_done"]
        # Minutes later, nobody having touched it, the ticket is still there.
        await page.clock.run_for(5 * 60_000)
        assert await page.get_attribute("body", "data-screen") == "ticket"
        assert await visible(page, "#idle-warning") is False
        await page.click("#ticket-done")
        await on_screen(page, "home")
        assert await text_of(page, "#ticket-number") == ""


async def test_a_printer_that_goes_wrong_while_printing_fails_the_ticket(
    site: AppHarness, clock: ManualClock, browser: Any
) -> None:
    token = await site.token("kiosk")
    async with agent(site, token) as ws, kiosk_context(browser, clock) as page:
        await open_kiosk(page, site, token=token)
        await page.click("#service-list button[data-service='juminhyo']")
        await past_card_offer(page)
        await next_job(ws)
        await ws.send(json.dumps({"type": "status", "state": "cover_open"}))
        await page.wait_for_selector("body[data-print='failed']", state="attached", timeout=MS)
        assert await visible(page, "#print-failed")


async def test_no_answer_from_the_printer_counts_as_a_failure(
    site: AppHarness, clock: ManualClock, browser: Any
) -> None:
    token = await site.token("kiosk")  # no agent connected: the job waits
    async with kiosk_context(browser, clock) as page:
        await open_kiosk(page, site, token=token)
        await page.click("#service-list button[data-service='juminhyo']")
        await past_card_offer(page)
        await page.wait_for_selector("body[data-print='printing']", state="attached", timeout=MS)
        await page.clock.run_for(20_000)
        await page.wait_for_selector("body[data-print='failed']", state="attached", timeout=MS)


async def test_long_wait_says_when_to_come_back(
    site: AppHarness, clock: ManualClock, browser: Any
) -> None:
    ja = catalog("ja")
    token = await site.token("kiosk")
    # One counter for two services (half a counter each), busy with one
    # visit and one more person waiting: a long wait for a 40-minute service.
    await site.act("1", "open")
    for _ in range(2):
        await site.issue("tenkyo")
        clock.advance(60)  # one a minute: a clear order in the line
    await site.act("1", "call-next")
    async with kiosk_context(browser, clock) as page:
        await open_kiosk(page, site, token=token)
        async with page.expect_response(re.compile(r"/tickets$")) as issued:
            await page.click("#service-list button[data-service='tenkyo']")
        ticket = await (await issued.value).json()
        await past_card_offer(page)
        wait = ticket["estimated_wait_minutes"]
        assert wait >= 60
        # Held (issue 11): the server's come-back time, as the printed ticket
        # says — on the safe side of the forecast, never already past.
        assert ticket["state"] == "held"
        come_back = datetime.fromisoformat(ticket["come_back_by"])
        assert clock.now <= come_back.timestamp() <= clock.now + wait * 60
        back = come_back.astimezone(TOKYO).strftime("%H:%M")
        assert await text_of(page, "#ticket-wait") == ja["ticket.come_back"].format(time=back)
        assert await text_of(page, "#ticket-come-back-note") == ja["ticket.come_back_note"]
        assert await text_of(page, "#ticket-ahead") == ja["ticket.ahead"].format(n=1)
        assert not await visible(page, "#ticket-konbini")


# --- bookings -----------------------------------------------------------------------


async def book(site: AppHarness, service: str, slot: float, phone: str) -> dict[str, Any]:
    body = {"service": service, "slot": datetime.fromtimestamp(slot, TOKYO).isoformat(),
            "phone": phone, "lang": "ja"}
    booked = await site.ok("POST", site.path("/bookings"), 201, json_body=body)
    assert isinstance(booked, dict)
    return booked


async def press_digits(page: Any, digits: str) -> None:
    for d in digits:
        await page.click(f"#keypad button[data-key='{d}']")


async def test_booking_check_in_by_phone_number_on_the_keypad(
    site: AppHarness, clock: ManualClock, browser: Any
) -> None:
    ja = catalog("ja")
    token = await site.token("kiosk")
    await book(site, "tenkyo", at(27, 10, 30), "090-1234-5678")
    async with kiosk_context(browser, clock) as page:
        await open_kiosk(page, site, token=token)
        await page.click("#booking-button")
        await on_screen(page, "booking")
        assert await text_of(page, "#entry-help") == ja["booking.phone_help"]
        assert await page.is_disabled("#entry-submit")
        await press_digits(page, "0901234567")
        assert await page.is_disabled("#entry-submit") is False  # 10 digits: a landline
        await press_digits(page, "9")
        await page.click("#keypad button[data-key='back']")
        await press_digits(page, "8")
        assert await text_of(page, "#entry-value") == "090-1234-5678"
        async with page.expect_request(re.compile(r"/check-in$")) as sent:
            await page.click("#entry-submit")
        request = await sent.value
        assert json.loads(request.post_data or "{}") == {"phone": "09012345678"}
        assert request.headers["authorization"] == f"Bearer {token}"
        await past_card_offer(page)
        assert await text_of(page, "#ticket-number") == "B-001"
        assert await text_of(page, "#ticket-booking") == ja["ticket.booking"].format(time="10:30")
        # The number typed is gone from the page.
        assert await text_of(page, "#entry-value") == ""
        assert "5678" not in (await page.content())


async def test_several_bookings_on_one_number_ask_for_the_code(
    site: AppHarness, clock: ManualClock, browser: Any
) -> None:
    ja = catalog("ja")
    token = await site.token("kiosk")
    await book(site, "tenkyo", at(27, 10, 30), "080-2222-3333")
    okuyami = await book(site, "okuyami", at(27, 10, 30), "080-2222-3333")
    async with kiosk_context(browser, clock, expected_errors=REFUSED) as page:
        await open_kiosk(page, site, token=token)
        await page.click("#booking-button")
        await press_digits(page, "08022223333")
        await page.click("#entry-submit")
        await expect(page.locator("#entry-help")).to_have_text(ja["booking.code_help"])
        await on_screen(page, "booking")
        assert await text_of(page, "#entry-label") == ja["booking.code_label"]
        assert await text_of(page, "#entry-value") == "··· ···"
        async with page.expect_request(re.compile(r"/check-in$")) as sent:
            await press_digits(page, okuyami["code"])
            await page.click("#entry-submit")
        body = json.loads((await sent.value).post_data or "{}")
        assert body == {"phone": "08022223333", "code": okuyami["code"]}
        await past_card_offer(page)
        assert await text_of(page, "#ticket-number") == "J-001"


async def test_check_in_errors_are_explained(
    site: AppHarness, clock: ManualClock, browser: Any
) -> None:
    ja = catalog("ja")
    token = await site.token("kiosk")
    await book(site, "tenkyo", at(27, 14, 0), "090-5555-6666")
    async with kiosk_context(browser, clock, expected_errors=REFUSED) as page:
        await open_kiosk(page, site, token=token)
        await page.click("#booking-button")
        await press_digits(page, "09011112222")
        await page.click("#entry-submit")
        await page.wait_for_selector("#alert:not([hidden])", timeout=MS)
        assert await text_of(page, "#alert") == ja["error.no_booking"]
        # The digits stay to be corrected.
        assert await text_of(page, "#entry-value") == "090-1111-2222"
        await page.click("#keypad button[data-key='clear']")
        await press_digits(page, "09055556666")
        await page.click("#entry-submit")
        too_early = ja["error.too_early_at"].format(time="13:30")
        await expect(page.locator("#alert")).to_have_text(too_early)


async def test_keyboard_wedge_scan_of_a_booking_link_checks_in(
    site: AppHarness, clock: ManualClock, browser: Any
) -> None:
    ja = catalog("ja")
    token = await site.token("kiosk")
    booked = await book(site, "tenkyo", at(27, 10, 30), "090-7777-8888")
    link = f"{base_url(site)}{booked['manage_url']}?lang=ja"
    await site.engine.configure(kiosk_office("kokura"))  # another ward office
    async with kiosk_context(browser, clock, expected_errors=REFUSED) as page:
        await open_kiosk(page, site, token=token)
        # The page's clock stands still while the "scanner" types: however
        # loaded this machine is, the keys come as fast as a scanner's.
        await page.clock.pause_at(clock.now + 60)
        async with page.expect_response(re.compile(r"/check-in$")) as answered:
            await page.keyboard.type(link)  # what the scanner "types"
            await page.keyboard.press("Enter")
        response = await answered.value
        request = response.request
        assert json.loads(request.post_data or "{}") == {"booking_token": booked["token"]}
        assert request.headers["authorization"] == f"Bearer {token}"
        # The kiosk token proves presence: no lobby code needed.
        assert response.status == 201
        await past_card_offer(page)
        assert await text_of(page, "#ticket-number") == "B-001"
        assert await text_of(page, "#ticket-booking") == ja["ticket.booking"].format(time="10:30")

        # The same link again: the booking was used.
        await page.keyboard.type(link)
        await page.keyboard.press("Enter")
        await expect(page.locator("#alert")).to_have_text(ja["error.booking_not_active"])

        # A code that is not a booking link is said not to be one.
        await page.keyboard.type("4901234567894-not-a-booking")
        await page.keyboard.press("Enter")
        await expect(page.locator("#alert")).to_have_text(ja["error.scan_unknown"])
        # A booking of another office: said so, without asking the server.
        await page.keyboard.type(f"{base_url(site)}/b/kokura.{'x' * 43}")
        await page.keyboard.press("Enter")
        await expect(page.locator("#alert")).to_have_text(
            ja["error.other_office"].format(office="テスト区役所"))


async def test_slow_typing_is_not_a_scan(
    site: AppHarness, clock: ManualClock, browser: Any
) -> None:
    token = await site.token("kiosk")
    async with kiosk_context(browser, clock) as page:
        await open_kiosk(page, site, token=token)
        for key in "https://x/b/testoffice.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa":
            await page.keyboard.press(key)
            await page.clock.run_for(150)  # a person, not a scanner
        await page.keyboard.press("Enter")
        await page.clock.run_for(100)
        assert await page.get_attribute("body", "data-screen") == "home"
        assert await page.is_hidden("#alert")


# --- inactivity, language, closed hours, configuration -----------------------------


async def test_inactivity_returns_home_wipes_the_number_and_resets_the_language(
    site: AppHarness, clock: ManualClock, browser: Any
) -> None:
    en, ja = catalog("en"), catalog("ja")
    token = await site.token("kiosk")
    async with kiosk_context(browser, clock) as page:
        await open_kiosk(page, site, token=token)
        await page.click("#lang-list button[data-lang='en']")
        await expect(page.locator("html")).to_have_attribute("lang", "en")
        await page.click("#booking-button")
        await press_digits(page, "0901234")
        assert await text_of(page, "#entry-value") == "090-1234"

        await page.clock.run_for(50_000)
        assert await visible(page, "#idle-warning")
        # (The page's clock also runs on by itself while the test looks: a
        # second may go by between two looks on a busy machine.)
        shown = {en["idle.warning"].format(seconds=n): n for n in range(11)}
        left = shown[await text_of(page, "#idle-text")]
        assert left in (10, 9)
        await page.clock.run_for(3_000)
        assert shown[await text_of(page, "#idle-text")] in (left - 3, left - 4)
        # "Continue" keeps the visit going, for another full minute.
        await page.click("#idle-stay")
        assert not await visible(page, "#idle-warning")
        await page.clock.run_for(45_000)
        assert await page.get_attribute("body", "data-screen") == "booking"
        assert await text_of(page, "#entry-value") == "090-1234"

        await page.clock.run_for(15_000)
        await on_screen(page, "home")
        assert not await visible(page, "#idle-warning")
        await expect(page.locator("html")).to_have_attribute("lang", "ja")
        assert await text_of(page, "#h-home") == ja["home.title"]
        assert await page.get_attribute("#lang-list button[data-lang='ja']",
                                        "aria-pressed") == "true"
        assert await text_of(page, "#entry-value") == ""
        assert "090-1234" not in await page.content()
        # The untouched start screen in Japanese stays as it is.
        await page.clock.run_for(120_000)
        assert not await visible(page, "#idle-warning")


async def test_language_buttons_and_switch(
    site: AppHarness, clock: ManualClock, browser: Any
) -> None:
    token = await site.token("kiosk")
    async with kiosk_context(browser, clock) as page:
        await open_kiosk(page, site, token=token)
        buttons = page.locator("#lang-list button")
        assert await buttons.count() == len(LANGS)
        for code in LANGS:
            button = page.locator(f"#lang-list button[data-lang='{code}']")
            # Each names its language in that language, marked as such.
            assert await button.text_content() == catalog(code)[f"lang.{code}"]
            assert await button.get_attribute("lang") == ("ja" if code == "ja-easy" else code)
        for code, office, service in (("ko", "테스트 구청", "주민표"),
                                      ("zh-Hans", "测试区役所", "住民票"),
                                      ("vi", "Văn phòng quận Test", "Phiếu cư trú"),
                                      ("ja-easy", "テスト区役所", "住民票の写し")):
            cat = catalog(code)
            await page.click(f"#lang-list button[data-lang='{code}']")
            await expect(page.locator("#h-home")).to_have_text(cat["home.title"])
            assert await text_of(page, "#office-name") == office
            name = page.locator("#service-list button[data-service='juminhyo'] .service-name")
            assert await name.text_content() == service
            assert cat["home.konbini"] in (await text_of(
                page, "#service-list button[data-service='juminhyo']"))
            href = await page.get_attribute("#book-other", "href")
            assert href == f"/book/{site.office}?lang={code}&kiosk=1"
        # A ticket in Vietnamese is issued in Vietnamese.
        await page.click("#lang-list button[data-lang='vi']")
        async with page.expect_request(re.compile(r"/tickets$")) as sent:
            await page.click("#service-list button[data-service='juminhyo']")
        assert json.loads((await sent.value).post_data or "{}") == {
            "service": "juminhyo", "lang": "vi"}
        await past_card_offer(page)
        vi = catalog("vi")
        assert await text_of(page, "#ticket-konbini") == vi["ticket.konbini"]
        assert await text_of(page, "#h-ticket") == vi["ticket.number_label"]


async def test_closed_on_saturday(redis: Redis, tenant: str, browser: Any) -> None:
    clock = ManualClock(at(28, 10))  # Saturday
    ja = catalog("ja")
    async with app_harness(redis, tenant, kiosk_office(), clock=clock) as site:
        token = await site.token("kiosk")
        async with kiosk_context(browser, clock) as page:
            await open_kiosk(page, site, token=token, screen="closed")
            assert await text_of(page, "#h-closed") == ja["closed.title_today"]
            assert await text_of(page, "#closed-reason") == ja["closed.reason_weekend"]
            assert not await visible(page, "#closed-booking")
            assert not await visible(page, "#screen-home")
            assert await visible(page, "#closed-book-other")


async def test_closed_screen_after_hours_and_at_the_year_end(
    redis: Redis, tenant: str, browser: Any
) -> None:
    ja = catalog("ja")
    clock = ManualClock(at(27, 16, 59))
    async with app_harness(redis, tenant, kiosk_office(), clock=clock) as site:
        token = await site.token("kiosk")
        async with kiosk_context(browser, clock) as page:
            await open_kiosk(page, site, token=token)
            # 17:00: the minute's refresh finds the office closed.
            clock.advance(60)
            await page.clock.run_for(60_000)
            await on_screen(page, "closed")
            assert await text_of(page, "#h-closed") == ja["closed.title_ended"]
            assert await text_of(page, "#closed-hours") == ja["closed.hours_today"].format(
                opens="08:30", closes="17:00")
    clock = ManualClock(datetime(2026, 12, 30, 10, tzinfo=TOKYO).timestamp())
    async with app_harness(redis, tenant, kiosk_office(), clock=clock) as site:
        token = await site.token("kiosk")
        async with kiosk_context(browser, clock) as page:
            await open_kiosk(page, site, token=token, screen="closed")
            assert await text_of(page, "#closed-reason") == ja["closed.reason_year_end"]


async def test_before_opening_bookings_may_check_in(
    redis: Redis, tenant: str, browser: Any
) -> None:
    ja = catalog("ja")
    clock = ManualClock(at(27, 8, 10))
    async with app_harness(redis, tenant, kiosk_office(), clock=clock) as site:
        token = await site.token("kiosk")
        async with kiosk_context(browser, clock) as page:
            await open_kiosk(page, site, token=token, screen="closed")
            assert await text_of(page, "#h-closed") == ja["closed.title_not_yet"]
            assert await text_of(page, "#closed-reason") == ja["closed.not_yet"].format(
                time="08:30")
            assert await visible(page, "#closed-booking")


async def test_configuration_change_reaches_the_kiosk_at_once(
    site: AppHarness, clock: ManualClock, browser: Any
) -> None:
    token = await site.token("kiosk")
    async with kiosk_context(browser, clock) as page:
        await open_kiosk(page, site, token=token)
        assert await page.locator("#service-list button[data-service='zeimu']").count() == 0
        # Through the app's own engine (as the admin pages do): another
        # process's engine would serve its cached copy for up to 2 s more.
        await site.app[CONTEXT].engine.configure(kiosk_office(extra=True))
        await page.wait_for_selector("#service-list button[data-service='zeimu']", timeout=MS)


# --- page properties -------------------------------------------------------------------


async def test_security_headers_and_nothing_from_elsewhere(
    site: AppHarness, clock: ManualClock, browser: Any
) -> None:
    async with site.client.get(f"/kiosk/{site.office}") as resp:
        assert resp.status == 200
        csp = resp.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "default-src 'none'" in csp
        assert resp.headers["Cache-Control"] == "no-store"
        html = await resp.text()
    assert "<script>" not in html and "style=" not in html and "http" not in html.split(
        "<body", 1)[1]
    for path in KIOSK.iterdir():
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"https?://", source), f"{path.name} names another host"
    log = RequestLog()
    token = await site.token("kiosk")
    async with kiosk_context(browser, clock, log=log) as page:
        await open_kiosk(page, site, token=token)
        await page.click("#service-list button[data-service='juminhyo']")
        await past_card_offer(page)
    assert log.urls and all(urlsplit(u).hostname == "127.0.0.1" for u in log.urls)


TARGETS_JS = r"""
() => {
  const small = [];
  for (const el of document.querySelectorAll("button, a[href]")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.width < 64 || r.height < 64) {
      small.push(`${el.id || el.dataset.key || el.dataset.lang || el.textContent.trim()}`
        + ` ${Math.round(r.width)}x${Math.round(r.height)}`);
    }
  }
  return small;
}
"""


@pytest.mark.parametrize("viewport", [PORTRAIT, LANDSCAPE], ids=["portrait", "landscape"])
async def test_accessibility_and_64px_targets_on_every_screen(
    site: AppHarness, clock: ManualClock, browser: Any, viewport: dict[str, int]
) -> None:
    token = await site.token("kiosk")
    # The fullest ticket: a booking of a certificate service, with people
    # ahead and a long wait (come back by …).
    await site.act("1", "open")
    for _ in range(2):
        await site.issue("juminhyo")
        clock.advance(60)
    await site.act("1", "call-next")
    await book(site, "juminhyo", at(27, 10, 30), "090-1234-5678")
    async with agent(site, token) as ws, kiosk_context(browser, clock, viewport=viewport) as page:
        await open_kiosk(page, site, token=token)
        checks: dict[str, list[str]] = {}

        async def check(name: str) -> None:
            checks[name] = await audit(page) + await page.evaluate(TARGETS_JS)
            # Everything fits on the screen: a kiosk has no scrolling.
            width, height = await page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
            if width > viewport["width"] or height > viewport["height"]:
                checks[name].append(f"page is {width}x{height}px")

        await check("home")
        await page.click("#lang-list button[data-lang='vi']")  # the longest texts
        await expect(page.locator("html")).to_have_attribute("lang", "vi")
        await check("home-vi")
        await page.click("#booking-button")
        await press_digits(page, "09012345678")
        await check("booking")
        await page.click("#entry-submit")
        await past_card_offer(page)
        await ack(ws, await next_job(ws), printed=False, state="paper_end")
        await page.wait_for_selector("body[data-print='failed']", state="attached", timeout=MS)
        # A checked-in booking is not held (issue 11: only a held ticket is
        # told to come back), so its screen gives the wait, not a time.
        for part in ("#ticket-booking", "#ticket-konbini", "#ticket-qr svg", "#print-failed"):
            assert await visible(page, part), part
        await check("ticket-failed")
        await page.click("#ticket-done")
        await page.click("#booking-button")
        await page.clock.run_for(51_000)
        assert await visible(page, "#idle-warning")
        await check("idle-warning")
        assert {k: v for k, v in checks.items() if v} == {}


async def test_keyboard_reaches_every_control_with_a_visible_focus(
    site: AppHarness, clock: ManualClock, browser: Any
) -> None:
    token = await site.token("kiosk")
    async with kiosk_context(browser, clock) as page:
        await open_kiosk(page, site, token=token)
        seen = set()
        for _ in range(20):
            await page.keyboard.press("Tab")
            info = await page.evaluate("""() => {
                const el = document.activeElement;
                if (el === document.body) return {id: 'body', ring: true};  // past the end
                const s = getComputedStyle(el);
                return {id: el.id || el.dataset.service || el.dataset.lang || '',
                        ring: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2};
            }""")
            assert info["ring"], info
            seen.add(info["id"])
        assert {"juminhyo", "tenkyo", "booking-button", "book-other", "en"} <= seen
        await page.focus("#service-list button[data-service='tenkyo']")
        await page.keyboard.press("Enter")
        await past_card_offer(page)


# --- catalogs ------------------------------------------------------------------------------


def used_keys() -> set[str]:
    keys: set[str] = set()
    html = (KIOSK / "kiosk.html").read_text(encoding="utf-8")
    keys |= set(re.findall(r'data-i18n="([^"]+)"', html))
    for attr in re.findall(r'data-i18n-attr="([^"]+)"', html):
        keys |= {pair.split(":")[1].strip() for pair in attr.split(";")}
    # The language names' keys are in the module the pages share.
    for path in [*KIOSK.glob("*.js"), COMMON / "i18n.js"]:
        keys |= set(re.findall(r'"((?:[a-z_]+)\.[a-zA-Z_-]+)"', path.read_text(encoding="utf-8")))
    known_prefixes = ("page.", "lang.", "common.", "setup.", "fatal.", "home.", "closed.",
                      "booking.", "keypad.", "ticket.", "print.", "idle.", "error.", "card.")
    return {k for k in keys if k.startswith(known_prefixes)}


def test_every_key_used_is_in_every_catalog_and_none_is_unused() -> None:
    ja = catalog("ja")
    used = used_keys()
    assert used - set(ja) == set(), "keys missing from kiosk.ja.json"
    assert set(ja) - used == set(), "catalog keys no code uses"
    for lang in LANGS:
        assert set(catalog(lang)) == set(ja), lang


def test_catalog_placeholders_match() -> None:
    ja = catalog("ja")
    for lang in LANGS:
        cat = catalog(lang)
        for key, text in ja.items():
            assert set(re.findall(r"\{\w+\}", cat[key])) == set(re.findall(r"\{\w+\}", text)), (
                lang, key)


def test_language_names_are_the_same_in_every_catalog() -> None:
    own = {code: catalog(code)[f"lang.{code}"] for code in LANGS}
    for lang in LANGS:
        assert {code: catalog(lang)[f"lang.{code}"] for code in LANGS} == own
