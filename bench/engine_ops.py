"""Latency and throughput of the engine's hot operations, in process, against
a real Redis.

    python -m bench.engine_ops [--n 5000] [--concurrency 16] [--redis-url URL]

Measures, through the public Engine API only:
  * sequential latency of `issue_ticket`, `ticket` (the read every other
    call ends with) and `call_next`, N of each;
  * throughput of the same three with K coroutines sharing one connection
    pool (one process, one event loop), N of each in total.

Target (from the issue): p50 <= 1 ms, p99 <= 5 ms, >= 3,000 ops/s from one
process. Prints one JSON object; not a timed test. All keys live under a
random tenant and are deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import redis
from redis.asyncio import Redis

from queue_server.engine import Engine

from .common import (
    LoopChoice,
    add_common_args,
    bench_office,
    delete_tenant,
    emit_json,
    latency_summary,
    new_tenant,
    run_loop,
)

TARGET = {"p50_ms": 1.0, "p99_ms": 5.0, "ops_per_s": 3000.0}
WARMUP_OPS = 50

Op = Callable[[int], Awaitable[Any]]


async def _sequential(op: Op, n: int, deadline: float) -> dict[str, Any]:
    samples: list[int] = []
    started = time.perf_counter()
    for i in range(n):
        if time.perf_counter() > deadline:
            break
        t0 = time.perf_counter_ns()
        await op(i)
        samples.append(time.perf_counter_ns() - t0)
    elapsed = time.perf_counter() - started
    return {
        **latency_summary(samples),
        "ops_per_s": round(len(samples) / elapsed, 1) if elapsed > 0 else None,
    }


async def _concurrent(op: Op, n: int, workers: int, deadline: float) -> dict[str, Any]:
    """K coroutines take ops from one shared count until N are done. Latency
    here includes queueing for a pooled connection, which is what a caller
    of a busy process sees."""
    samples: list[int] = []
    next_index = 0

    async def worker() -> None:
        nonlocal next_index
        while next_index < n and time.perf_counter() <= deadline:
            i = next_index
            next_index += 1  # single-threaded loop: no lock needed
            t0 = time.perf_counter_ns()
            await op(i)
            samples.append(time.perf_counter_ns() - t0)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    elapsed = time.perf_counter() - started
    return {
        **latency_summary(samples),
        "ops_per_s": round(len(samples) / elapsed, 1) if elapsed > 0 else None,
    }


def _meets_latency(result: dict[str, Any]) -> bool:
    return result["p50_ms"] <= TARGET["p50_ms"] and result["p99_ms"] <= TARGET["p99_ms"]


def _meets_throughput(result: dict[str, Any]) -> bool:
    return (result["ops_per_s"] or 0) >= TARGET["ops_per_s"]


async def run(
    redis_url: str,
    n: int = 5000,
    concurrency: int = 16,
    max_seconds: float = 60.0,
) -> dict[str, Any]:
    """Run every phase; each phase stops after `n` ops or `max_seconds`."""
    client = Redis.from_url(redis_url)
    tenant = new_tenant()
    office = bench_office()
    services = [s.id for s in office.services]
    counters = [c.id for c in office.counters]
    try:
        engine = Engine(client, tenant)
        await engine.configure(office)
        for cid in counters:
            await engine.set_counter_state(office.id, cid, "open")

        issued: list[str] = []

        async def issue(i: int) -> None:
            t = await engine.issue_ticket(office.id, services[i % len(services)])
            issued.append(t["id"])

        async def read(i: int) -> None:
            await engine.ticket(issued[i % len(issued)])

        async def call(i: int) -> None:
            await engine.call_next(office.id, counters[i % len(counters)])

        # Warm up: loads the scripts (first EVALSHA answers NOSCRIPT), opens
        # the pool's connections and fills the office config cache.
        for i in range(WARMUP_OPS):
            await issue(i)
            await read(i)
            await call(i)
        await asyncio.gather(*(read(i) for i in range(concurrency)))

        sequential: dict[str, Any] = {}
        concurrent: dict[str, Any] = {}
        # Order matters: reads and calls need the tickets issued just before.
        for name, op in (("issue_ticket", issue), ("ticket", read), ("call_next", call)):
            sequential[name] = await _sequential(op, n, time.perf_counter() + max_seconds)
        for name, op in (("issue_ticket", issue), ("ticket", read), ("call_next", call)):
            concurrent[name] = await _concurrent(
                op, n, concurrency, time.perf_counter() + max_seconds
            )

        # issue_ticket = issue script + ticket_view script; the difference
        # of the two medians approximates the issue script alone.
        script_only_p50 = round(
            sequential["issue_ticket"]["p50_ms"] - sequential["ticket"]["p50_ms"], 4
        )
        server = await client.info("server")
        return {
            "benchmark": "engine_ops",
            "parameters": {
                "n": n,
                "concurrency": concurrency,
                "max_seconds_per_phase": max_seconds,
                "warmup_ops": WARMUP_OPS,
                "services": len(services),
                "counters": len(counters),
            },
            "environment": {
                "python": platform.python_version(),
                "redis_py": redis.__version__,
                "redis_server": server.get("redis_version"),
            },
            "target": TARGET,
            "sequential": sequential,
            "concurrent": concurrent,
            "derived": {
                "issue_script_only_p50_ms_estimate": script_only_p50,
                "ticket_read_share_of_issue_p50": round(
                    sequential["ticket"]["p50_ms"] / sequential["issue_ticket"]["p50_ms"], 3
                ),
            },
            # Latency is judged on one caller at a time and throughput on K
            # callers: with K in flight, per-op latency is K / throughput by
            # Little's law, so it measures queueing, not the operation.
            "meets_target": {
                "latency_sequential": {k: _meets_latency(v) for k, v in sequential.items()},
                "throughput_concurrent": {
                    k: _meets_throughput(v) for k, v in concurrent.items()
                },
            },
        }
    finally:
        await delete_tenant(client, tenant)
        await client.aclose()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(parser)
    parser.add_argument("--n", type=int, default=5000, help="ops per phase (default %(default)s)")
    parser.add_argument("--concurrency", type=int, default=16, help="coroutines (default 16)")
    parser.add_argument(
        "--max-seconds", type=float, default=60.0, help="time cap per phase (default 60)"
    )
    parser.add_argument(
        "--loop",
        choices=["auto", "asyncio", "uvloop"],
        default="auto",
        help="event loop; auto = uvloop only if already installed",
    )
    args = parser.parse_args(argv)
    if args.n < 1 or args.concurrency < 1:
        parser.error("--n and --concurrency must be >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    loop: LoopChoice = args.loop
    result, loop_name = run_loop(
        run(args.redis_url, n=args.n, concurrency=args.concurrency, max_seconds=args.max_seconds),
        loop,
    )
    result["environment"]["event_loop"] = loop_name
    emit_json(result)
    return result


if __name__ == "__main__":
    main()
