"""Bookings, calendar, check-in and the virtual queue against real Redis."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis

from queue_server import calendar
from queue_server.bookings import Bookings
from queue_server.engine import Engine
from queue_server.errors import MadoguchiError
from queue_server.office_config import Office
from tests.conftest import ManualClock

JST = ZoneInfo("Asia/Tokyo")
OFFICE = "bookoffice"
MOBILE = "090-1234-5678"


def booking_office(**booking: object) -> Office:
    return Office.model_validate({
        "id": OFFICE,
        "names": {"ja": "予約テスト区役所"},
        "booking": {"max_active_per_phone": 2, "per_ip_per_hour": 50, **booking},
        "services": [
            {"id": "mynumber", "names": {"ja": "マイナンバーカード"}, "letter": "C",
             "expected_minutes": 15, "bookable": True, "slot_minutes": 30, "slot_capacity": 2},
            {"id": "shomei", "names": {"ja": "証明書"}, "letter": "A", "expected_minutes": 5},
        ],
        "counters": [{"id": "1", "names": {"ja": "1番窓口"}, "services": ["mynumber", "shomei"],
                      "order": "due"}],
    })


@pytest.fixture
async def bookings(redis: Redis, tenant: str, clock: ManualClock) -> Bookings:
    engine = Engine(redis, tenant, clock=clock)
    await engine.configure(booking_office())
    return Bookings(engine, b"test-secret")


def at(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=JST)


async def errcode(coro: object) -> str:
    with pytest.raises(MadoguchiError) as err:
        await coro  # type: ignore[misc]
    return err.value.code


@pytest.mark.parametrize(
    ("day", "reason", "holiday"),
    [
        (date(2027, 1, 11), "holiday", "成人の日"),
        (date(2026, 11, 23), "holiday", "勤労感謝の日"),
        (date(2026, 12, 29), "year_end", None),
        (date(2027, 1, 3), "year_end", None),
        (date(2026, 11, 28), "weekend", None),
        (date(2026, 11, 30), None, None),
    ],
)
def test_calendar(day: date, reason: str | None, holiday: str | None) -> None:
    info = calendar.day(booking_office(), day)
    assert info.open is (reason is None)
    assert info.closed_reason == reason
    assert info.holiday_name == holiday


def test_opening_at_830_jst_is_2330_utc_the_day_before() -> None:
    info = calendar.day(booking_office(), date(2026, 11, 30))
    assert info.opens is not None
    assert info.opens.astimezone(ZoneInfo("UTC")).isoformat() == "2026-11-29T23:30:00+00:00"


async def test_availability_lists_free_slots(bookings: Bookings) -> None:
    monday = await bookings.availability(OFFICE, "mynumber", date(2026, 11, 30))
    assert monday["open"] and monday["slots"][0]["start"] == "2026-11-30T08:30:00+09:00"
    assert len(monday["slots"]) == 17  # 8:30-17:00 in 30-minute slots
    await bookings.book(OFFICE, "mynumber", at(2026, 11, 30, 8, 30), MOBILE)
    again = await bookings.availability(OFFICE, "mynumber", date(2026, 11, 30))
    assert again["slots"][0]["free"] == 1
    holiday = await bookings.availability(OFFICE, "mynumber", date(2027, 1, 11))
    assert holiday == {**holiday, "open": False, "closed_reason": "holiday", "slots": []}
    span = await bookings.availability_range(OFFICE, "mynumber", date(2026, 11, 27),
                                             date(2026, 12, 3))
    free = {d["date"]: d["free"] for d in span["days"]}
    assert free["2026-11-28"] == 0 and free["2026-11-30"] == 33
    # Today 10:00 with a 60-minute lead: 12 slots from 11:00, two seats each.
    assert free["2026-11-27"] == 24
    assert await errcode(bookings.availability_range(
        OFFICE, "mynumber", date(2026, 11, 1), date(2026, 12, 31))) == "invalid_date"


async def test_concurrent_bookings_never_overbook(redis_url: str, tenant: str,
                                                  clock: ManualClock) -> None:
    office = booking_office(max_active_per_phone=20, per_ip_per_hour=10_000)
    office.services[0].slot_capacity = 5
    clients = [Redis.from_url(redis_url) for _ in range(8)]
    try:
        engines = [Engine(c, tenant, clock=clock) for c in clients]
        await engines[0].configure(office)
        many = [Bookings(e, b"s") for e in engines]
        results = await asyncio.gather(
            *(many[i % 8].book(OFFICE, "mynumber", at(2026, 12, 1, 10), f"090{20_000_000 + i:08d}")
              for i in range(200)),
            return_exceptions=True,
        )
    finally:
        for c in clients:
            await c.aclose()
    ok = [r for r in results if not isinstance(r, BaseException)]
    errors = [r.code for r in results if isinstance(r, MadoguchiError)]
    assert len(ok) == 5 and errors == ["slot_full"] * 195
    assert len({r.booking["code"] for r in ok}) == 5


async def test_booking_refusals(bookings: Bookings) -> None:
    slot = at(2026, 11, 30, 9)
    assert await errcode(bookings.book(OFFICE, "mynumber", slot, "+1 212 555 0100")) == (
        "invalid_phone")
    assert await errcode(bookings.book(OFFICE, "shomei", slot, MOBILE)) == "not_bookable"
    assert await errcode(bookings.book(OFFICE, "mynumber", at(2026, 11, 30, 9, 10), MOBILE)
                         ) == "slot_unavailable"
    assert await errcode(bookings.book(OFFICE, "mynumber", at(2027, 1, 11, 9), MOBILE)
                         ) == "office_closed"
    assert await errcode(bookings.book(OFFICE, "mynumber", at(2026, 11, 27, 10, 30), MOBILE)
                         ) == "slot_unavailable"  # inside the lead time
    assert await errcode(bookings.book(OFFICE, "mynumber", at(2027, 2, 1, 9), MOBILE)
                         ) == "beyond_horizon"
    await bookings.book(OFFICE, "mynumber", slot, MOBILE)
    await bookings.book(OFFICE, "mynumber", at(2026, 12, 1, 9), MOBILE)
    assert await errcode(bookings.book(OFFICE, "mynumber", at(2026, 12, 2, 9), MOBILE)
                         ) == "too_many_bookings"


async def test_ip_limit(redis: Redis, tenant: str, clock: ManualClock) -> None:
    engine = Engine(redis, tenant, clock=clock)
    await engine.configure(booking_office(per_ip_per_hour=3, max_active_per_phone=20))
    b = Bookings(engine, b"s")
    for i in range(3):
        await b.book(OFFICE, "mynumber", at(2026, 12, 1, 9 + i), MOBILE, ip="192.0.2.7")
    assert await errcode(b.book(OFFICE, "mynumber", at(2026, 12, 2, 9), MOBILE,
                                ip="192.0.2.7")) == "rate_limited"
    clock.advance(3600)
    await b.book(OFFICE, "mynumber", at(2026, 12, 2, 9), MOBILE, ip="192.0.2.7")


async def test_manage_link_view_and_cancel(bookings: Bookings) -> None:
    booked = await bookings.book(OFFICE, "mynumber", at(2026, 11, 30, 9), MOBILE, name="山田")
    view = await bookings.view(booked.token)
    assert view["status"] == "booked" and view["phone"].endswith("5678")
    assert "1234" not in view["phone"] and view["name"] is None
    staff = await bookings.staff_view(OFFICE, view["id"])
    assert staff["name"] == "山田" and staff["phone"] == "+819012345678"
    await bookings.cancel(booked.token)
    assert (await bookings.view(booked.token))["status"] == "cancelled"
    assert await errcode(bookings.cancel(booked.token)) == "booking_not_active"
    assert await errcode(bookings.view(OFFICE + "." + "x" * 32)) == "unknown_booking"
    free = await bookings.availability(OFFICE, "mynumber", date(2026, 11, 30))
    assert free["slots"][1]["free"] == 2  # the seat came back


async def test_check_in_keeps_the_slot_place(bookings: Bookings, clock: ManualClock) -> None:
    engine = bookings.engine
    booked = await bookings.book(OFFICE, "mynumber", at(2026, 11, 30, 9), MOBILE)
    clock.now = at(2026, 11, 30, 8, 20).timestamp()
    assert await errcode(bookings.check_in(OFFICE, phone=MOBILE)) == "too_early"
    clock.now = at(2026, 11, 30, 8, 40).timestamp()
    walk_in = await engine.issue_ticket(OFFICE, "shomei")  # arrives 8:40
    ticket = await bookings.check_in(OFFICE, phone="０９０１２３４５６７８")
    assert ticket["due_at"].startswith("2026-11-30T09:00:00")
    assert ticket["booking"]["status"] == "checked_in" and ticket["number"] == "C-001"
    await engine.set_counter_state(OFFICE, "1", "open")
    clock.now = at(2026, 11, 30, 8, 50).timestamp()
    later = await engine.issue_ticket(OFFICE, "shomei")  # arrives 8:50
    clock.now = at(2026, 11, 30, 9, 0).timestamp()
    order = [(await engine.call_next(OFFICE, "1"))["id"] for _ in range(3)]  # type: ignore[index]
    assert order == [walk_in["id"], later["id"], ticket["id"]]
    assert await errcode(bookings.check_in(OFFICE, code=booked.booking["code"])) == "no_booking"


async def test_late_arrival_queues_from_arrival_and_no_shows(bookings: Bookings,
                                                             clock: ManualClock) -> None:
    a = await bookings.book(OFFICE, "mynumber", at(2026, 11, 30, 9), MOBILE)
    b = await bookings.book(OFFICE, "mynumber", at(2026, 11, 30, 10), "080-1111-2222")
    clock.now = at(2026, 11, 30, 9, 10).timestamp()  # past the 5-minute grace
    late = await bookings.check_in(OFFICE, code=a.booking["code"])
    assert late["due_at"].startswith("2026-11-30T09:10:00")
    clock.now = at(2026, 11, 30, 10, 16).timestamp()  # window closed 10:15
    assert await errcode(bookings.check_in(OFFICE, code=b.booking["code"])) == "too_late"
    assert await bookings.mark_no_shows(OFFICE) == 1
    assert (await bookings.view(b.token))["status"] == "no_show"
    assert await bookings.mark_no_shows(OFFICE) == 0
    # Staff see the day: one checked in (late), one no-show, with numbers.
    day = await bookings.of_day(OFFICE, date(2026, 11, 30))
    assert [(x["status"], x["phone"]) for x in day] == [
        ("checked_in", "+819012345678"), ("no_show", "+818011112222")]


async def test_two_bookings_on_one_phone_need_the_code(bookings: Bookings,
                                                       clock: ManualClock) -> None:
    await bookings.book(OFFICE, "mynumber", at(2026, 11, 30, 9), MOBILE)
    second = await bookings.book(OFFICE, "mynumber", at(2026, 11, 30, 9, 30), MOBILE)
    clock.now = at(2026, 11, 30, 9, 1).timestamp()
    assert await errcode(bookings.check_in(OFFICE, phone=MOBILE)) == "code_required"
    ticket = await bookings.check_in(OFFICE, phone=MOBILE, code=second.booking["code"])
    assert ticket["booking"]["id"] == second.booking["id"]


async def test_smartphone_check_in_needs_the_lobby_code(bookings: Bookings,
                                                        clock: ManualClock) -> None:
    booked = await bookings.book(OFFICE, "mynumber", at(2026, 11, 30, 9), MOBILE)
    clock.now = at(2026, 11, 30, 8, 55).timestamp()
    code, changes_at = bookings.presence_code(OFFICE)
    wrong = f"{(int(code) + 1) % 10_000:04d}"
    assert await errcode(bookings.check_in_by_token(booked.token, wrong)) == "presence_required"
    clock.now = changes_at + 1  # the code just replaced still counts
    ticket = await bookings.check_in_by_token(booked.token, code)
    assert ticket["state"] == "waiting"
    clock.now += 600  # two periods on: the old code no longer works
    assert await errcode(bookings.check_in_by_token(booked.token, code)) == "presence_required"


async def test_virtual_queue_ticket_is_not_called_before_arrival(
    bookings: Bookings, clock: ManualClock
) -> None:
    engine = bookings.engine
    await engine.set_counter_state(OFFICE, "1", "open")
    remote = await bookings.join_queue(OFFICE, "shomei")
    assert remote["state"] == "remote"
    walk_in = await engine.issue_ticket(OFFICE, "shomei")
    assert (await engine.call_next(OFFICE, "1"))["id"] == walk_in["id"]  # type: ignore[index]
    assert await engine.call_next(OFFICE, "1") is None
    clock.advance(60)
    late_walk_in = await engine.issue_ticket(OFFICE, "shomei")
    code, _ = bookings.presence_code(OFFICE)
    arrived = await bookings.arrive(remote["id"], code)
    assert arrived["state"] == "waiting"
    # Joined before the later walk-in, so it is called first.
    assert (await engine.call_next(OFFICE, "1"))["id"] == remote["id"]  # type: ignore[index]
    assert late_walk_in["state"] == "waiting"


async def test_booking_queues_its_confirmation_sms_in_the_same_step(
    redis: Redis, tenant: str, clock: ManualClock
) -> None:
    from queue_server.sms_outbox import SmsOutbox

    engine = Engine(redis, tenant, clock=clock)
    await engine.configure(booking_office())
    outbox = SmsOutbox(redis, tenant, clock=clock)
    b = Bookings(engine, b"s", outbox)
    mobile = await b.book(OFFICE, "mynumber", at(2026, 11, 30, 9), MOBILE, lang="ko")
    landline = await b.book(OFFICE, "mynumber", at(2026, 11, 30, 9), "093-582-2111")
    assert (mobile.booking["sms"], landline.booking["sms"]) == ("queued", "not_mobile")
    queued = await outbox.list(OFFICE)
    assert sorted((m["kind"], m["ref"], m["lang"]) for m in queued) == [
        ("confirmation", mobile.booking["id"], "ko"), ("reminder", mobile.booking["id"], "ko")]
    assert all(m["to"].endswith("5678") and "1234" not in m["to"] for m in queued)
    await b.cancel(mobile.token)
    states = sorted((m["kind"], m["state"]) for m in await outbox.list(OFFICE))
    assert states == [("cancellation", "queued"), ("confirmation", "queued"),
                      ("reminder", "withdrawn")]
    # Without SMS configured the booking says so, and nothing is queued.
    quiet = await Bookings(engine, b"s").book(OFFICE, "mynumber", at(2026, 11, 30, 10),
                                               "080-3333-4444")
    assert quiet.booking["sms"] == "disabled"
    assert len(await outbox.list(OFFICE)) == 3


def test_booking_codes_never_start_with_zero() -> None:
    """The kiosk's 「予約の方」 keypad takes a booking number or a phone
    number and tells them apart by the first digit: phone numbers start with
    0, booking numbers never do (a code 058019 was taken for a phone number)."""
    from queue_server.bookings import new_booking_code

    codes = [new_booking_code() for _ in range(20_000)]
    assert all(len(c) == 6 and c.isdigit() and c[0] != "0" for c in codes)
    assert len({c[0] for c in codes}) == 9  # 1-9 all used: still 900,000 codes
