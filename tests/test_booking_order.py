"""Where a checked-in booking stands in the line (DESIGN §5): an early
arrival waits for its slot unless the office chooses otherwise, bookings of
one slot are called in check-in order, and the statistics count the wait
from the later of slot and arrival. Times are relative to the test clock's
next open day, so the tests hold on any date."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis

from queue_server import calendar, stats
from queue_server.api_staff import counter_board
from queue_server.bookings import Bookings
from queue_server.engine import Engine
from queue_server.office_config import Office
from tests.conftest import ManualClock

OFFICE = "orderoffice"


def office(**booking: object) -> Office:
    return Office.model_validate({
        "id": OFFICE,
        "names": {"ja": "順番テスト区役所"},
        "booking": {"max_active_per_phone": 20, "per_ip_per_hour": 1000, **booking},
        "services": [
            {"id": "mynumber", "names": {"ja": "マイナンバーカード"}, "letter": "C",
             "expected_minutes": 15, "bookable": True, "slot_minutes": 30, "slot_capacity": 8},
            {"id": "shomei", "names": {"ja": "証明書"}, "letter": "A", "expected_minutes": 5},
        ],
        "counters": [{"id": "1", "names": {"ja": "1番窓口"}, "services": ["mynumber", "shomei"],
                      "order": "due"}],
    })


async def setup(redis: Redis, tenant: str, clock: ManualClock, **booking: object
                ) -> tuple[Bookings, datetime]:
    """Bookings of a fresh office, and the second slot of the next open day
    after the clock's today (so a booking can be made now)."""
    cfg = office(**booking)
    engine = Engine(redis, tenant, clock=clock)
    await engine.configure(cfg)
    today = datetime.fromtimestamp(clock(), ZoneInfo(cfg.timezone)).date()
    day = next(d for d in (today + timedelta(days=i) for i in range(1, 15))
               if calendar.day(cfg, d).open)
    free = await Bookings(engine, b"s").availability(OFFICE, "mynumber", day)
    return Bookings(engine, b"s"), datetime.fromisoformat(free["slots"][1]["start"])


def phone(i: int) -> str:
    return f"090{30_000_000 + i:08d}"


async def called(engine: Engine) -> str | None:
    t = await engine.call_next(OFFICE, "1")
    return None if t is None else t["number"]


async def test_early_booking_waits_for_its_slot(redis: Redis, tenant: str,
                                                clock: ManualClock) -> None:
    bookings, slot = await setup(redis, tenant, clock)
    engine = bookings.engine
    await bookings.book(OFFICE, "mynumber", slot, phone(1))
    clock.now = slot.timestamp() - 10 * 60
    ticket = await bookings.check_in(OFFICE, phone=phone(1))
    await engine.set_counter_state(OFFICE, "1", "open")
    # Nobody else waits, the counter is free: still not before the slot.
    assert await called(engine) is None
    view = await engine.ticket(ticket["id"])
    assert view["ahead"] == 0 and view["estimated_wait_minutes"] >= 10
    # The line the clerk sees still shows the booking, as the next one.
    board = await counter_board(engine, OFFICE, "1")
    assert [t["number"] for t in board["queue"]] == [ticket["number"]]
    assert datetime.fromisoformat(board["queue"][0]["callable_from"]) == slot
    # A walk-in arriving meanwhile is called before the slot.
    clock.advance(60)
    walk_in = await engine.issue_ticket(OFFICE, "shomei")
    # Someone joining the booking's service now is not behind it.
    status = await engine.status(OFFICE)
    mynumber = next(s for s in status["services"] if s["id"] == "mynumber")
    # Behind the shōmei walk-in who came a moment before (5 min, the forecast
    # runs the counter's "due" order), not behind the booking due in 9.
    assert mynumber["waiting"] == 1 and mynumber["estimated_wait_minutes"] == 5
    board = await counter_board(engine, OFFICE, "1")
    assert [t["number"] for t in board["queue"]] == [walk_in["number"], ticket["number"]]
    assert [t["callable_from"] is None for t in board["queue"]] == [True, False]
    clock.advance(60)
    assert await called(engine) == walk_in["number"]
    clock.now = slot.timestamp() - 1
    assert await called(engine) is None
    clock.now = slot.timestamp()
    assert (await counter_board(engine, OFFICE, "1"))["queue"][0]["callable_from"] is None
    assert await called(engine) == ticket["number"]


async def test_office_may_call_early_bookings_when_a_counter_is_free(
    redis: Redis, tenant: str, clock: ManualClock
) -> None:
    bookings, slot = await setup(redis, tenant, clock, early_call="when_free")
    engine = bookings.engine
    await bookings.book(OFFICE, "mynumber", slot, phone(1))
    clock.now = slot.timestamp() - 10 * 60
    ticket = await bookings.check_in(OFFICE, phone=phone(1))
    await engine.set_counter_state(OFFICE, "1", "open")
    clock.advance(60)
    walk_in = await engine.issue_ticket(OFFICE, "shomei")
    # Earlier due first, then the early booking at once.
    assert await called(engine) == walk_in["number"]
    assert await called(engine) == ticket["number"]


async def test_bookings_of_one_slot_are_called_in_check_in_order(
    redis: Redis, tenant: str, clock: ManualClock
) -> None:
    bookings, slot = await setup(redis, tenant, clock)
    engine = bookings.engine
    for i in range(6):
        await bookings.book(OFFICE, "mynumber", slot, phone(i))
    clock.now = slot.timestamp() - 5 * 60
    numbers = []
    for i in (3, 0, 5, 1, 4, 2):  # check-in order differs from booking order
        clock.advance(0.2)
        numbers.append((await bookings.check_in(OFFICE, phone=phone(i)))["number"])
    assert numbers == [f"C-{n:03d}" for n in range(1, 7)]
    clock.now = slot.timestamp()
    board = await counter_board(engine, OFFICE, "1")
    assert [t["number"] for t in board["queue"]] == numbers
    await engine.set_counter_state(OFFICE, "1", "open")
    assert [await called(engine) for _ in range(6)] == numbers


async def test_booking_wait_counts_from_arrival_when_later_than_the_slot(
    redis: Redis, tenant: str, clock: ManualClock
) -> None:
    bookings, slot = await setup(redis, tenant, clock)
    engine = bookings.engine
    await bookings.book(OFFICE, "mynumber", slot, phone(1))
    await bookings.book(OFFICE, "mynumber", slot, phone(2))
    clock.now = slot.timestamp() - 10 * 60
    await bookings.check_in(OFFICE, phone=phone(1))  # early: waits from the slot
    clock.now = slot.timestamp() + 4 * 60  # within the grace: keeps the slot's place
    late = await bookings.check_in(OFFICE, phone=phone(2))
    assert datetime.fromisoformat(late["due_at"]) == slot
    await engine.set_counter_state(OFFICE, "1", "open")
    clock.now = slot.timestamp() + 6 * 60
    first = await engine.call_next(OFFICE, "1")
    clock.now = slot.timestamp() + 10 * 60
    second = await engine.call_next(OFFICE, "1")
    assert first and second and second["id"] == late["id"]
    day: date = slot.date()
    waits = [v.wait_minutes for v in await stats.visits(engine, OFFICE, day, day)]
    assert waits == pytest.approx([6.0, 6.0])  # the late one from its arrival, not 10
