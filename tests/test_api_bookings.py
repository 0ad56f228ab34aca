"""Booking, check-in and virtual-queue endpoints over HTTP (real clock)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis

from queue_server import calendar
from tests.conftest import ManualClock
from tests.servers import AppHarness, app_harness
from tests.test_bookings import OFFICE, booking_office

JST = ZoneInfo("Asia/Tokyo")


def next_open_day(office_days_ahead: int = 2) -> date:
    office = booking_office()
    d = datetime.now(JST).date() + timedelta(days=office_days_ahead)
    while not calendar.day(office, d).open:
        d += timedelta(days=1)
    return d


@pytest.fixture
async def api(redis: Redis, tenant: str) -> AsyncIterator[AppHarness]:
    async with app_harness(redis, tenant, booking_office(per_ip_per_hour=5)) as harness:
        yield harness


async def book(api: AppHarness, slot: str, phone: str = "090-1234-5678", **extra: object
               ) -> tuple[int, dict]:
    return await api.request("POST", api.path("/bookings"),
                             json_body={"service": "mynumber", "slot": slot, "phone": phone,
                                        **extra})


async def test_availability_and_booking_round_trip(api: AppHarness) -> None:
    day = next_open_day()
    slots = await api.ok("GET", api.path(f"/availability?service=mynumber&date={day}"))
    assert slots["open"] and slots["slots"][0]["free"] == 2
    first = slots["slots"][0]["start"]
    status, booked = await book(api, first, name="山田 花子", lang="vi")
    assert status == 201, booked
    assert booked["manage_url"] == f"/b/{booked['token']}" and len(booked["code"]) == 6
    assert booked["slot_start"] == first.replace(":00+", ":00.000+")
    assert booked["phone"].endswith("5678") and "1234" not in booked["phone"]
    view = await api.ok("GET", f"/api/v1/bookings/{booked['token']}")
    assert view["status"] == "booked" and view["name"] is None and view["lang"] == "vi"
    slot_start = datetime.fromisoformat(first)
    assert datetime.fromisoformat(view["checkin_opens"]) == slot_start - timedelta(minutes=30)
    assert datetime.fromisoformat(view["checkin_closes"]) == slot_start + timedelta(minutes=15)
    again = await api.ok("GET", api.path(f"/availability?service=mynumber&date={day}"))
    assert again["slots"][0]["free"] == 1
    span = await api.ok("GET", api.path(f"/availability?service=mynumber&from={day}&to={day}"))
    assert span["days"][0]["free"] == sum(s["free"] for s in again["slots"])
    staff = await api.ok("GET", api.path(f"/bookings?date={day}"), role="staff")
    assert [(b["name"], b["status"]) for b in staff["bookings"]] == [("山田 花子", "booked")]
    for role in (None, "kiosk", "display"):
        status, _ = await api.request("GET", api.path(f"/bookings?date={day}"), role=role)
        assert status in (401, 403)
    cancelled = await api.ok("POST", f"/api/v1/bookings/{booked['token']}/cancel")
    assert cancelled["status"] == "cancelled"
    status, body = await api.request("POST", f"/api/v1/bookings/{booked['token']}/cancel")
    assert status == 409 and body["error"]["code"] == "booking_not_active"


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("service=mynumber&date=2026-13-01", 422, "invalid_date"),
        ("service=mynumber&from=2026-12-01&to=2027-03-01", 422, "invalid_date"),
        ("service=nope&date=2026-12-01", 404, "unknown_service"),
        ("service=mynumber", 422, "invalid_date"),
    ],
)
async def test_availability_bad_input(api: AppHarness, query: str, status: int, code: str
                                      ) -> None:
    got, body = await api.request("GET", api.path(f"/availability?{query}"))
    assert (got, body["error"]["code"]) == (status, code)


async def test_booking_bad_input(api: AppHarness) -> None:
    day = next_open_day()
    slot = f"{day}T09:00:00+09:00"
    new_year = datetime.now(JST).year + 1
    cases = [
        ({"phone": "+1 212 555 0100"}, 422, "invalid_phone"),
        ({"phone": "12"}, 422, "invalid_phone"),
        ({"slot": f"{day}T09:00:00"}, 409, "slot_unavailable"),  # no offset
        ({"slot": "yesterday"}, 409, "slot_unavailable"),
        ({"slot": f"{day}T09:10:00+09:00"}, 409, "slot_unavailable"),
        ({"slot": "2020-01-06T09:00:00+09:00"}, 409, "slot_unavailable"),
        # 2 January is always closed (年末年始) and next year's is always ahead.
        ({"slot": f"{new_year}-01-02T09:00:00+09:00"}, 409, "office_closed"),
        ({"extra": 1}, 422, "validation_failed"),
        ({"name": 5}, 422, "validation_failed"),
    ]
    for change, status, code in cases:
        body = {"service": "mynumber", "slot": slot, "phone": "090-1234-5678", **change}
        got, reply = await api.request("POST", api.path("/bookings"), json_body=body)
        assert (got, reply["error"]["code"]) == (status, code), change
    for token in ("nope", f"{OFFICE}.{'x' * 40}", f"zzz.{'x' * 40}"):
        got, reply = await api.request("GET", f"/api/v1/bookings/{token}")
        assert (got, reply["error"]["code"]) == (404, "unknown_booking")


async def test_bookings_per_ip_are_limited(api: AppHarness) -> None:
    day = next_open_day()
    slots = (await api.ok("GET", api.path(f"/availability?service=mynumber&date={day}")))["slots"]
    codes = []
    for i in range(6):
        status, body = await book(api, slots[i]["start"], phone=f"080-5555-{1000 + i}")
        codes.append(status if status == 201 else body["error"]["code"])
    assert codes == [201] * 5 + ["rate_limited"]


async def test_check_in_refusals_and_presence_code(api: AppHarness) -> None:
    day = next_open_day()
    status, booked = await book(api, f"{day}T09:00:00+09:00")
    assert status == 201
    status, body = await api.request("POST", api.path("/check-in"),
                                     json_body={"phone": "090-1234-5678"})
    assert (status, body["error"]["code"]) == (401, "unauthorized")
    # The kiosk looks for today's bookings of the number: this one is days ahead.
    for phone in ("090-1234-5678", "080-9999-0000"):
        status, body = await api.request("POST", api.path("/check-in"), role="kiosk",
                                         json_body={"phone": phone})
        assert (status, body["error"]["code"]) == (404, "no_booking")
    status, body = await api.request("POST", api.path("/check-in"), role="kiosk",
                                     json_body={"code": booked["code"]})
    assert (status, body["error"]["code"]) == (409, "too_early")
    status, body = await api.request("POST", api.path("/check-in"), role="display",
                                     json_body={"code": booked["code"]})
    assert status == 403
    code = await api.ok("GET", api.path("/checkin-code"), role="display")
    assert len(code["code"]) == 4 and code["changes_at"] > time.time()
    # The QR on the display opens the lobby check-in page with the code.
    assert code["url"].endswith(f"/here/{OFFICE}?p={code['code']}")
    assert code["qr_svg"].startswith("<svg") and "<script" not in code["qr_svg"]
    status, body = await api.request("GET", api.path("/checkin-code"))
    assert status == 401
    wrong = f"{(int(code['code']) + 1) % 10_000:04d}"
    status, body = await api.request("POST", f"/api/v1/bookings/{booked['token']}/check-in",
                                     json_body={"presence_code": wrong})
    assert (status, body["error"]["code"]) == (403, "presence_required")
    status, body = await api.request("POST", f"/api/v1/bookings/{booked['token']}/check-in",
                                     json_body={"presence_code": code["code"]})
    assert (status, body["error"]["code"]) == (409, "too_early")
    # The booking's QR scanned at the kiosk: the kiosk is in the lobby, no code
    # needed (too early still applies); from anywhere else the code is.
    scanned = {"booking_token": booked["token"]}
    for role, expected in (("kiosk", (409, "too_early")), (None, (403, "presence_required")),
                           ("display", (403, "forbidden"))):
        status, body = await api.request("POST", api.path("/check-in"), role=role,
                                         json_body=scanned)
        assert (status, body["error"]["code"]) == expected, role


async def test_ticket_qr_is_an_svg_of_the_smartphone_page(api: AppHarness) -> None:
    joined = await api.issue(role="staff")  # staff may issue at any hour (the kiosk may not)
    async with api.client.get(f"/api/v1/tickets/{joined['id']}/qr.svg") as resp:
        assert resp.status == 200 and resp.content_type == "image/svg+xml"
        assert "no-store" in resp.headers["Cache-Control"]
        svg = await resp.text()
        assert svg.startswith("<svg") and 'xmlns="http://www.w3.org/2000/svg"' in svg
    status, body = await api.request("GET", f"/api/v1/tickets/{OFFICE}.{'x' * 22}/qr.svg")
    assert (status, body["error"]["code"]) == (404, "unknown_ticket")


@pytest.fixture
async def open_api(redis: Redis, tenant: str) -> AsyncIterator[tuple[AppHarness, ManualClock]]:
    """The app on a clock inside opening hours (Friday 10:00 in Kitakyushu)."""
    clock = ManualClock()
    async with app_harness(redis, tenant, booking_office(per_ip_per_hour=5),
                           clock=clock) as harness:
        yield harness, clock


async def test_virtual_queue_join_and_arrive(open_api: tuple[AppHarness, ManualClock]) -> None:
    api, clock = open_api
    joined = await api.ok("POST", api.path("/queue"), 201, json_body={"service": "shomei"})
    assert joined["state"] == "remote" and joined["sms"] == "none"
    status, body = await api.request("POST", api.path("/queue"),
                                     json_body={"service": "shomei", "phone": "+1 202 555 0100"})
    assert (status, body["error"]["code"]) == (422, "invalid_phone")
    code = (await api.ok("GET", api.path("/checkin-code"), role="display"))["code"]
    status, body = await api.request("POST", f"/api/v1/tickets/{joined['id']}/arrive",
                                     json_body={"presence_code": "abcd"})
    assert status == 422
    arrived = await api.ok("POST", f"/api/v1/tickets/{joined['id']}/arrive",
                           json_body={"presence_code": code})
    assert arrived["state"] == "waiting" and arrived["ahead"] == 0
    status, body = await api.request("POST", f"/api/v1/tickets/{joined['id']}/arrive",
                                     json_body={"presence_code": code})
    assert (status, body["error"]["code"]) == (409, "not_remote")
    for _ in range(3):
        await api.ok("POST", api.path("/queue"), 201, json_body={"service": "shomei"})
    status, body = await api.request("POST", api.path("/queue"), json_body={"service": "shomei"})
    assert (status, body["error"]["code"]) == (429, "rate_limited")
    clock.advance(7 * 3600 + 3600)  # 18:00, and a fresh hour for the limit
    status, body = await api.request("POST", api.path("/queue"), json_body={"service": "shomei"})
    assert (status, body["error"]["code"]) == (409, "office_closed")


async def test_change_a_booking_over_http(api: AppHarness) -> None:
    day = next_open_day()
    status, booked = await book(api, f"{day}T09:00:00+09:00")
    assert status == 201
    path = f"/api/v1/bookings/{booked['token']}/change"
    changed = await api.ok("POST", path, json_body={"slot": f"{day}T10:00:00+09:00"})
    assert changed["slot_start"].startswith(f"{day}T10:00") and changed["status"] == "booked"
    assert changed["phone"].endswith("5678") and "1234" not in changed["phone"]
    for body, expected in (({"slot": "tomorrow"}, (409, "slot_unavailable")),
                           ({"slot": f"{day}T10:00:00+09:00"}, (409, "same_slot")),
                           ({}, (422, "validation_failed"))):
        status, err = await api.request("POST", path, json_body=body)
        assert (status, err["error"]["code"]) == expected, body
    status, err = await api.request("POST", f"/api/v1/bookings/{OFFICE}.{'x' * 32}/change",
                                    json_body={"slot": f"{day}T11:00:00+09:00"})
    assert (status, err["error"]["code"]) == (404, "unknown_booking")
