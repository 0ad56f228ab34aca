"""The queue rules of DESIGN §5, one behaviour per test, against a real Redis.

The `engine` fixture is configured with `small_office()` (see conftest.py):
shomei (A, max wait 20 min), ido (B, max wait 30 min), okuyami (J, no
walk-in); counters 1:[shomei], 2:[shomei, ido], 3:[ido, shomei],
4:[ido, shomei] order="due", 5:[okuyami]; all start closed. Queue settings:
max_recalls=1, rejoin_minutes=10, priority_minutes=15.

Every issue advances the manual clock by a second, so no two tickets share a
due_at (equal scores would be ordered by the random id)."""

from __future__ import annotations

import json
from collections.abc import Awaitable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from queue_server.engine import Engine
from queue_server.errors import MadoguchiError
from tests.conftest import START, ManualClock

OFFICE = "testoffice"
JST = ZoneInfo("Asia/Tokyo")
MIN = 60


# -- helpers ---------------------------------------------------------------


async def open_counters(engine: Engine, *counters: str) -> None:
    for cid in counters:
        await engine.set_counter_state(OFFICE, cid, "open")


async def issue(
    engine: Engine, clock: ManualClock, service: str = "shomei", after: float = 1, **kw: Any
) -> dict[str, Any]:
    """Issue a ticket, then move the clock on so the next one is younger."""
    ticket = await engine.issue_ticket(OFFICE, service, **kw)
    clock.advance(after)
    return ticket


async def fails(code: str, action: Awaitable[Any]) -> MadoguchiError:
    with pytest.raises(MadoguchiError) as info:
        await action
    assert info.value.code == code, f"expected {code}, got {info.value.code}"
    return info.value


async def events(engine: Engine) -> list[dict[str, Any]]:
    """The office's event stream, decoded: id, type, tid and parsed data."""
    out = []
    for eid, fields in await engine.redis.xrange(engine.keys(OFFICE).events):
        f = {k.decode(): v.decode() for k, v in fields.items()}
        out.append(
            {
                "id": eid.decode(),
                "type": f["type"],
                "tid": f["tid"],
                "raw": f["data"],
                "data": json.loads(f["data"]),
            }
        )
    return out


async def xlen(engine: Engine) -> int:
    return await engine.redis.xlen(engine.keys(OFFICE).events)


async def snapshot(engine: Engine) -> dict[bytes, Any]:
    """Every key of the office with its full content: an invalid transition
    must leave all of it exactly as it was."""
    r = engine.redis
    out: dict[bytes, Any] = {}
    async for key in r.scan_iter(match=engine.keys(OFFICE).prefix + "*", count=1000):
        kind = (await r.type(key)).decode()
        if kind == "hash":
            value: Any = await r.hgetall(key)
        elif kind == "zset":
            value = await r.zrange(key, 0, -1, withscores=True)
        elif kind == "set":
            value = sorted(await r.smembers(key))
        elif kind == "list":
            value = await r.lrange(key, 0, -1)
        elif kind == "string":
            value = await r.get(key)
        elif kind == "stream":
            value = (await r.xlen(key), await r.xrevrange(key, count=1))
        else:  # pragma: no cover - a new key type would need handling here
            raise AssertionError(f"unexpected key type {kind} for {key!r}")
        out[key] = (kind, value)
    assert out, "snapshot found no keys: the key prefix is wrong"
    return out


def jst(*args: int) -> float:
    return datetime(*args, tzinfo=JST).timestamp()  # type: ignore[misc]


# -- numbering ---------------------------------------------------------------


async def test_numbers_are_letter_and_three_digits_per_service(
    engine: Engine, clock: ManualClock
) -> None:
    numbers = [
        (await issue(engine, clock, s))["number"]
        for s in ("shomei", "shomei", "ido", "shomei", "ido")
    ]
    assert numbers == ["A-001", "A-002", "B-001", "A-003", "B-002"]
    j = [(await engine.issue_ticket(OFFICE, "okuyami", walk_in=False))["number"] for _ in "12"]
    assert j == ["J-001", "J-002"]


async def test_numbers_reset_at_midnight_in_tokyo_not_utc(
    engine: Engine, clock: ManualClock
) -> None:
    assert (await issue(engine, clock, "shomei"))["number"] == "A-001"  # 27th 10:00 JST
    assert (await issue(engine, clock, "ido"))["number"] == "B-001"
    clock.now = jst(2026, 11, 27, 23, 59, 58)  # 14:59 UTC, same JST day
    assert (await issue(engine, clock, "shomei"))["number"] == "A-002"
    # 00:00:01 JST on the 28th is still 15:00 UTC on the 27th: a new JST day.
    clock.now = jst(2026, 11, 28, 0, 0, 1)
    t = await issue(engine, clock, "shomei")
    assert t["number"] == "A-001"
    assert t["issued_at"].startswith("2026-11-28T00:00:01")
    assert (await issue(engine, clock, "ido"))["number"] == "B-001"
    # 09:30 JST on the 28th is a new UTC day but the same JST day: no reset.
    clock.now = jst(2026, 11, 28, 9, 30)
    assert (await issue(engine, clock, "shomei"))["number"] == "A-002"


async def test_numbers_wrap_after_999(engine: Engine, clock: ManualClock) -> None:
    seq = engine.keys(OFFICE).seq("shomei", "20261127")
    await engine.redis.set(seq, 998)
    assert (await issue(engine, clock))["number"] == "A-999"
    assert (await issue(engine, clock))["number"] == "A-001"
    assert (await issue(engine, clock))["number"] == "A-002"
    assert (await issue(engine, clock, "ido"))["number"] == "B-001"


async def test_refused_issue_uses_no_number(engine: Engine, clock: ManualClock) -> None:
    await fails("walk_in_not_allowed", engine.issue_ticket(OFFICE, "okuyami"))
    assert (await engine.issue_ticket(OFFICE, "okuyami", walk_in=False))["number"] == "J-001"


async def test_tickets_left_from_an_earlier_day_are_cancelled_not_called(
    engine: Engine, clock: ManualClock
) -> None:
    old = await issue(engine, clock)  # Friday 10:00, never called
    clock.now = jst(2026, 11, 28, 9, 0)  # next business morning
    today = await issue(engine, clock)
    assert (old["number"], today["number"]) == ("A-001", "A-001")
    await open_counters(engine, "1")
    before = await xlen(engine)
    assert (await engine.call_next(OFFICE, "1"))["id"] == today["id"]
    assert (await engine.ticket(old["id"]))["state"] == "cancelled"
    new = (await events(engine))[before:]
    assert [(e["type"], e["tid"]) for e in new] == [
        ("ticket.cancelled", old["id"]),
        ("ticket.called", today["id"]),
    ]
    assert new[0]["data"]["reason"] == "day_ended"
    assert await engine.call_next(OFFICE, "1") is None


async def test_tickets_from_the_previous_evening_are_not_called_next_morning(
    engine: Engine, clock: ManualClock
) -> None:
    """Extended opening (窓口延長, e.g. Thursdays until 19:00): a ticket left
    waiting at 18:30 belongs to that day like any other; the next morning it
    must not be called (its number is re-issued today)."""
    clock.now = jst(2026, 11, 26, 18, 30)  # Thursday evening
    old = await issue(engine, clock)
    clock.now = jst(2026, 11, 27, 9, 0)
    today = await issue(engine, clock)
    assert (old["number"], today["number"]) == ("A-001", "A-001")
    await open_counters(engine, "1")
    called = await engine.call_next(OFFICE, "1")
    assert called["id"] == today["id"], (
        "ENGINE BUG: call_next.lua treats only tickets scored more than 6 h before "
        "today's midnight as stale (`stale_before = ARGV[7] - 6h`), so yesterday's "
        "18:30 ticket A-001 is called (as overdue) next morning instead of being "
        "cancelled with reason day_ended"
    )
    assert (await engine.ticket(old["id"]))["state"] == "cancelled"


# -- call next ---------------------------------------------------------------


async def test_call_next_is_fifo_within_a_service(engine: Engine, clock: ManualClock) -> None:
    tickets = [await issue(engine, clock, after=MIN) for _ in range(4)]
    await open_counters(engine, "1")
    for t in tickets:
        called = await engine.call_next(OFFICE, "1")
        assert called is not None
        assert called["id"] == t["id"]
        assert called["state"] == "called"
        assert called["counter"] == {"id": "1", "name": "1番窓口"}
    assert await engine.call_next(OFFICE, "1") is None


async def test_counter_service_priority_order(engine: Engine, clock: ManualClock) -> None:
    b1 = await issue(engine, clock, "ido", after=MIN)  # older
    a1 = await issue(engine, clock, "shomei", after=MIN)
    a2 = await issue(engine, clock, "shomei", after=MIN)
    await open_counters(engine, "2", "3")
    # Counter 2 serves shomei first: the younger shomei ticket beats the older ido.
    assert (await engine.call_next(OFFICE, "2"))["id"] == a1["id"]
    # Counter 3 serves ido first.
    assert (await engine.call_next(OFFICE, "3"))["id"] == b1["id"]
    assert (await engine.call_next(OFFICE, "3"))["id"] == a2["id"]
    assert await engine.call_next(OFFICE, "2") is None


async def test_due_order_counter_takes_oldest_across_services(
    engine: Engine, clock: ManualClock
) -> None:
    a1 = await issue(engine, clock, "shomei", after=MIN)
    b1 = await issue(engine, clock, "ido", after=MIN)
    a2 = await issue(engine, clock, "shomei", after=MIN)
    await open_counters(engine, "4")
    # Counter 4 lists ido first but orders by due_at.
    assert [(await engine.call_next(OFFICE, "4"))["id"] for _ in range(3)] == [
        a1["id"],
        b1["id"],
        a2["id"],
    ]


async def test_due_order_ties_follow_the_service_list(engine: Engine, clock: ManualClock) -> None:
    a = await engine.issue_ticket(OFFICE, "shomei")
    b = await engine.issue_ticket(OFFICE, "ido")  # same instant
    await open_counters(engine, "4")
    assert (await engine.call_next(OFFICE, "4"))["id"] == b["id"]  # ido is first in the list
    assert (await engine.call_next(OFFICE, "4"))["id"] == a["id"]


async def test_priority_counter_contrasted_with_due_counter(
    engine: Engine, clock: ManualClock
) -> None:
    """Counters 3 and 4 serve the same services in the same order; only the
    order setting differs."""
    a1 = await issue(engine, clock, "shomei", after=MIN)
    b1 = await issue(engine, clock, "ido", after=MIN)
    await open_counters(engine, "3")
    assert (await engine.call_next(OFFICE, "3"))["id"] == b1["id"]
    assert (await engine.call_next(OFFICE, "3"))["id"] == a1["id"]


async def test_max_wait_not_reached_keeps_priority_order(
    engine: Engine, clock: ManualClock
) -> None:
    b1 = await issue(engine, clock, "ido", after=29 * MIN)
    a1 = await issue(engine, clock, "shomei")
    await open_counters(engine, "2")
    # ido head has waited 29 min 1 s (< 30): shomei still first.
    assert (await engine.call_next(OFFICE, "2"))["id"] == a1["id"]
    assert (await engine.call_next(OFFICE, "2"))["id"] == b1["id"]


async def test_max_wait_escalation_jumps_the_service_order(
    engine: Engine, clock: ManualClock
) -> None:
    b1 = await issue(engine, clock, "ido", after=29 * MIN)
    a1 = await issue(engine, clock, "shomei", after=1)
    a2 = await issue(engine, clock, "shomei")
    await open_counters(engine, "2")
    assert (await engine.call_next(OFFICE, "2"))["id"] == a1["id"]  # ido at 29:01
    clock.now = START + 30 * MIN  # ido head has now waited exactly 30 min
    assert (await engine.call_next(OFFICE, "2"))["id"] == b1["id"]  # ahead of waiting a2
    assert (await engine.call_next(OFFICE, "2"))["id"] == a2["id"]


@pytest.mark.parametrize(
    ("counter", "first_service", "later_service"),
    [("2", "ido", "shomei"), ("3", "shomei", "ido")],
)
async def test_oldest_overdue_head_wins(
    engine: Engine, clock: ManualClock, counter: str, first_service: str, later_service: str
) -> None:
    """When several service heads are overdue the oldest is called, whatever
    the counter's list order."""
    old = await issue(engine, clock, first_service, after=5 * MIN)
    await issue(engine, clock, later_service)
    clock.now = START + 40 * MIN  # both overdue (ido >= 30, shomei >= 20)
    await open_counters(engine, counter)
    assert (await engine.call_next(OFFICE, counter))["id"] == old["id"]


async def test_priority_ticket_goes_ahead_of_recent_tickets(
    engine: Engine, clock: ManualClock
) -> None:
    n1 = await issue(engine, clock, after=14 * MIN)
    p = await issue(engine, clock, priority=True)
    n2 = await issue(engine, clock)
    assert p["priority"] is True and n1["priority"] is False
    # The head start moves the place in line, not the real times.
    assert p["due_at"] == p["issued_at"]
    assert (await engine.ticket(n1["id"]))["ahead"] == 1
    assert (await engine.ticket(p["id"]))["ahead"] == 0
    await open_counters(engine, "1")
    assert [(await engine.call_next(OFFICE, "1"))["id"] for _ in range(3)] == [
        p["id"],
        n1["id"],
        n2["id"],
    ]


async def test_priority_ticket_not_ahead_of_tickets_older_than_head_start(
    engine: Engine, clock: ManualClock
) -> None:
    n1 = await issue(engine, clock, after=16 * MIN)
    p = await issue(engine, clock, priority=True)
    n2 = await issue(engine, clock)
    await open_counters(engine, "1")
    assert [(await engine.call_next(OFFICE, "1"))["id"] for _ in range(3)] == [
        n1["id"],
        p["id"],
        n2["id"],
    ]


async def test_call_next_finishes_the_ticket_at_the_counter(
    engine: Engine, clock: ManualClock
) -> None:
    a1 = await issue(engine, clock)
    a2 = await issue(engine, clock)
    await open_counters(engine, "1")
    await engine.call_next(OFFICE, "1")
    await engine.start(OFFICE, "1")
    before = await xlen(engine)
    called = await engine.call_next(OFFICE, "1")
    assert called["id"] == a2["id"]
    done = await engine.ticket(a1["id"])
    assert done["state"] == "done" and done["done_at"] is not None
    new = (await events(engine))[before:]
    assert [(e["type"], e["tid"]) for e in new] == [
        ("ticket.done", a1["id"]),
        ("ticket.called", a2["id"]),
    ]


async def test_call_next_with_nobody_waiting(engine: Engine, clock: ManualClock) -> None:
    await open_counters(engine, "1")
    length = await xlen(engine)
    assert await engine.call_next(OFFICE, "1") is None
    assert await xlen(engine) == length  # nothing happened, nothing announced
    a1 = await issue(engine, clock)
    await engine.call_next(OFFICE, "1")
    # Nobody left: the ticket at the counter is finished and the counter is free.
    length = await xlen(engine)
    assert await engine.call_next(OFFICE, "1") is None
    assert [(e["type"], e["tid"]) for e in (await events(engine))[length:]] == [
        ("ticket.done", a1["id"])
    ]
    assert (await engine.ticket(a1["id"]))["state"] == "done"
    board = await engine.status(OFFICE)
    assert next(c for c in board["counters"] if c["id"] == "1")["ticket"] is None
    await fails("no_current_ticket", engine.finish(OFFICE, "1"))


async def test_a_called_ticket_is_not_called_again_by_another_counter(
    engine: Engine, clock: ManualClock
) -> None:
    a1 = await issue(engine, clock)
    await open_counters(engine, "1", "2")
    assert (await engine.call_next(OFFICE, "1"))["id"] == a1["id"]
    assert await engine.call_next(OFFICE, "2") is None
    assert (await engine.ticket(a1["id"]))["counter"]["id"] == "1"


async def test_remote_tickets_are_never_called(engine: Engine, clock: ManualClock) -> None:
    r = await issue(engine, clock, remote=True, after=MIN)
    a = await issue(engine, clock)
    assert r["state"] == "remote" and r["number"] == "A-001"
    assert a["number"] == "A-002"
    # Its place is kept: nobody ahead of it; no counter open yet: no estimate.
    assert r["ahead"] == 0 and r["estimated_wait_minutes"] is None
    assert (await engine.ticket(a["id"]))["ahead"] == 0  # the remote one is not in line
    assert (await engine.status(OFFICE))["services"][0]["waiting"] == 1
    await open_counters(engine, "1", "2", "3", "4")
    assert (await engine.call_next(OFFICE, "1"))["id"] == a["id"]
    for cid in ("1", "2", "3", "4"):
        assert await engine.call_next(OFFICE, cid) is None
    assert (await engine.ticket(r["id"]))["state"] == "remote"


# -- recall, no-show, rejoin -----------------------------------------------------


async def test_recall_increments_and_announces(engine: Engine, clock: ManualClock) -> None:
    a1 = await issue(engine, clock)
    await open_counters(engine, "1")
    called = await engine.call_next(OFFICE, "1")
    assert called["recalls"] == 0
    before = await xlen(engine)
    assert (await engine.recall(OFFICE, "1"))["recalls"] == 1
    assert (await engine.recall(OFFICE, "1", expect=a1["id"]))["recalls"] == 2
    new = (await events(engine))[before:]
    assert [e["type"] for e in new] == ["ticket.recalled", "ticket.recalled"]
    assert [e["data"]["recalls"] for e in new] == [1, 2]
    recent = (await engine.status(OFFICE))["recent_calls"]
    assert [c["kind"] for c in recent[:3]] == ["recall", "recall", "call"]
    assert (await engine.ticket(a1["id"]))["state"] == "called"


async def test_no_show_needs_the_configured_recalls(engine: Engine, clock: ManualClock) -> None:
    a1 = await issue(engine, clock)
    await open_counters(engine, "1")
    await engine.call_next(OFFICE, "1")
    before = await snapshot(engine)
    err = await fails("recalls_required", engine.no_show(OFFICE, "1"))
    assert err.details == {"recalls": 0, "required": 1}
    assert await snapshot(engine) == before
    await engine.recall(OFFICE, "1")
    t = await engine.no_show(OFFICE, "1")
    assert t["state"] == "no_show"
    assert (await engine.status(OFFICE))["counters"][0]["ticket"] is None
    await fails("no_current_ticket", engine.finish(OFFICE, "1"))
    assert (await engine.ticket(a1["id"]))["ahead"] is None


async def test_rejoin_within_the_window_keeps_the_original_place(
    engine: Engine, clock: ManualClock
) -> None:
    a1 = await issue(engine, clock, after=MIN)
    a2 = await issue(engine, clock, after=MIN)
    await open_counters(engine, "1")
    await engine.call_next(OFFICE, "1")
    await engine.recall(OFFICE, "1")
    await engine.no_show(OFFICE, "1")
    clock.advance(5 * MIN)
    a3 = await issue(engine, clock)
    clock.advance(4 * MIN + 58)  # 9 min 59 s after the no-show
    back = await engine.rejoin(a1["id"])
    assert back["state"] == "waiting"
    assert back["due_at"] == a1["due_at"]
    assert back["ahead"] == 0
    assert back["recalls"] == 0
    assert [(await engine.call_next(OFFICE, "1"))["id"] for _ in range(3)] == [
        a1["id"],
        a2["id"],
        a3["id"],
    ]


async def test_rejoin_after_the_window_is_refused(engine: Engine, clock: ManualClock) -> None:
    a1 = await issue(engine, clock)
    await open_counters(engine, "1")
    await engine.call_next(OFFICE, "1")
    await engine.recall(OFFICE, "1")
    await engine.no_show(OFFICE, "1")
    clock.advance(10 * MIN + 1)
    before = await snapshot(engine)
    await fails("rejoin_window_passed", engine.rejoin(a1["id"]))
    assert await snapshot(engine) == before
    assert (await engine.ticket(a1["id"]))["state"] == "no_show"


async def test_rejoin_only_after_a_no_show(engine: Engine, clock: ManualClock) -> None:
    a1 = await issue(engine, clock)
    err = await fails("not_no_show", engine.rejoin(a1["id"]))
    assert err.details == {"state": "waiting"}


# -- transfer ------------------------------------------------------------------


async def test_transfer_to_a_service_keeps_due_at(engine: Engine, clock: ManualClock) -> None:
    a1 = await issue(engine, clock, "shomei", after=5 * MIN)
    b1 = await issue(engine, clock, "ido", after=MIN)
    b2 = await issue(engine, clock, "ido", after=MIN)
    await open_counters(engine, "1", "3")
    await engine.call_next(OFFICE, "1")
    before = await xlen(engine)
    moved = await engine.transfer(OFFICE, "1", service="ido", expect=a1["id"])
    assert moved["state"] == "waiting"
    assert moved["service"] == "ido"
    assert moved["number"] == "A-001"  # the citizen keeps the paper ticket
    assert moved["due_at"] == a1["due_at"]
    assert moved["ahead"] == 0
    assert (await engine.ticket(b1["id"]))["ahead"] == 1
    [event] = (await events(engine))[before:]
    assert event["type"] == "ticket.transferred"
    assert event["data"]["from_service"] == "shomei"
    assert event["data"]["ticket"] == {"number": "A-001", "service": "ido"}
    # Counter 1 (shomei) no longer has it, and it is not in shomei's line.
    await fails("no_current_ticket", engine.finish(OFFICE, "1"))
    assert await engine.call_next(OFFICE, "1") is None
    assert [(await engine.call_next(OFFICE, "3"))["id"] for _ in range(3)] == [
        a1["id"],
        b1["id"],
        b2["id"],
    ]


async def test_transfer_to_a_counter_only_that_counter_calls_it_first(
    engine: Engine, clock: ManualClock
) -> None:
    a1 = await issue(engine, clock, after=MIN)
    a2 = await issue(engine, clock, after=MIN)
    await open_counters(engine, "1", "2", "3", "4")
    assert (await engine.call_next(OFFICE, "1"))["id"] == a1["id"]
    moved = await engine.transfer(OFFICE, "1", to_counter="2")
    assert moved["state"] == "waiting"
    assert moved["service"] == "shomei"
    assert moved["target_counter"] == "2"
    assert moved["ahead"] == 0
    # Long-overdue tickets of counter 2's services: still behind the transfer.
    overdue_a = await issue(engine, clock, due_at=clock() - 60 * MIN)
    overdue_b = await issue(engine, clock, "ido", due_at=clock() - 90 * MIN)
    # Other counters never see it.
    assert (await engine.call_next(OFFICE, "3"))["id"] == overdue_b["id"]
    assert (await engine.call_next(OFFICE, "4"))["id"] == overdue_a["id"]
    assert (await engine.call_next(OFFICE, "1"))["id"] == a2["id"]
    a3 = await issue(engine, clock)
    b1 = await issue(engine, clock, "ido")
    assert (await engine.call_next(OFFICE, "2"))["id"] == a1["id"]
    called = await engine.ticket(a1["id"])
    assert called["target_counter"] is None and called["counter"]["id"] == "2"
    assert (await engine.call_next(OFFICE, "2"))["id"] == a3["id"]
    assert (await engine.call_next(OFFICE, "2"))["id"] == b1["id"]


async def test_transfer_needs_a_target(engine: Engine, clock: ManualClock) -> None:
    a1 = await issue(engine, clock)
    await open_counters(engine, "1")
    await engine.call_next(OFFICE, "1")
    before = await snapshot(engine)
    await fails("no_target", engine.transfer(OFFICE, "1"))
    await fails("unknown_service", engine.transfer(OFFICE, "1", service="nope"))
    await fails("unknown_target_counter", engine.transfer(OFFICE, "1", to_counter="99"))
    await fails("unknown_service", engine.transfer(OFFICE, "1", service="nope", to_counter="2"))
    assert await snapshot(engine) == before
    assert (await engine.ticket(a1["id"]))["state"] == "called"


# -- park, resume, cancel ------------------------------------------------------


async def test_park_and_resume_keep_the_place(engine: Engine, clock: ManualClock) -> None:
    a1 = await issue(engine, clock, after=MIN)
    a2 = await issue(engine, clock, after=MIN)
    a3 = await issue(engine, clock, after=MIN)
    await open_counters(engine, "1")
    await engine.call_next(OFFICE, "1")
    parked = await engine.park(OFFICE, "1", expect=a1["id"])
    assert parked["state"] == "parked" and parked["ahead"] is None
    await fails("no_current_ticket", engine.finish(OFFICE, "1"))
    assert (await engine.call_next(OFFICE, "1"))["id"] == a2["id"]
    clock.advance(20 * MIN)
    back = await engine.resume(a1["id"], counter="1")
    assert back["state"] == "waiting"
    assert back["due_at"] == a1["due_at"]
    assert back["ahead"] == 0
    assert (await engine.ticket(a3["id"]))["ahead"] == 1
    assert (await engine.call_next(OFFICE, "1"))["id"] == a1["id"]
    assert (await engine.call_next(OFFICE, "1"))["id"] == a3["id"]
    await fails("not_parked", engine.resume(a1["id"]))


async def test_cancel_removes_a_waiting_ticket_from_the_line(
    engine: Engine, clock: ManualClock
) -> None:
    a1 = await issue(engine, clock)
    a2 = await issue(engine, clock)
    assert (await engine.ticket(a2["id"]))["ahead"] == 1
    gone = await engine.cancel(a1["id"])
    assert gone["state"] == "cancelled" and gone["ahead"] is None
    assert (await engine.ticket(a2["id"]))["ahead"] == 0
    assert (await engine.status(OFFICE))["services"][0]["waiting"] == 1
    await open_counters(engine, "1", "2", "3", "4")
    assert (await engine.call_next(OFFICE, "1"))["id"] == a2["id"]
    for cid in ("2", "3", "4"):
        assert await engine.call_next(OFFICE, cid) is None
    await fails("already_finished", engine.cancel(a1["id"]))


async def test_cancel_finished_or_serving(engine: Engine, clock: ManualClock) -> None:
    a1 = await issue(engine, clock)
    a2 = await issue(engine, clock)
    await open_counters(engine, "1")
    await engine.call_next(OFFICE, "1")
    await engine.finish(OFFICE, "1")
    before = await snapshot(engine)
    err = await fails("already_finished", engine.cancel(a1["id"]))
    assert err.details == {"state": "done"}
    assert await snapshot(engine) == before
    await engine.call_next(OFFICE, "1")
    await engine.start(OFFICE, "1")
    before = await snapshot(engine)
    await fails("in_service", engine.cancel(a2["id"]))
    assert await snapshot(engine) == before
    assert (await engine.ticket(a2["id"]))["state"] == "serving"


async def test_cancel_a_called_ticket_frees_the_counter(engine: Engine, clock: ManualClock) -> None:
    a1 = await issue(engine, clock)
    await open_counters(engine, "1")
    await engine.call_next(OFFICE, "1")
    before = await xlen(engine)
    await engine.cancel(a1["id"])
    [event] = (await events(engine))[before:]
    assert event["type"] == "ticket.cancelled" and event["data"]["counter"]["id"] == "1"
    await fails("no_current_ticket", engine.finish(OFFICE, "1"))
    await engine.set_counter_state(OFFICE, "1", "closed")  # not busy any more


async def test_cancel_parked_no_show_and_transferred_tickets(
    engine: Engine, clock: ManualClock
) -> None:
    parked, noshow, moved = [await issue(engine, clock) for _ in range(3)]
    await open_counters(engine, "1", "2")
    await engine.call_next(OFFICE, "1")
    await engine.park(OFFICE, "1")
    await engine.call_next(OFFICE, "1")
    await engine.recall(OFFICE, "1")
    await engine.no_show(OFFICE, "1")
    await engine.call_next(OFFICE, "1")
    await engine.transfer(OFFICE, "1", to_counter="2")
    for t in (parked, noshow, moved):
        assert (await engine.cancel(t["id"]))["state"] == "cancelled"
    await fails("not_parked", engine.resume(parked["id"]))
    await fails("not_no_show", engine.rejoin(noshow["id"]))
    assert await engine.call_next(OFFICE, "2") is None
    assert await engine.call_next(OFFICE, "1") is None
    keys = engine.keys(OFFICE)
    assert await engine.redis.zcard(keys.parked) == 0
    assert await engine.redis.zcard(keys.noshow) == 0
    assert await engine.redis.zcard(keys.counter_queue("2")) == 0


# -- counters and unknowns -----------------------------------------------------


async def test_call_on_a_closed_or_paused_counter(engine: Engine, clock: ManualClock) -> None:
    a1 = await issue(engine, clock)
    before = await snapshot(engine)
    err = await fails("counter_not_open", engine.call_next(OFFICE, "1"))
    assert err.details == {"state": "closed"}
    assert await snapshot(engine) == before
    assert (await engine.set_counter_state(OFFICE, "1", "paused")) == {
        "counter": "1",
        "state": "paused",
        "previous": "closed",
    }
    before = await snapshot(engine)
    await fails("counter_not_open", engine.call_next(OFFICE, "1"))
    assert await snapshot(engine) == before
    await engine.set_counter_state(OFFICE, "1", "open")
    assert (await engine.call_next(OFFICE, "1"))["id"] == a1["id"]


async def test_close_with_a_ticket_is_refused_pause_keeps_it(
    engine: Engine, clock: ManualClock
) -> None:
    a1 = await issue(engine, clock)
    await open_counters(engine, "1")
    await engine.call_next(OFFICE, "1")
    before = await snapshot(engine)
    await fails("counter_busy", engine.set_counter_state(OFFICE, "1", "closed"))
    assert await snapshot(engine) == before
    await engine.set_counter_state(OFFICE, "1", "paused")
    counter = (await engine.status(OFFICE))["counters"][0]
    assert counter["state"] == "paused" and counter["ticket"]["number"] == "A-001"
    await fails("counter_not_open", engine.call_next(OFFICE, "1"))
    assert (await engine.ticket(a1["id"]))["state"] == "called"
    await engine.finish(OFFICE, "1")
    await engine.set_counter_state(OFFICE, "1", "closed")
    assert (await engine.status(OFFICE))["counters"][0]["state"] == "closed"


async def test_walk_in_refused_for_booking_only_service(engine: Engine, clock: ManualClock) -> None:
    before = await snapshot(engine)
    await fails("walk_in_not_allowed", engine.issue_ticket(OFFICE, "okuyami"))
    assert await snapshot(engine) == before
    j = await engine.issue_ticket(OFFICE, "okuyami", walk_in=False, channel="staff")
    assert j["number"] == "J-001" and j["state"] == "waiting" and j["channel"] == "staff"
    await open_counters(engine, "5")
    assert (await engine.call_next(OFFICE, "5"))["id"] == j["id"]


async def test_unknown_service_counter_office_ticket(engine: Engine, clock: ManualClock) -> None:
    await issue(engine, clock)
    before = await snapshot(engine)
    await fails("unknown_service", engine.issue_ticket(OFFICE, "nope"))
    await fails("unknown_counter", engine.call_next(OFFICE, "99"))
    await fails("unknown_counter", engine.set_counter_state(OFFICE, "99", "open"))
    await fails("unknown_counter", engine.finish(OFFICE, "99"))
    await fails("unknown_office", engine.issue_ticket("nooffice", "shomei"))
    await fails("unknown_office", engine.call_next("nooffice", "1"))
    await fails("unknown_office", engine.status("nooffice"))
    await fails("unknown_ticket", engine.ticket("garbage"))
    await fails("unknown_ticket", engine.ticket(f"{OFFICE}.{'x' * 22}"))
    await fails("unknown_ticket", engine.cancel(f"{OFFICE}.{'x' * 22}"))
    assert await snapshot(engine) == before


# -- invalid transitions change nothing -------------------------------------------


async def test_finish_without_a_ticket_changes_nothing(engine: Engine, clock: ManualClock) -> None:
    a1 = await issue(engine, clock)
    await open_counters(engine, "1")
    before, length = await snapshot(engine), await xlen(engine)
    for action in (engine.finish, engine.start, engine.recall, engine.park, engine.no_show):
        await fails("no_current_ticket", action(OFFICE, "1"))
    await fails("no_current_ticket", engine.transfer(OFFICE, "1", service="ido"))
    assert await xlen(engine) == length
    assert await snapshot(engine) == before
    assert (await engine.ticket(a1["id"]))["state"] == "waiting"


async def test_start_twice(engine: Engine, clock: ManualClock) -> None:
    a1 = await issue(engine, clock)
    await open_counters(engine, "1")
    await engine.call_next(OFFICE, "1")
    started = await engine.start(OFFICE, "1", expect=a1["id"])
    assert started["state"] == "serving" and started["serving_at"] is not None
    before = await snapshot(engine)
    await fails("already_serving", engine.start(OFFICE, "1"))
    await fails("not_called", engine.recall(OFFICE, "1"))
    await fails("not_called", engine.no_show(OFFICE, "1"))
    assert await snapshot(engine) == before
    assert (await engine.ticket(a1["id"]))["state"] == "serving"


@pytest.mark.parametrize("action", ["recall", "start", "finish", "park", "no_show", "transfer"])
async def test_stale_screen_ticket_mismatch_changes_nothing(
    engine: Engine, clock: ManualClock, action: str
) -> None:
    a1 = await issue(engine, clock)
    a2 = await issue(engine, clock)
    await open_counters(engine, "1")
    await engine.call_next(OFFICE, "1")
    await engine.recall(OFFICE, "1")  # so no_show would otherwise be allowed
    before = await snapshot(engine)
    if action == "transfer":
        call = engine.transfer(OFFICE, "1", service="ido", expect=a2["id"])
    else:
        call = getattr(engine, action)(OFFICE, "1", expect=a2["id"])
    err = await fails("ticket_mismatch", call)
    assert err.details == {"current": "A-001"}
    assert await snapshot(engine) == before
    assert (await engine.ticket(a1["id"]))["state"] == "called"
    assert (await engine.ticket(a2["id"]))["state"] == "waiting"


# -- events ----------------------------------------------------------------------


async def test_every_change_appends_exactly_one_event(engine: Engine, clock: ManualClock) -> None:
    n = len(await events(engine))
    expected_at = "2026-11-27T10:00:00.000+09:00"

    async def step(
        action: Awaitable[Any],
        etype: str,
        tid: str,
        number: str | None,
        service: str | None,
        counter: str | None,
    ) -> dict[str, Any]:
        nonlocal n
        await action
        new = (await events(engine))[n:]
        n += len(new)
        assert [e["type"] for e in new] == [etype]
        e = new[0]
        data = e["data"]
        assert data["type"] == etype
        assert data["office"] == OFFICE
        assert data["at"] == iso_now()
        assert e["tid"] == tid
        if number is None:
            assert "ticket" not in data
        else:
            assert data["ticket"] == {"number": number, "service": service}
        if counter is None:
            assert "counter" not in data
        else:
            assert data["counter"] == {"id": counter, "name": f"{counter}番窓口"}
        if tid:
            assert tid not in e["raw"]
            assert tid.partition(".")[2] not in e["raw"]
        return data

    def iso_now() -> str:
        return datetime.fromtimestamp(clock(), JST).isoformat(timespec="milliseconds")

    assert iso_now() == expected_at
    a1 = await engine.issue_ticket(OFFICE, "shomei")
    n += 1
    issued = (await events(engine))[-1]
    assert issued["type"] == "ticket.issued" and issued["tid"] == a1["id"]
    assert issued["data"]["ticket"] == {"number": "A-001", "service": "shomei"}
    assert issued["data"]["channel"] == "kiosk" and issued["data"]["waiting"] == 1
    assert a1["id"] not in issued["raw"]
    clock.advance(1)
    a2 = await engine.issue_ticket(OFFICE, "shomei")
    n += 1
    clock.advance(1)

    state = await step(
        engine.set_counter_state(OFFICE, "1", "open"), "counter.changed", "", None, None, "1"
    )
    assert state["state"] == "open" and state["previous"] == "closed"
    await step(
        engine.set_counter_state(OFFICE, "3", "open"), "counter.changed", "", None, None, "3"
    )
    called = await step(
        engine.call_next(OFFICE, "1"), "ticket.called", a1["id"], "A-001", "shomei", "1"
    )
    assert called["waiting"] == 1
    clock.advance(30)
    await step(engine.recall(OFFICE, "1"), "ticket.recalled", a1["id"], "A-001", "shomei", "1")
    await step(engine.park(OFFICE, "1"), "ticket.parked", a1["id"], "A-001", "shomei", "1")
    await step(engine.resume(a1["id"], "1"), "ticket.resumed", a1["id"], "A-001", "shomei", "1")
    await step(engine.call_next(OFFICE, "1"), "ticket.called", a1["id"], "A-001", "shomei", "1")
    await step(engine.start(OFFICE, "1"), "ticket.serving", a1["id"], "A-001", "shomei", "1")
    await step(
        engine.transfer(OFFICE, "1", service="ido"),
        "ticket.transferred",
        a1["id"],
        "A-001",
        "ido",
        "1",
    )
    # Counter 3 serves ido first (a2 still waits for shomei).
    await step(engine.call_next(OFFICE, "3"), "ticket.called", a1["id"], "A-001", "ido", "3")
    clock.advance(60)
    await step(engine.finish(OFFICE, "3"), "ticket.done", a1["id"], "A-001", "ido", "3")
    await step(engine.call_next(OFFICE, "1"), "ticket.called", a2["id"], "A-002", "shomei", "1")
    await step(engine.recall(OFFICE, "1"), "ticket.recalled", a2["id"], "A-002", "shomei", "1")
    await step(engine.no_show(OFFICE, "1"), "ticket.no_show", a2["id"], "A-002", "shomei", "1")
    await step(engine.rejoin(a2["id"]), "ticket.rejoined", a2["id"], "A-002", "shomei", None)
    await step(engine.cancel(a2["id"]), "ticket.cancelled", a2["id"], "A-002", "shomei", None)
    await step(
        engine.set_counter_state(OFFICE, "1", "paused"), "counter.changed", "", None, None, "1"
    )
    # Reads append nothing.
    await engine.status(OFFICE)
    await engine.ticket(a1["id"])
    assert len(await events(engine)) == n


async def test_public_event_data_never_holds_a_ticket_id(
    engine: Engine, clock: ManualClock
) -> None:
    tickets = [await issue(engine, clock, s) for s in ("shomei", "ido", "shomei")]
    await open_counters(engine, "1", "2", "3")
    await engine.call_next(OFFICE, "1")
    await engine.call_next(OFFICE, "3")
    await engine.transfer(OFFICE, "3", to_counter="2")
    await engine.call_next(OFFICE, "2")
    await engine.cancel(tickets[2]["id"])
    ids = {t["id"] for t in tickets}
    log = await events(engine)
    assert {e["tid"] for e in log} - {""} == ids
    for e in log:
        for tid in ids:
            assert tid not in e["raw"]
            assert tid.partition(".")[2] not in e["raw"]
    board = json.dumps(await engine.status(OFFICE))
    assert not any(t.partition(".")[2] in board for t in ids)


# -- estimates and the board ----------------------------------------------------


async def test_ahead_counts_people_in_front(engine: Engine, clock: ManualClock) -> None:
    tickets = [await issue(engine, clock) for _ in range(4)]
    b1 = await issue(engine, clock, "ido")
    assert [(await engine.ticket(t["id"]))["ahead"] for t in tickets] == [0, 1, 2, 3]
    assert (await engine.ticket(b1["id"]))["ahead"] == 0  # other lines don't count
    await open_counters(engine, "1")
    await engine.call_next(OFFICE, "1")
    assert (await engine.ticket(tickets[0]["id"]))["ahead"] is None  # called: not in line
    assert [(await engine.ticket(t["id"]))["ahead"] for t in tickets[1:]] == [0, 1, 2]


async def test_estimated_wait_needs_an_open_counter_and_grows_with_position(
    engine: Engine, clock: ManualClock
) -> None:
    first = await issue(engine, clock)
    tickets = [await issue(engine, clock) for _ in range(4)]
    b1 = await issue(engine, clock, "ido")

    async def estimates() -> list[int | None]:
        return [(await engine.ticket(t["id"]))["estimated_wait_minutes"] for t in tickets]

    assert await estimates() == [None] * 4
    await engine.set_counter_state(OFFICE, "1", "paused")
    assert await estimates() == [None] * 4  # paused serves no one
    await engine.set_counter_state(OFFICE, "1", "open")
    assert (await engine.call_next(OFFICE, "1"))["id"] == first["id"]  # counter 1 busy
    one = await estimates()
    assert all(m is not None and m > 0 for m in one), one
    assert one == sorted(one) and len(set(one)) == 4, one  # strictly growing
    # The head needs the busy clerk to finish: never promised less than the
    # expected service time of shomei (5 min).
    assert one[0] >= 5
    # Counter 1 serves shomei only: still nobody for ido.
    assert (await engine.ticket(b1["id"]))["estimated_wait_minutes"] is None
    await open_counters(engine, "2")
    two = await estimates()
    assert all(m is not None for m in two)
    assert all(b <= a for a, b in zip(one, two, strict=True)), (one, two)
    assert two[-1] < one[-1]
    assert (await engine.ticket(b1["id"]))["estimated_wait_minutes"] is not None
    board = {s["id"]: s for s in (await engine.status(OFFICE))["services"]}
    assert board["shomei"]["open_counters"] == 1.5  # counter 2 splits its time
    assert board["ido"]["open_counters"] == 0.5
    assert board["okuyami"]["open_counters"] == 0
    assert board["okuyami"]["estimated_wait_minutes"] is None
    assert board["shomei"]["waiting"] == 4


@pytest.mark.parametrize("free", ["finish", "no_show", "park", "transfer", "cancel"])
async def test_a_freed_counter_shortens_the_wait_of_the_head(
    engine: Engine, clock: ManualClock, free: str
) -> None:
    """Whatever frees the counter, it then waits for the next person: the
    head of the line no longer needs a departure."""
    first = await issue(engine, clock)
    head = await issue(engine, clock)
    await open_counters(engine, "1")
    await engine.call_next(OFFICE, "1")
    busy = (await engine.ticket(head["id"]))["estimated_wait_minutes"]
    # A visit of exactly the expected 5 minutes leaves the learned average as
    # it was, so only the freed counter can change the estimate.
    clock.advance(5 * MIN)
    if free == "no_show":
        await engine.recall(OFFICE, "1")
        await engine.no_show(OFFICE, "1")
    elif free == "transfer":
        await engine.transfer(OFFICE, "1", service="ido")
    elif free == "cancel":
        await engine.cancel(first["id"])
    else:
        await getattr(engine, free)(OFFICE, "1")
    freed = await engine.ticket(head["id"])
    assert freed["ahead"] == 0
    assert busy is not None and freed["estimated_wait_minutes"] is not None
    assert freed["estimated_wait_minutes"] < busy


async def test_status_lists_counters_and_waiting(engine: Engine, clock: ManualClock) -> None:
    a1 = await issue(engine, clock)
    await issue(engine, clock)
    await issue(engine, clock, "ido")
    await issue(engine, clock, "shomei", remote=True)
    await open_counters(engine, "1", "2")
    await engine.set_counter_state(OFFICE, "3", "paused")
    await engine.call_next(OFFICE, "1")
    clock.advance(60)
    await engine.start(OFFICE, "1")
    board = await engine.status(OFFICE)
    assert board["office"] == OFFICE
    assert board["names"]["ja"] == "テスト区役所"
    assert [(c["id"], c["name"], c["state"], c["services"]) for c in board["counters"]] == [
        ("1", "1番窓口", "open", ["shomei"]),
        ("2", "2番窓口", "open", ["shomei", "ido"]),
        ("3", "3番窓口", "paused", ["ido", "shomei"]),
        ("4", "4番窓口", "closed", ["ido", "shomei"]),
        ("5", "5番窓口", "closed", ["okuyami"]),
    ]
    current = board["counters"][0]["ticket"]
    assert current["number"] == "A-001" and current["service"] == "shomei"
    assert current["state"] == "serving"
    assert current["since"] == (await engine.ticket(a1["id"]))["serving_at"]
    assert [c["ticket"] for c in board["counters"][1:]] == [None] * 4
    waiting = {s["id"]: s["waiting"] for s in board["services"]}
    assert waiting == {"shomei": 1, "ido": 1, "okuyami": 0}
    assert [s["letter"] for s in board["services"]] == ["A", "B", "J"]
    assert board["recent_calls"][0]["number"] == "A-001"
    assert board["recent_calls"][0]["counter"] == {"id": "1", "name": "1番窓口"}
    assert board["last_event"] == (await events(engine))[-1]["id"]


async def test_status_longest_wait_is_the_real_waiting_time(
    engine: Engine, clock: ManualClock
) -> None:
    """The board's "longest wait" is how long someone has actually waited.
    A priority ticket's 15-minute head start is a place in line, not time
    spent waiting."""
    await issue(engine, clock, after=10 * MIN)
    board = {s["id"]: s for s in (await engine.status(OFFICE))["services"]}
    assert board["shomei"]["longest_wait_minutes"] == 10
    await issue(engine, clock, priority=True, after=0)
    board = {s["id"]: s for s in (await engine.status(OFFICE))["services"]}
    # Not the priority ticket's score (due_at minus the head start): 15 would
    # be a wait nobody had.
    assert board["shomei"]["longest_wait_minutes"] == 10
