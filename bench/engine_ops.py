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
import os
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
    percentile,
    run_loop,
)

TARGET = {"p50_ms": 1.0, "p99_ms": 5.0, "ops_per_s": 3000.0}
WARMUP_OPS = 50

Op = Callable[[int], Awaitable[Any]]


async def _sequential(ops: Sequence[Op], n: int, deadline: float) -> list[list[int]]:
    """One op at a time, n rounds. With several ops they alternate (op1(i),
    op2(i), op1(i+1), ...) so a noisy neighbour on the machine hits them
    alike and their latencies can be compared pair by pair. Returns the
    latencies in ns per op."""
    samples: list[list[int]] = [[] for _ in ops]
    for i in range(n):
        if time.perf_counter() > deadline:
            break
        for k, op in enumerate(ops):
            t0 = time.perf_counter_ns()
            await op(i)
            samples[k].append(time.perf_counter_ns() - t0)
    return samples


def _sequential_summary(samples: list[int]) -> dict[str, Any]:
    busy = sum(samples) / 1e9
    return {
        **latency_summary(samples),
        # One caller's rate, 1 / mean latency: not the process's capacity.
        "ops_per_s": round(len(samples) / busy, 1) if busy > 0 else None,
    }


async def _concurrent(op: Op, n: int, workers: int, deadline: float) -> dict[str, Any]:
    """K coroutines take ops from one shared count until N are done. Latency
    here includes queueing for a pooled connection, which is what a caller
    of a busy process sees."""
    samples: list[int] = []
    next_index = 0
    cpu0 = time.process_time()

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
    cpu = time.process_time() - cpu0
    return {
        **latency_summary(samples),
        "ops_per_s": round(len(samples) / elapsed, 1) if elapsed > 0 else None,
        # This process's CPU per op (client side: redis-py, JSON, engine).
        # When it is close to 1 / ops_per_s the process is CPU-bound, and
        # other load on the machine matters less to this figure.
        "client_cpu_ms_per_op": round(cpu * 1000 / len(samples), 4) if samples else None,
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

        async def read_last(i: int) -> None:
            await engine.ticket(issued[-1])

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
        # issue_ticket alternates with a read of the ticket it just issued:
        # issue_ticket = issue script + that same read, so the paired
        # difference is the issue script's own share (the 2nd round trip's
        # cost is the read). Calls then use up the tickets issued here.
        issue_ns, read_ns = await _sequential(
            (issue, read_last), n, time.perf_counter() + max_seconds
        )
        (call_ns,) = await _sequential((call,), n, time.perf_counter() + max_seconds)
        sequential["issue_ticket"] = _sequential_summary(issue_ns)
        sequential["ticket"] = _sequential_summary(read_ns)
        sequential["call_next"] = _sequential_summary(call_ns)
        script_ms = sorted((a - b) / 1e6 for a, b in zip(issue_ns, read_ns, strict=True))
        for name, op in (("issue_ticket", issue), ("ticket", read), ("call_next", call)):
            concurrent[name] = await _concurrent(
                op, n, concurrency, time.perf_counter() + max_seconds
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
                "tenant": tenant,  # deleted at the end
            },
            "environment": {
                "python": platform.python_version(),
                "redis_py": redis.__version__,
                "redis_server": server.get("redis_version"),
                # Other work on the machine shifts every number: say how busy.
                "cpu_count": os.cpu_count(),
                "load_average_1m": round(os.getloadavg()[0], 2),
            },
            "target": TARGET,
            "sequential": sequential,
            "concurrent": concurrent,
            "derived": {
                "issue_minus_read_p50_ms": round(percentile(script_ms, 50), 4),
                "read_share_of_issue_mean": round(sum(read_ns) / sum(issue_ns), 3),
            },
            # Latency is judged on one caller at a time and throughput on K
            # callers: with K in flight, per-op latency is K / throughput by
            # Little's law, so it measures queueing, not the operation.
            "meets_target": {
                "latency_sequential": {k: _meets_latency(v) for k, v in sequential.items()},
                "throughput_concurrent": {k: _meets_throughput(v) for k, v in concurrent.items()},
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
