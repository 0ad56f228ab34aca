"""What the forecast costs (issue 11): the whole office simulated forward
from now, in call_next's order, for 50 / 200 / 500 waiting tickets.

    python -m bench.forecast [--n 200] [--sizes 50,200,500] [--redis-url URL]

The office: 12 counters on 6 services, shared counters in both orders (the
demo's shape), 8 of them busy with a ticket; the waiting tickets are a mix
of walk-ins, priority tickets, bookings due later today and remote tickets
away. Measured, through the public Engine API (one Redis round trip each):
  * `forecast`: forecast.lua, the whole office: every waiting ticket (and
    every ticket away) placed;
  * `status`: the office's status (office_status.lua: the board, and the
    forecast of a walk-in joining now for each service);
  * `ticket_view`: one ticket's view (the page's poll), which runs the same
    simulation up to that ticket.

Target: <= 5 ms p99 for 500 waiting. Prints one JSON object; not a timed
test. All keys live under a random tenant and are deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from typing import Any

from redis.asyncio import Redis

from queue_server.engine import Engine
from queue_server.office_config import Office

from .common import add_common_args, delete_tenant, emit_json, latency_summary, new_tenant

TARGET_P99_MS = 5.0
OFFICE = "fcbench"
SERVICES = [("shomei", "A", 5), ("ido", "B", 15), ("koseki", "C", 20), ("mynumber", "D", 15),
            ("kokuho", "E", 10), ("kaigo", "F", 20)]
COUNTERS = [["shomei"], ["shomei"], ["shomei"], ["shomei", "ido"], ["ido", "koseki"],
            ["koseki", "ido"], ["mynumber", "kaigo"], ["mynumber"], ["kokuho", "kaigo"],
            ["kokuho"], ["kaigo", "kokuho"], ["ido", "shomei", "koseki"]]


def office() -> Office:
    return Office.model_validate({
        "id": OFFICE, "names": {"ja": "予測ベンチ区役所"},
        "services": [{"id": s, "names": {"ja": s}, "letter": letter, "expected_minutes": m,
                      "max_wait_minutes": 60} for s, letter, m in SERVICES],
        "counters": [{"id": str(i + 1), "names": {"ja": f"{i + 1}番"}, "services": svcs,
                      "order": "due" if i % 3 == 2 else "priority"}
                     for i, svcs in enumerate(COUNTERS)],
    })


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


async def fill(engine: Engine, clock: Clock, waiting: int, rng: random.Random) -> list[str]:
    for i in range(len(COUNTERS)):
        await engine.set_counter_state(OFFICE, str(i + 1), "open")
    ids = []
    start = clock.now
    clock.now -= 3 * 3600  # the line built up over the last three hours
    for _ in range(waiting + 8):
        clock.now += 3 * 3600 / (waiting + 8)
        s = rng.choice(SERVICES)[0]
        r = rng.random()
        if r < 0.1:
            t = await engine.issue_ticket(OFFICE, s, due_at=start + rng.randint(0, 180) * 60,
                                          walk_in=False)
        elif r < 0.15:
            t = await engine.issue_ticket(OFFICE, s, channel="online", remote=True)
        else:
            t = await engine.issue_ticket(OFFICE, s, priority=rng.random() < 0.05)
        ids.append(t["id"])
    clock.now = start
    for i in range(8):  # 8 counters busy, the rest idle
        await engine.call_next(OFFICE, str(i + 1))
    return ids


async def measure(redis_url: str, sizes: list[int], n: int) -> dict[str, Any]:
    redis = Redis.from_url(redis_url)
    tenant = new_tenant()
    out: dict[str, Any] = {}
    try:
        for size in sizes:
            clock = Clock()
            engine = Engine(redis, f"{tenant}{size}", clock=clock)
            await engine.configure(office())
            rng = random.Random(size)
            ids = await fill(engine, clock, size, rng)
            services = tuple(s for s, _, _ in SERVICES)
            for _ in range(10):  # warm up (script load)
                await engine.forecast(OFFICE, services)
            fc_ns, status_ns, view_ns = [], [], []
            for i in range(n):
                t0 = time.perf_counter_ns()
                result = await engine.forecast(OFFICE)
                fc_ns.append(time.perf_counter_ns() - t0)
                t0 = time.perf_counter_ns()
                await engine.status(OFFICE)
                status_ns.append(time.perf_counter_ns() - t0)
                t0 = time.perf_counter_ns()
                await engine.ticket(ids[(i * 7919) % len(ids)])
                view_ns.append(time.perf_counter_ns() - t0)
            out[str(size)] = {"forecast": latency_summary(fc_ns),
                              "status": latency_summary(status_ns),
                              "ticket_view": latency_summary(view_ns),
                              "forecast_tickets": len(result)}
            await delete_tenant(redis, f"{tenant}{size}")
    finally:
        await redis.aclose()
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_args(parser)
    parser.add_argument("--n", type=int, default=200, help="measurements per size")
    parser.add_argument("--sizes", default="50,200,500", help="waiting tickets, comma-separated")
    args = parser.parse_args(argv)
    sizes = [int(x) for x in args.sizes.split(",")]
    results = asyncio.run(measure(args.redis_url, sizes, args.n))
    largest = results[str(max(sizes))]
    result = {"benchmark": "forecast", "parameters": {"n": args.n, "sizes": sizes},
              "target": {"p99_ms": TARGET_P99_MS}, "waiting": results,
              "meets_target": largest["forecast"]["p99_ms"] <= TARGET_P99_MS}
    emit_json(result)
    return result


if __name__ == "__main__":
    main()
