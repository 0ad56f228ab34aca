"""The scheduled side of bookings: the day-before reminder, "near" / "come
now" SMS for today's remote tickets, the retention purge, and why a day
cannot be booked. Real Redis; the clock is moved by hand."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from redis.asyncio import Redis

from queue_server import stats
from queue_server.bookings import Bookings
from queue_server.engine import Engine
from queue_server.errors import MadoguchiError
from queue_server.sms_outbox import SmsOutbox, render
from tests.conftest import ManualClock
from tests.test_bookings import MOBILE, OFFICE, at, booking_office


def _stamp(y: int, mo: int, d: int, h: int, mi: int = 0) -> float:
    return at(y, mo, d, h, mi).timestamp()


@pytest.fixture
async def engine(redis: Redis, clean_tenant: str, clock: ManualClock) -> Engine:
    eng = Engine(redis, clean_tenant, clock=clock)
    await eng.configure(booking_office())
    return eng


@pytest.fixture
def outbox(redis: Redis, clean_tenant: str, clock: ManualClock) -> SmsOutbox:
    return SmsOutbox(redis, clean_tenant, clock=clock)


@pytest.fixture
def bookings(engine: Engine, outbox: SmsOutbox) -> Bookings:
    return Bookings(engine, b"test-secret", outbox)


async def kinds_due(outbox: SmsOutbox) -> list[str]:
    """Kinds of the messages due now, each then reported sent."""
    claimed = await outbox.claim(OFFICE, 50)
    for m in claimed:
        await outbox.sent(OFFICE, m.id, f"SM{m.id}", m.attempt)
    return sorted(m.kind for m in claimed)


# -- reminders ----------------------------------------------------------------


async def test_reminder_goes_out_the_day_before_exactly_once(
    bookings: Bookings, outbox: SmsOutbox, redis: Redis, clean_tenant: str, clock: ManualClock
) -> None:
    booked = await bookings.book(OFFICE, "mynumber", at(2026, 12, 1, 9), MOBILE, lang="en")
    assert await kinds_due(outbox) == ["confirmation"]
    clock.now = _stamp(2026, 11, 30, 9, 59)
    assert await kinds_due(outbox) == []
    clock.now = _stamp(2026, 11, 30, 10, 0)
    # Two senders (two server processes) reach for it at the same moment.
    other = SmsOutbox(redis, clean_tenant, clock=clock)
    got = await asyncio.gather(outbox.claim(OFFICE, 50), other.claim(OFFICE, 50))
    claimed = [m for batch in got for m in batch]
    assert [m.kind for m in claimed] == ["reminder"]
    reminder = claimed[0]
    assert reminder.ref == booked.booking["id"] and reminder.lang == "en"
    text = render("reminder", "en", {**reminder.params, "office": "Test"},
                  base_url="https://example.jp")
    assert f"https://example.jp/b/{booked.token}" in text and "9:00" in text


async def test_no_reminder_once_its_moment_has_passed_or_when_off(
    engine: Engine, bookings: Bookings, outbox: SmsOutbox, clock: ManualClock
) -> None:
    clock.now = _stamp(2026, 11, 30, 12, 0)  # booked after 10:00 the day before
    await bookings.book(OFFICE, "mynumber", at(2026, 12, 1, 9), MOBILE)
    await engine.configure(booking_office(reminder_time=None))
    await bookings.book(OFFICE, "mynumber", at(2026, 12, 2, 9), "080-1111-2222")
    assert [m["kind"] for m in await outbox.list(OFFICE)] == ["confirmation"] * 2


async def test_cancelling_withdraws_the_reminder(
    bookings: Bookings, outbox: SmsOutbox, clock: ManualClock
) -> None:
    booked = await bookings.book(OFFICE, "mynumber", at(2026, 12, 1, 9), MOBILE)
    await bookings.cancel(booked.token)
    clock.now = _stamp(2026, 11, 30, 10, 0)
    assert await kinds_due(outbox) == ["cancellation", "confirmation"]


# -- today's virtual queue: "near" and "come now" -------------------------------


async def test_remote_ticket_is_told_when_near_and_when_to_come(
    engine: Engine, bookings: Bookings, outbox: SmsOutbox, redis: Redis, clock: ManualClock
) -> None:
    # One counter serves both services and only shomei (5 min) waits: the
    # forecast gives each person ahead 5 minutes; near at 20, come now at 5.
    await engine.set_counter_state(OFFICE, "1", "open")
    for _ in range(4):
        await engine.issue_ticket(OFFICE, "shomei")
        clock.advance(1)
    remote = await bookings.join_queue(OFFICE, "shomei", "ko", phone=MOBILE)
    assert (remote["state"], remote["sms"]) == ("remote", "on")
    assert "phone" not in remote and "+81" not in str(remote)
    ticket_key = engine.keys(OFFICE).k(f"t:{remote['id']}")
    assert await redis.hget(ticket_key, "phone") == b"+819012345678"

    told = []
    for _ in range(4):  # 4, 3, 2, 1 ahead, then 0
        told.append(await bookings.notify_remote(OFFICE))
        await engine.call_next(OFFICE, "1")
    told.append(await bookings.notify_remote(OFFICE))
    told.append(await bookings.notify_remote(OFFICE))  # nothing twice
    flags = [(t["near"], t["come_now"]) for t in told]
    # Each once, "near" first (4 ahead with the counter free is 15 minutes:
    # near at once), "come now" once the wait is down to 5 minutes.
    assert sum(n for n, _ in flags) == 1 and sum(c for _, c in flags) == 1, flags
    assert flags.index((1, 0)) < flags.index((0, 1)) and flags[-1] == (0, 0), flags
    messages = {m.kind: m for m in await outbox.claim(OFFICE, 50)}
    assert set(messages) == {"near", "come_now"}
    near = messages["near"]
    assert (near.to, near.lang, near.ref, near.params["ahead"]) == (
        "+819012345678", "ko", remote["id"], 4 - flags.index((1, 0)))
    text = render("come_now", "ko", {**messages["come_now"].params, "office": "X"},
                  base_url="https://example.jp")
    assert f"https://example.jp/t/{remote['id']}" in text and remote["number"] in text

    # Arrival ends the messages and drops the number at once.
    code, _ = bookings.presence_code(OFFICE)
    await bookings.arrive(remote["id"], code)
    assert await redis.hget(ticket_key, "phone") is None
    assert await redis.zcard(engine.keys(OFFICE).k("rq")) == 0


async def test_concurrent_notifiers_queue_one_message(
    engine: Engine, bookings: Bookings, outbox: SmsOutbox, clock: ManualClock
) -> None:
    await engine.set_counter_state(OFFICE, "1", "open")
    await engine.issue_ticket(OFFICE, "shomei")
    clock.advance(1)
    await bookings.join_queue(OFFICE, "shomei", phone=MOBILE)  # 1 ahead: told at once
    twins = [Bookings(engine, b"test-secret", outbox) for _ in range(8)]
    results = await asyncio.gather(*(b.notify_remote(OFFICE) for b in twins))
    assert sum(r["near"] + r["come_now"] for r in results) == 1
    assert len(await kinds_due(outbox)) == 1


async def test_no_sms_without_mobile_or_without_sms(engine: Engine, bookings: Bookings,
                                                  redis: Redis) -> None:
    landline = await bookings.join_queue(OFFICE, "shomei", phone="093-582-2111")
    assert landline["sms"] == "not_mobile"
    quiet = await Bookings(engine, b"s").join_queue(OFFICE, "shomei", phone=MOBILE)
    assert quiet["sms"] == "disabled"
    anonymous = await bookings.join_queue(OFFICE, "shomei")
    assert anonymous["sms"] == "none"
    for t in (landline, quiet, anonymous):
        assert await redis.hget(engine.keys(OFFICE).k(f"t:{t['id']}"), "phone") is None


# -- retention ---------------------------------------------------------------


async def test_retention_job_deletes_personal_data_and_keeps_statistics(
    engine: Engine, redis: Redis, clean_tenant: str, clock: ManualClock, outbox: SmsOutbox
) -> None:
    await engine.configure(booking_office(retention_days=2))
    bookings = Bookings(engine, b"test-secret", outbox)
    booked = await bookings.book(OFFICE, "mynumber", at(2026, 11, 30, 9), MOBILE,
                                 name="山田花子")
    cancelled = await bookings.book(OFFICE, "mynumber", at(2026, 11, 30, 10), "080-7777-6666",
                                    name="李 明")
    await bookings.cancel(cancelled.token)
    clock.now = _stamp(2026, 11, 30, 9, 1)
    await bookings.check_in(OFFICE, phone=MOBILE)
    personal = ("9012345678", "山田花子", "8077776666", "李 明", booked.token, cancelled.token)

    async def office_values() -> str:
        """Every key name and value of the office, as text."""
        parts: list[bytes] = []
        async for key in redis.scan_iter(match=f"mg:{{{clean_tenant}:{OFFICE}}}:*"):
            parts.append(key)
            kind = (await redis.type(key)).decode()
            if kind == "hash":
                parts += [x for kv in (await redis.hgetall(key)).items() for x in kv]
            elif kind == "string":
                parts.append(await redis.get(key) or b"")
            elif kind == "set":
                parts += list(await redis.smembers(key))
            elif kind == "zset":
                parts += await redis.zrange(key, 0, -1)
            elif kind == "stream":
                parts += [v for _, fields in await redis.xrange(key) for v in fields.values()]
        return "\n".join(p.decode(errors="replace") for p in parts)

    before = await office_values()
    assert "9012345678" in before  # stored while needed
    clock.now = _stamp(2026, 12, 2, 9, 29)  # slot end + 2 days is 12/2 9:30
    assert await bookings.purge(OFFICE) == 0
    clock.now = _stamp(2026, 12, 2, 10, 31)
    assert await bookings.purge(OFFICE) == 2
    for token in (booked.token, cancelled.token):  # the SMS link now says so plainly
        with pytest.raises(MadoguchiError) as gone:
            await bookings.view(token)
        assert gone.value.code == "unknown_booking" and gone.value.status == 404
    after = await office_values()
    for item in personal:
        assert item not in after
    # Statistics stay (the visit records and the event stream), without
    # personal data: the checked-in booking is still counted as booked.
    (visit,) = await stats.visits(engine, OFFICE, date(2026, 11, 30), date(2026, 11, 30))
    assert visit.booked and visit.channel == "online"
    events = await redis.xrange(engine.keys(OFFICE).events)
    types = [e[1][b"type"] for e in events]
    assert types.count(b"booking.created") == 2 and b"booking.checked_in" in types
    assert await bookings.purge(OFFICE) == 0


# -- why a day cannot be booked ------------------------------------------------------


async def test_availability_says_why_a_day_is_not_bookable(
    engine: Engine, bookings: Bookings, clock: ManualClock
) -> None:
    office = booking_office()
    office.services[0].same_day_booking = False
    office.services[0].booking_horizon_days = 31
    office.hours.overrides[date(2026, 12, 1)] = type(office.hours.weekly[1])(
        open="09:00", close="09:30")
    await engine.configure(office)
    for phone in (MOBILE, "080-1111-2222"):  # capacity 2: the only slot is full
        await bookings.book(OFFICE, "mynumber", at(2026, 12, 1, 9), phone)
    days = [d for start, end in ((date(2026, 11, 27), date(2026, 12, 10)),
                                 (date(2026, 12, 11), date(2026, 12, 29)))
            for d in (await bookings.availability_range(OFFICE, "mynumber", start, end))["days"]]
    reasons = {d["date"]: (d["bookable"], d["reason"]) for d in days}
    assert reasons["2026-11-27"] == (False, "same_day_not_allowed")
    assert reasons["2026-11-28"] == (False, "closed")  # Saturday
    assert reasons["2026-11-30"] == (True, None)
    assert reasons["2026-12-01"] == (False, "full")
    assert reasons["2026-12-28"] == (True, None)
    assert reasons["2026-12-29"] == (False, "closed")  # 年末年始
    clock.now = _stamp(2026, 11, 27, 17, 0)
    office.services[0].same_day_booking = True
    office.services[0].booking_horizon_days = 3
    await engine.configure(office)
    got = await bookings.availability_range(OFFICE, "mynumber", date(2026, 11, 27),
                                            date(2026, 12, 2))
    reasons = {d["date"]: d["reason"] for d in got["days"]}
    assert reasons["2026-11-27"] == "too_soon"  # closing time: nothing left today
    assert reasons["2026-11-30"] is None
    assert reasons["2026-12-01"] == "beyond_horizon"


# -- changing a booking -------------------------------------------------------------


async def free_at(bookings: Bookings, d: date, hhmm: str) -> int:
    day = await bookings.availability(OFFICE, "mynumber", d)
    return int(next(s["free"] for s in day["slots"] if s["start"][11:16] == hhmm))


async def test_change_moves_the_seat_the_lists_and_the_reminder(
    bookings: Bookings, outbox: SmsOutbox, clock: ManualClock
) -> None:
    booked = await bookings.book(OFFICE, "mynumber", at(2026, 12, 1, 9), MOBILE)
    changed = await bookings.change(booked.token, at(2026, 12, 2, 9, 30))
    assert changed["slot_start"].startswith("2026-12-02T09:30") and changed["sms"] == "queued"
    assert changed["id"] == booked.booking["id"] and changed["code"] == booked.booking["code"]
    assert await free_at(bookings, date(2026, 12, 1), "09:00") == 2
    assert await free_at(bookings, date(2026, 12, 2), "09:30") == 1
    assert await bookings.of_day(OFFICE, date(2026, 12, 1)) == []
    assert [b["id"] for b in await bookings.of_day(OFFICE, date(2026, 12, 2))] == [changed["id"]]
    assert await kinds_due(outbox) == ["confirmation", "confirmation"]
    clock.now = _stamp(2026, 11, 30, 10, 0)  # the old reminder's moment: withdrawn
    assert await kinds_due(outbox) == []
    clock.now = _stamp(2026, 12, 1, 10, 0)
    (reminder,) = await outbox.claim(OFFICE, 10)
    assert reminder.kind == "reminder" and reminder.params["slot"].startswith("2026-12-02T09:30")
    # Checked in at the new time.
    clock.now = _stamp(2026, 12, 2, 9, 25)
    ticket = await bookings.check_in(OFFICE, phone=MOBILE)
    assert ticket["due_at"].startswith("2026-12-02T09:30")


async def test_change_refusals_leave_the_booking_as_it_was(bookings: Bookings) -> None:
    booked = await bookings.book(OFFICE, "mynumber", at(2026, 12, 1, 9), MOBILE)
    for phone in ("080-1111-2222", "080-3333-4444"):
        await bookings.book(OFFICE, "mynumber", at(2026, 12, 3, 9), phone)
    for slot, code in ((at(2026, 12, 3, 9), "slot_full"), (at(2026, 12, 1, 9), "same_slot"),
                       (at(2026, 12, 5, 9), "office_closed"),  # Saturday
                       (at(2026, 12, 1, 9, 10), "slot_unavailable"),
                       (at(2026, 11, 27, 9), "slot_unavailable")):  # the past
        with pytest.raises(MadoguchiError) as refused:
            await bookings.change(booked.token, slot)
        assert refused.value.code == code, slot
    view = await bookings.view(booked.token)
    assert view["slot_start"].startswith("2026-12-01T09:00") and view["status"] == "booked"
    assert await free_at(bookings, date(2026, 12, 1), "09:00") == 1
    assert await free_at(bookings, date(2026, 12, 3), "09:00") == 0
    await bookings.cancel(booked.token)
    with pytest.raises(MadoguchiError) as refused:
        await bookings.change(booked.token, at(2026, 12, 2, 9))
    assert refused.value.code == "booking_not_active"


async def test_concurrent_changes_into_the_last_seat(bookings: Bookings) -> None:
    await bookings.book(OFFICE, "mynumber", at(2026, 12, 4, 9), "080-9999-0000")
    movers = [await bookings.book(OFFICE, "mynumber", at(2026, 12, 1 + i % 3, 10, 30),
                                  f"090-1234-{i:04d}") for i in range(6)]
    results = await asyncio.gather(*(bookings.change(b.token, at(2026, 12, 4, 9)) for b in movers),
                                   return_exceptions=True)
    moved = [r for r in results if isinstance(r, dict)]
    assert len(moved) == 1
    assert all(isinstance(r, MadoguchiError) and r.code == "slot_full"
               for r in results if not isinstance(r, dict))
    assert await free_at(bookings, date(2026, 12, 4), "09:00") == 0
    # The one that moved freed its old seat; the others kept theirs.
    assert sum([await free_at(bookings, date(2026, 12, d), "10:30") for d in (1, 2, 3)]) == 1


async def test_kiosk_check_in_may_choose_the_ticket_language(
    bookings: Bookings, clock: ManualClock
) -> None:
    await bookings.book(OFFICE, "mynumber", at(2026, 12, 1, 9), MOBILE, lang="ko")
    await bookings.book(OFFICE, "mynumber", at(2026, 12, 1, 9), "080-1111-2222", lang="ko")
    clock.now = _stamp(2026, 12, 1, 8, 50)
    chosen = await bookings.check_in(OFFICE, phone=MOBILE, lang="vi")
    kept = await bookings.check_in(OFFICE, phone="080-1111-2222")
    assert (chosen["lang"], kept["lang"]) == ("vi", "ko")


async def test_reminders_off_survives_the_store(engine: Engine) -> None:
    await engine.configure(booking_office(reminder_time=None))
    engine._offices.clear()  # read back from Redis, not the process cache
    assert (await engine.office(OFFICE)).booking.reminder_time is None


def test_unknown_time_zone_is_a_validation_error() -> None:
    from pydantic import ValidationError

    from queue_server.office_config import Office

    doc = booking_office().model_dump(by_alias=True)
    with pytest.raises(ValidationError) as bad:
        Office.model_validate({**doc, "timezone": "Asia/Kitakyushu"})
    assert "unknown time zone" in str(bad.value)
