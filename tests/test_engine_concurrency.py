"""Real concurrent clients on one tenant: several Engine instances, each with
its own Redis connection pool (and, in the last test, several processes).
Two counters calling at the same instant never get the same ticket; two
kiosks never print the same number (DESIGN §5)."""

from __future__ import annotations

import asyncio
import json
import random
import sys
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from queue_server.engine import Engine
from queue_server.office_config import Office
from tests.conftest import START, ManualClock

OFFICE = "bigoffice"
SERVICES = {"shomei": "A", "ido": "B", "zei": "C"}

# Ten counters with overlapping services, both orders.
COUNTERS: dict[str, tuple[list[str], str]] = {
    "1": (["shomei"], "priority"),
    "2": (["shomei", "ido"], "priority"),
    "3": (["ido", "shomei"], "priority"),
    "4": (["ido"], "priority"),
    "5": (["zei"], "priority"),
    "6": (["zei", "shomei"], "priority"),
    "7": (["shomei", "ido", "zei"], "due"),
    "8": (["ido", "zei"], "due"),
    "9": (["zei", "ido", "shomei"], "priority"),
    "10": (["shomei", "zei"], "due"),
}


def big_office() -> Office:
    return Office.model_validate(
        {
            "id": OFFICE,
            "names": {"ja": "大きな区役所", "en": "Big Ward Office"},
            "queue": {"max_recalls": 1, "rejoin_minutes": 10, "priority_minutes": 15},
            "services": [
                {"id": sid, "names": {"ja": sid}, "letter": letter, "expected_minutes": 5}
                for sid, letter in SERVICES.items()
            ],
            "counters": [
                {"id": cid, "names": {"ja": f"{cid}番窓口"}, "services": services, "order": order}
                for cid, (services, order) in COUNTERS.items()
            ],
        }
    )


@asynccontextmanager
async def engines(
    redis_url: str, tenant: str, clock: Callable[[], float], n: int
) -> AsyncIterator[list[Engine]]:
    """n Engine instances on the same tenant, each with its own Redis client."""
    clients = [Redis.from_url(redis_url) for _ in range(n)]
    try:
        yield [Engine(c, tenant, clock=clock) for c in clients]
    finally:
        for c in clients:
            await c.aclose()


async def setup_office(engine: Engine) -> None:
    await engine.configure(big_office())
    for cid in COUNTERS:
        await engine.set_counter_state(OFFICE, cid, "open")


async def issue_mix(engine: Engine, clock: ManualClock, n: int, seed: int) -> list[dict]:
    """n waiting tickets over the three services, one second apart."""
    rng = random.Random(seed)
    tickets = []
    for _ in range(n):
        tickets.append(await engine.issue_ticket(OFFICE, rng.choice(list(SERVICES))))
        clock.advance(1)
    return tickets


async def stream(redis: Redis, engine: Engine) -> list[tuple[str, str]]:
    entries = await redis.xrange(engine.keys(OFFICE).events)
    return [(f[b"type"].decode(), f[b"tid"].decode()) for _, f in entries]


async def check_calls(
    redis: Redis,
    engine: Engine,
    tickets: list[dict],
    results: list[tuple[str, dict | None]],
) -> None:
    """Invariants after a storm of call_next: every ticket called exactly once,
    by a counter that serves it, in due order within each service; the
    surplus calls found nobody; what is still at a counter is 'called'."""
    ids = [t["id"] for t in tickets]
    by_id = {t["id"]: t for t in tickets}
    got = [(cid, r) for cid, r in results if r is not None]
    called_ids = [r["id"] for _, r in got]
    assert len(called_ids) == len(set(called_ids)), "a ticket was called twice"
    assert sorted(called_ids) == sorted(ids), "a ticket was never called"
    assert sum(r is None for _, r in results) == len(results) - len(ids)
    for cid, r in got:
        assert r["counter"]["id"] == cid
        assert r["service"] in COUNTERS[cid][0]

    log = await stream(redis, engine)
    calls = [tid for etype, tid in log if etype == "ticket.called"]
    dones = [tid for etype, tid in log if etype == "ticket.done"]
    assert sorted(calls) == sorted(ids)
    assert len(dones) == len(set(dones))
    # Within a service the head of the line is always the one called.
    for service in SERVICES:
        order = [tid for tid in calls if by_id[tid]["service"] == service]
        assert order == [t["id"] for t in tickets if t["service"] == service]

    states = {tid: (await engine.ticket(tid))["state"] for tid in ids}
    board = await engine.status(OFFICE)
    at_counters = [c["ticket"]["number"] for c in board["counters"] if c["ticket"]]
    still_called = [by_id[t]["number"] for t, s in states.items() if s == "called"]
    assert set(states.values()) <= {"called", "done"}
    assert sorted(at_counters) == sorted(still_called)
    assert len(at_counters) <= len(COUNTERS)
    assert sorted(dones) == sorted(t for t, s in states.items() if s == "done")
    assert all(s["waiting"] == 0 for s in board["services"])


async def test_fifty_simultaneous_calls_from_ten_counters(
    redis: Redis, redis_url: str, tenant: str, clock: ManualClock
) -> None:
    admin = Engine(redis, tenant, clock=clock)
    await setup_office(admin)
    tickets = await issue_mix(admin, clock, 30, seed=1)
    assert {t["service"] for t in tickets} == set(SERVICES)

    async with engines(redis_url, tenant, clock, len(COUNTERS)) as desks:
        # All 50 requests in flight at once: 5 per counter, each counter on
        # its own connection pool.
        jobs = [
            (cid, desk.call_next(OFFICE, cid))
            for _ in range(5)
            for cid, desk in zip(COUNTERS, desks, strict=True)
        ]
        done = await asyncio.gather(*(job for _, job in jobs))
    results = [(cid, r) for (cid, _), r in zip(jobs, done, strict=True)]
    assert len(results) == 50
    await check_calls(redis, admin, tickets, results)


async def test_counters_call_concurrently_each_one_in_turn(
    redis: Redis, redis_url: str, tenant: str, clock: ManualClock
) -> None:
    """Each counter presses "next" five times in a row while the other nine
    do the same: every press finishes the counter's previous ticket."""
    admin = Engine(redis, tenant, clock=clock)
    await setup_office(admin)
    tickets = await issue_mix(admin, clock, 30, seed=2)

    async def desk_loop(desk: Engine, cid: str) -> list[dict | None]:
        return [await desk.call_next(OFFICE, cid) for _ in range(5)]

    async with engines(redis_url, tenant, clock, len(COUNTERS)) as desks:
        per_counter = await asyncio.gather(
            *(desk_loop(desk, cid) for cid, desk in zip(COUNTERS, desks, strict=True))
        )
    results = [(cid, r) for cid, seq in zip(COUNTERS, per_counter, strict=True) for r in seq]
    await check_calls(redis, admin, tickets, results)
    for cid, seq in zip(COUNTERS, per_counter, strict=True):
        for i, r in enumerate(seq):
            if r is None:
                continue
            state = (await admin.ticket(r["id"]))["state"]
            # The next press on this counter finished it; the last one stays.
            assert state == ("called" if i == len(seq) - 1 else "done"), (cid, i, state)
        # Once a counter found nobody, it finds nobody for the rest of the storm
        # only if no ticket was left for it: never a ticket after a None here,
        # because nothing new was issued.
        first_none = next((i for i, r in enumerate(seq) if r is None), len(seq))
        assert all(r is None for r in seq[first_none:])


async def check_numbers(redis: Redis, engine: Engine, issued: list[dict]) -> None:
    ids = [t["id"] for t in issued]
    numbers = [t["number"] for t in issued]
    assert len(set(ids)) == len(ids)
    assert len(set(numbers)) == len(numbers), [n for n, k in Counter(numbers).items() if k > 1]
    per_service: dict[str, list[int]] = defaultdict(list)
    for t in issued:
        letter, _, digits = t["number"].partition("-")
        assert letter == SERVICES[t["service"]] and len(digits) == 3
        per_service[t["service"]].append(int(digits))
    keys = engine.keys(OFFICE)
    for service, got in per_service.items():
        assert sorted(got) == list(range(1, len(got) + 1)), service
        assert int(await redis.get(keys.seq(service, "20261127"))) == len(got)
        assert await redis.zcard(keys.queue(service)) == len(got)
    log = await stream(redis, engine)
    assert sorted(tid for etype, tid in log if etype == "ticket.issued") == sorted(ids)


async def test_two_hundred_tickets_from_four_kiosks(
    redis: Redis, redis_url: str, tenant: str, clock: ManualClock
) -> None:
    admin = Engine(redis, tenant, clock=clock)
    await admin.configure(big_office())
    rng = random.Random(3)
    plan = [rng.choice(list(SERVICES)) for _ in range(200)]
    async with engines(redis_url, tenant, clock, 4) as kiosks:
        issued = await asyncio.gather(
            *(kiosks[i % 4].issue_ticket(OFFICE, service) for i, service in enumerate(plan))
        )
    assert len(issued) == 200
    assert Counter(t["service"] for t in issued) == Counter(plan)
    await check_numbers(redis, admin, issued)


WORKER = """
import asyncio, json, sys
from redis.asyncio import Redis
from queue_server.engine import Engine

async def main():
    job = json.loads(sys.argv[1])
    client = Redis.from_url(job["url"])
    engine = Engine(client, job["tenant"], clock=lambda: job["now"])
    try:
        if job["op"] == "issue":
            out = await asyncio.gather(
                *(engine.issue_ticket(job["office"], s) for s in job["services"]))
            out = [{"id": t["id"], "number": t["number"], "service": t["service"]}
                   for t in out]
        else:
            async def desk(cid):
                # Press "next" until nobody waits for this counter's services
                # (at most job["calls"] times); then every ticket is called.
                seq = []
                while len(seq) < job["calls"]:
                    seq.append(await engine.call_next(job["office"], cid))
                    if seq[-1] is None:
                        break
                return seq
            seqs = await asyncio.gather(*(desk(c) for c in job["counters"]))
            out = [[c, r and {"id": r["id"], "service": r["service"],
                              "counter": r["counter"]}]
                   for c, seq in zip(job["counters"], seqs) for r in seq]
    finally:
        await client.aclose()
    print(json.dumps(out))

asyncio.run(main())
"""


ROOT = str(Path(__file__).resolve().parent.parent)


async def run_workers(jobs: list[dict[str, Any]]) -> list[Any]:
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            WORKER,
            json.dumps(job),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for job in jobs
    ]
    outputs = await asyncio.gather(*(p.communicate() for p in procs))
    for p, (_, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err.decode()
    return [json.loads(out) for out, _ in outputs]


async def test_separate_processes_issue_and_call(
    redis: Redis, redis_url: str, tenant: str, clock: ManualClock
) -> None:
    """Four kiosk processes issue 120 tickets, then five processes run two
    counters each, all at the same time."""
    admin = Engine(redis, tenant, clock=clock)
    await setup_office(admin)
    rng = random.Random(4)
    base = {"url": redis_url, "tenant": tenant, "office": OFFICE, "now": START}
    kiosk_jobs = [
        {**base, "op": "issue", "services": [rng.choice(list(SERVICES)) for _ in range(30)]}
        for _ in range(4)
    ]
    issued = [t for out in await run_workers(kiosk_jobs) for t in out]
    assert len(issued) == 120
    await check_numbers(redis, admin, issued)

    cids = list(COUNTERS)
    desk_jobs = [
        {**base, "op": "call", "counters": cids[i : i + 2], "calls": 121}
        for i in range(0, len(cids), 2)
    ]
    results = [(cid, r) for out in await run_workers(desk_jobs) for cid, r in out]
    assert sum(r is None for _, r in results) == len(cids)  # each desk ended on "nobody"
    got = [r["id"] for _, r in results if r is not None]
    assert len(got) == len(set(got)) == 120
    assert set(got) == {t["id"] for t in issued}
    for cid, r in results:
        if r is not None:
            assert r["counter"]["id"] == cid and r["service"] in COUNTERS[cid][0]
    log = await stream(redis, admin)
    calls = [tid for etype, tid in log if etype == "ticket.called"]
    assert sorted(calls) == sorted(got)
