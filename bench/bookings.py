"""Booking benchmarks (bookings issue): availability of one service over 30
days (target p99 <= 10 ms) and booking throughput from one process (target
>= 500 bookings/s) with a check that no slot is overbooked.

Runs the real Engine + Bookings in-process against Redis, on a clock fixed
at a Monday 07:00 in Kitakyushu so the next 30 days are bookable whatever
the day it runs. Prints one JSON object.

    python -m bench.bookings [--redis-url URL] [--n 500] [--bookings 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from redis.asyncio import Redis

from queue_server.bookings import Bookings
from queue_server.cli import tune_gc
from queue_server.engine import Engine
from queue_server.errors import MadoguchiError
from queue_server.office_config import Office

from .common import add_common_args, delete_tenant, emit_json, latency_summary, new_tenant, run_loop

JST = ZoneInfo("Asia/Tokyo")
START = datetime(2026, 11, 30, 7, 0, tzinfo=JST)  # a Monday
OFFICE = "benchbook"


def office(capacity: int) -> Office:
    return Office.model_validate({
        "id": OFFICE,
        "names": {"ja": "予約ベンチ"},
        "booking": {"max_active_per_phone": 20, "per_ip_per_hour": 10_000},
        "services": [{"id": "mynumber", "names": {"ja": "マイナンバーカード"}, "letter": "C",
                      "bookable": True, "slot_minutes": 30, "slot_capacity": capacity}],
        "counters": [{"id": "1", "names": {"ja": "1番窓口"}, "services": ["mynumber"]}],
    })


async def run(redis_url: str, n: int, bookings_total: int, concurrency: int, capacity: int
              ) -> dict[str, Any]:
    redis = Redis.from_url(redis_url, max_connections=concurrency + 4)
    tenant = new_tenant()
    try:
        engine = Engine(redis, tenant, clock=START.timestamp)
        await engine.configure(office(capacity))
        b = Bookings(engine, b"bench")
        first = START.date()

        # Availability: 30-day range form and single day, sequential.
        samples: dict[str, list[int]] = {"range_30_days": [], "one_day": []}
        for i in range(n):
            t0 = time.perf_counter_ns()
            await b.availability_range(OFFICE, "mynumber", first, first + timedelta(days=29))
            samples["range_30_days"].append(time.perf_counter_ns() - t0)
            t0 = time.perf_counter_ns()
            await b.availability(OFFICE, "mynumber", first + timedelta(days=i % 30))
            samples["one_day"].append(time.perf_counter_ns() - t0)

        # Booking throughput: every request aims at one of a few slots, so
        # slots fill and the rest are refused — the overbooking check bites.
        days = [first + timedelta(days=d) for d in range(30)]
        open_days = [d for d in days if d.isoweekday() <= 5]
        targets = [
            datetime.combine(d, datetime.min.time(), JST) + timedelta(hours=9, minutes=30 * k)
            for d in open_days[:5] for k in range(4)
        ]
        outcomes: Counter[str] = Counter()
        per_slot: Counter[str] = Counter()
        latencies: list[int] = []
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(bookings_total):
            queue.put_nowait(i)

        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                slot = targets[i % len(targets)]
                t0 = time.perf_counter_ns()
                try:
                    await b.book(OFFICE, "mynumber", slot, f"090{10_000_000 + i:08d}")
                    outcomes["booked"] += 1
                    per_slot[slot.isoformat()] += 1
                except MadoguchiError as exc:
                    outcomes[exc.code] += 1
                latencies.append(time.perf_counter_ns() - t0)

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - t0

        # What Redis holds afterwards, per slot, against capacity.
        stored = await b.availability_range(OFFICE, "mynumber", open_days[0], open_days[4])
        overbooked = [s for s, c in per_slot.items() if c > capacity]
        return {
            "benchmark": "bookings",
            "parameters": {"n": n, "bookings": bookings_total, "concurrency": concurrency,
                           "slot_capacity": capacity, "target_slots": len(targets)},
            "availability": {k: latency_summary(v) for k, v in samples.items()},
            "booking": {
                "requests": bookings_total,
                "elapsed_s": round(elapsed, 3),
                "requests_per_s": round(bookings_total / elapsed, 1),
                "outcomes": dict(outcomes),
                "latency": latency_summary(latencies),
                "overbooked_slots": overbooked,
                "booked_equals_capacity": outcomes["booked"] == min(
                    bookings_total, len(targets) * capacity),
                "free_seats_left_in_target_days": sum(d["free"] for d in stored["days"]),
            },
            "target": {"availability_p99_ms": 10.0, "bookings_per_s": 500.0},
        }
    finally:
        await delete_tenant(redis, tenant)
        await redis.aclose()


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m bench.bookings", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(p)
    p.add_argument("--n", type=int, default=500, help="availability requests of each form")
    p.add_argument("--bookings", type=int, default=5000, help="booking requests")
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--capacity", type=int, default=100, help="seats per slot")
    args = p.parse_args(argv)
    tune_gc()  # as `madoguchi serve` does
    result, loop = run_loop(run(args.redis_url, args.n, args.bookings, args.concurrency,
                                args.capacity))
    result["event_loop"] = loop
    emit_json(result)
    return result


if __name__ == "__main__":
    main()
