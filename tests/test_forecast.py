"""The forecast (issue 11): one forward simulation of the office's queues,
run with call_next's own choose_next, gives every waiting ticket its
expected call time. Real Redis, the test clock; times relative to it."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis

from queue_server.engine import Engine
from queue_server.office_config import Office
from tests.conftest import ManualClock

OFFICE = "fcoffice"
MIN = 60_000


def office(services: list[dict[str, Any]], counters: list[dict[str, Any]],
           **extra: Any) -> Office:
    return Office.model_validate({
        "id": OFFICE, "names": {"ja": "予測テスト区役所"},
        "queue": {"max_recalls": 1, "rejoin_minutes": 10, "priority_minutes": 15},
        "services": [{"names": {"ja": s["id"]}, **s} for s in services],
        "counters": [{"names": {"ja": c["id"]}, **c} for c in counters],
        **extra,
    })


async def engine_for(redis: Redis, tenant: str, clock: ManualClock, cfg: Office) -> Engine:
    engine = Engine(redis, tenant, clock=clock)
    await engine.configure(cfg)
    return engine


def wait_min(engine: Engine, fc: dict[str, Any]) -> float:
    return (fc["at"] - engine.clock() * 1000) / MIN


async def test_first_service_of_a_shared_counter_gets_the_whole_counter(
        redis: Redis, tenant: str, clock: ManualClock) -> None:
    """The issue's case: mynumber comes first in counter 1's order, so it is
    called at the counter's full pace, not at half of it."""
    cfg = office(
        [{"id": "mynumber", "letter": "C", "expected_minutes": 15},
         {"id": "ido", "letter": "B", "expected_minutes": 15, "max_wait_minutes": 180}],
        [{"id": "1", "services": ["mynumber", "ido"]}, {"id": "2", "services": ["ido"]}])
    engine = await engine_for(redis, tenant, clock, cfg)
    for _ in range(6):
        await engine.issue_ticket(OFFICE, "ido")
    clock.advance(60)
    first = await engine.issue_ticket(OFFICE, "mynumber")
    clock.advance(1)
    second = await engine.issue_ticket(OFFICE, "mynumber")
    for c in ("1", "2"):
        await engine.set_counter_state(OFFICE, c, "open")
    assert (await engine.ticket(first["id"]))["estimated_wait_minutes"] == 0
    # The old rule (half a counter) said 30 + margin; the counter calls it in 15.
    assert (await engine.ticket(second["id"]))["estimated_wait_minutes"] == 15
    status = await engine.status(OFFICE)
    mynumber = next(s for s in status["services"] if s["id"] == "mynumber")
    assert mynumber["estimated_wait_minutes"] == 30
    # ido: counter 2 takes one every 15 min; counter 1 only after mynumber.
    ido = next(s for s in status["services"] if s["id"] == "ido")
    assert ido["estimated_wait_minutes"] is not None and ido["estimated_wait_minutes"] >= 45


async def test_max_wait_escalation_is_forecast(redis: Redis, tenant: str,
                                               clock: ManualClock) -> None:
    cfg = office(
        [{"id": "shomei", "letter": "A", "expected_minutes": 5},
         {"id": "ido", "letter": "B", "expected_minutes": 15, "max_wait_minutes": 30}],
        [{"id": "1", "services": ["shomei", "ido"]}])
    engine = await engine_for(redis, tenant, clock, cfg)
    ido = await engine.issue_ticket(OFFICE, "ido")
    clock.advance(60)
    for _ in range(12):
        await engine.issue_ticket(OFFICE, "shomei")
        clock.advance(1)
    await engine.set_counter_state(OFFICE, "1", "open")
    # shomei at +0, 5, ..., 25 (minutes from now, 1 after ido's issue); at
    # +30 ido has waited 31 min, past its 30: called before the 7th shomei.
    view = await engine.ticket(ido["id"])
    assert view["estimated_wait_minutes"] == 30
    fc = await engine.forecast(OFFICE)
    assert wait_min(engine, fc[ido["id"]]) == 30
    order = sorted(fc, key=lambda t: fc[t]["seq"])
    assert order.index(ido["id"]) == 6


async def test_early_booking_waits_for_its_slot_in_the_forecast(
        redis: Redis, tenant: str, clock: ManualClock) -> None:
    services = [{"id": "mynumber", "letter": "C", "expected_minutes": 15},
                {"id": "shomei", "letter": "A", "expected_minutes": 5}]
    counters = [{"id": "1", "services": ["mynumber", "shomei"], "order": "due"}]
    engine = await engine_for(redis, tenant, clock, office(services, counters))
    slot = clock() + 20 * 60
    booked = await engine.issue_ticket(OFFICE, "mynumber", due_at=slot, walk_in=False)
    walk_in = await engine.issue_ticket(OFFICE, "shomei")
    await engine.set_counter_state(OFFICE, "1", "open")
    assert (await engine.ticket(booked["id"]))["estimated_wait_minutes"] == 20
    assert (await engine.ticket(walk_in["id"]))["estimated_wait_minutes"] == 0
    # With early_call: when_free the booking is called once the counter is free.
    engine2 = await engine_for(redis, tenant + "b", clock,
                               office(services, counters, booking={"early_call": "when_free"}))
    booked2 = await engine2.issue_ticket(OFFICE, "mynumber", due_at=slot, walk_in=False)
    walk_in2 = await engine2.issue_ticket(OFFICE, "shomei")
    await engine2.set_counter_state(OFFICE, "1", "open")
    assert (await engine2.ticket(walk_in2["id"]))["estimated_wait_minutes"] == 0
    assert (await engine2.ticket(booked2["id"]))["estimated_wait_minutes"] == 5


async def test_idle_and_busy_counters(redis: Redis, tenant: str, clock: ManualClock) -> None:
    cfg = office([{"id": "shomei", "letter": "A", "expected_minutes": 10}],
                 [{"id": "1", "services": ["shomei"]}, {"id": "2", "services": ["shomei"]}])
    engine = await engine_for(redis, tenant, clock, cfg)
    tickets = []
    for _ in range(4):
        tickets.append(await engine.issue_ticket(OFFICE, "shomei"))
        clock.advance(1)
    # No open counter: no estimate.
    assert (await engine.ticket(tickets[0]["id"]))["estimated_wait_minutes"] is None
    await engine.set_counter_state(OFFICE, "1", "open")
    await engine.set_counter_state(OFFICE, "2", "open")
    await engine.call_next(OFFICE, "1")  # counter 1 busy until +10
    clock.advance(4 * 60)
    # Counter 2 idle: the 2nd now; counter 1 free in 6: the 3rd; the 4th at 10.
    waits = [(await engine.ticket(t["id"]))["estimated_wait_minutes"] for t in tickets[1:]]
    assert waits == [0, 6, 10]
    view = await engine.ticket(tickets[3]["id"])
    assert view["call_low_at"] <= view["expected_call_at"]


async def test_remote_tickets_ahead_are_counted(redis: Redis, tenant: str,
                                                clock: ManualClock) -> None:
    cfg = office([{"id": "shomei", "letter": "A", "expected_minutes": 10}],
                 [{"id": "1", "services": ["shomei"]}])
    engine = await engine_for(redis, tenant, clock, cfg)
    await engine.set_counter_state(OFFICE, "1", "open")
    remote = await engine.issue_ticket(OFFICE, "shomei", channel="online", remote=True)
    clock.advance(60)
    lobby = await engine.issue_ticket(OFFICE, "shomei")
    assert (await engine.ticket(lobby["id"]))["estimated_wait_minutes"] == 10
    await engine.cancel(remote["id"])
    assert (await engine.ticket(lobby["id"]))["estimated_wait_minutes"] == 0


def random_office(rng: random.Random) -> Office:
    n_services = rng.randint(2, 4)
    services = [{"id": f"s{i}", "letter": "ABCD"[i], "expected_minutes": rng.choice([3, 5, 10, 15]),
                 "max_wait_minutes": rng.choice([10, 20, 30, 60])} for i in range(n_services)]
    counters = []
    for c in range(rng.randint(1, 5)):
        chosen = rng.sample([s["id"] for s in services], rng.randint(1, n_services))
        counters.append({"id": str(c + 1), "services": chosen,
                         "order": rng.choice(["priority", "due"])})
    early = rng.choice(["at_slot", "when_free"])
    return office(services, counters, booking={"early_call": early})


def at_ms(clock: ManualClock, ms: int) -> None:
    # a hair past the millisecond, so int(now * 1000) is exactly `ms`
    clock.now = ms / 1000 + 0.0000004


async def test_forecast_order_is_the_real_call_order(redis: Redis, tenant: str,
                                                     clock: ManualClock) -> None:
    """On randomised offices (shared counters, both orders, max waits, early
    bookings with both early_call settings, priority tickets, transfers to a
    counter, busy counters), replaying the forecast — each counter calling
    next when the forecast says it is free, every visit taking the learned
    average — calls exactly the tickets the forecast named, in its order."""
    rng = random.Random(11)
    replayed = 0
    start = clock()
    for round_ in range(25):
        clock.now = start
        cfg = random_office(rng)
        engine = await engine_for(redis, f"{tenant}r{round_}", clock, cfg)
        services = [s.id for s in cfg.services]
        for _ in range(rng.randint(5, 40)):
            clock.advance(rng.randint(1, 120))
            s = rng.choice(services)
            if rng.random() < 0.2:
                due = clock() + rng.randint(-20, 60) * 60
                await engine.issue_ticket(OFFICE, s, due_at=due, walk_in=False)
            else:
                await engine.issue_ticket(OFFICE, s, priority=rng.random() < 0.15)
        counters = [c.id for c in cfg.counters]
        for c in counters:
            if rng.random() < 0.85:
                await engine.set_counter_state(OFFICE, c, "open")
                # some counters busy, some of their tickets sent to a counter
                if rng.random() < 0.6 and await engine.call_next(OFFICE, c) is not None:
                    if rng.random() < 0.3:
                        await engine.transfer(OFFICE, c, to_counter=rng.choice(counters))
        clock.advance(rng.randint(0, 300))
        fc = await engine.forecast(OFFICE)
        events = sorted(fc.items(), key=lambda kv: kv[1]["seq"])
        replayed += len(events)
        for tid, f in events:
            at_ms(clock, f["at"])
            called = await engine.call_next(OFFICE, f["counter"])
            if called is None or called["id"] != tid:
                k = engine.keys(OFFICE)
                dump = {c.id: await redis.hgetall(k.counter(c.id)) for c in cfg.counters}
                for s_ in services:
                    dump[s_] = await redis.zrange(k.queue(s_), 0, -1, withscores=True)
                    dump["svc" + s_] = await redis.hgetall(k.service(s_))
                for c in cfg.counters:
                    dump["cq" + c.id] = await redis.zrange(k.counter_queue(c.id), 0, -1,
                                                           withscores=True)
                print(cfg.model_dump_json(), dump, called, f, clock() * 1000)
            assert called is not None and called["id"] == tid, (round_, tid, f)
    assert replayed > 300


async def test_leftovers_of_an_earlier_day_are_not_counted(redis: Redis, tenant: str,
                                                            clock: ManualClock) -> None:
    """call_next cancels tickets left from an earlier day instead of calling
    them: the forecast does not count them either."""
    cfg = office([{"id": "shomei", "letter": "A", "expected_minutes": 10}],
                 [{"id": "1", "services": ["shomei"]}])
    engine = await engine_for(redis, tenant, clock, cfg)
    for _ in range(3):
        await engine.issue_ticket(OFFICE, "shomei")
        clock.advance(1)
    clock.advance(24 * 3600)
    today = await engine.issue_ticket(OFFICE, "shomei")
    await engine.set_counter_state(OFFICE, "1", "open")
    assert (await engine.ticket(today["id"]))["estimated_wait_minutes"] == 0
    assert (await engine.call_next(OFFICE, "1"))["id"] == today["id"]


# -- held tickets: a come-back time is a promise ------------------------------

def long_line_office() -> Office:
    return office([{"id": "ido", "letter": "B", "expected_minutes": 15}],
                  [{"id": "1", "services": ["ido"]}],
                  ticket={"come_back_minutes": 30})


async def test_long_wait_kiosk_ticket_is_held_and_never_called_before_it_is_back(
        redis: Redis, tenant: str, clock: ManualClock) -> None:
    engine = await engine_for(redis, tenant, clock, long_line_office())
    await engine.set_counter_state(OFFICE, "1", "open")
    ahead = []
    for _ in range(3):
        ahead.append(await engine.issue_ticket(OFFICE, "ido", hold=True))
        clock.advance(1)
    # 0, 15, 30 min: the third is held (wait 30 >= come_back_minutes).
    assert [t["state"] for t in ahead] == ["waiting", "waiting", "held"]
    held = ahead[2]
    back = held["come_back_by"]
    assert back is not None and held["call_low_at"] is not None
    # never past, and on the safe side of the expected call, to the minute
    assert clock() <= datetime.fromisoformat(back).timestamp()
    assert datetime.fromisoformat(back) <= datetime.fromisoformat(held["expected_call_at"]) \
        + timedelta(minutes=1)
    later = await engine.issue_ticket(OFFICE, "ido")  # a walk-in who stays
    # Counter works through the line: the held ticket is never called.
    called = []
    for _ in range(4):
        t = await engine.call_next(OFFICE, "1")
        called.append(t and t["id"])
        clock.advance(15 * 60)
    assert held["id"] not in called
    assert called[:3] == [ahead[0]["id"], ahead[1]["id"], later["id"]]
    assert (await engine.ticket(held["id"]))["state"] == "held"
    # Back: it keeps its place (ahead of the later walk-in) and is called next.
    view = await engine.run_script(await engine.office(OFFICE), "arrive", held["id"])
    assert view["ticket"]["state"] == "waiting"
    await engine.issue_ticket(OFFICE, "ido")
    clock.advance(60)
    assert (await engine.call_next(OFFICE, "1"))["id"] == held["id"]


async def test_held_tickets_ahead_count_in_estimates(redis: Redis, tenant: str,
                                                     clock: ManualClock) -> None:
    engine = await engine_for(redis, tenant, clock, long_line_office())
    await engine.set_counter_state(OFFICE, "1", "open")
    tickets = []
    for _ in range(4):
        tickets.append(await engine.issue_ticket(OFFICE, "ido", hold=True))
        clock.advance(1)
    assert [t["state"] for t in tickets] == ["waiting", "waiting", "held", "held"]
    # The 2nd held ticket's come-back time counts the 1st held ticket ahead.
    assert tickets[3]["come_back_by"] > tickets[2]["come_back_by"]
    lobby = await engine.issue_ticket(OFFICE, "ido")
    assert lobby["estimated_wait_minutes"] >= 60


async def test_come_back_time_is_never_past(redis: Redis, tenant: str,
                                            clock: ManualClock) -> None:
    """The issue's 「01:50」 at 01:50:58: the time said is rounded up."""
    engine = await engine_for(redis, tenant, clock, long_line_office())
    await engine.set_counter_state(OFFICE, "1", "open")
    clock.advance(58.4)
    remote = await engine.issue_ticket(OFFICE, "ido", channel="online", remote=True)
    back = datetime.fromisoformat(remote["come_back_by"])
    assert back.timestamp() >= clock() and back.second == 0
    # Four remote tickets in a row are not all told the same time.
    backs = [remote["come_back_by"]]
    for _ in range(3):
        clock.advance(1)
        backs.append((await engine.issue_ticket(OFFICE, "ido", channel="online",
                                                remote=True))["come_back_by"])
    assert backs == sorted(backs) and len(set(backs)) == 4


async def test_bookings_due_later_today_are_counted(redis: Redis, tenant: str,
                                                    clock: ManualClock) -> None:
    """A booking not checked in yet takes its slot's place in the forecast:
    someone who joins after the slot time is behind it."""
    from tests.test_booking_order import OFFICE as BOOKING_OFFICE
    from tests.test_booking_order import phone, setup
    bookings, slot = await setup(redis, tenant, clock)
    engine = bookings.engine
    booking = await bookings.book(BOOKING_OFFICE, "mynumber", slot, phone(1))
    clock.now = slot.timestamp() - 2 * 60
    await engine.set_counter_state(BOOKING_OFFICE, "1", "open")
    first = await engine.issue_ticket(BOOKING_OFFICE, "mynumber")
    await engine.call_next(BOOKING_OFFICE, "1")  # busy until slot + 13 min
    assert first["estimated_wait_minutes"] == 0
    clock.now = slot.timestamp() + 60  # the booked citizen is not here yet
    walk_in = await engine.issue_ticket(BOOKING_OFFICE, "mynumber")
    # counter free at slot + 13: the booking (slot's place), then the walk-in
    assert walk_in["estimated_wait_minutes"] == 27
    # Cancelled: no longer counted.
    await bookings.cancel(booking.token)
    view = await engine.ticket(walk_in["id"])
    assert view["estimated_wait_minutes"] == 12


async def test_views_follow_the_clock_without_events(redis: Redis, tenant: str,
                                                     clock: ManualClock) -> None:
    """Views share one forecast per office state (fcache), but not for
    longer than 15 s: a visit running over moves the next call later."""
    cfg = office([{"id": "shomei", "letter": "A", "expected_minutes": 10}],
                 [{"id": "1", "services": ["shomei"]}])
    engine = await engine_for(redis, tenant, clock, cfg)
    await engine.set_counter_state(OFFICE, "1", "open")
    await engine.issue_ticket(OFFICE, "shomei")
    clock.advance(1)
    b = await engine.issue_ticket(OFFICE, "shomei")
    await engine.call_next(OFFICE, "1")
    assert (await engine.ticket(b["id"]))["estimated_wait_minutes"] == 10
    clock.advance(5)  # within the cache's life: the same answer
    assert (await engine.ticket(b["id"]))["estimated_wait_minutes"] == 10
    clock.advance(20 * 60)  # the visit runs over: at least a quarter of 10 min more
    assert (await engine.ticket(b["id"]))["estimated_wait_minutes"] == 3
