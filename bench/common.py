"""Helpers shared by the benchmarks: Redis URL, throw-away tenant, cleanup,
percentiles, the event loop, and the office the benchmarks run against."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import math
import os
import secrets
import sys
from collections.abc import Coroutine, Sequence
from typing import Any, Literal, TypeVar

from redis.asyncio import Redis

from queue_server.office_config import Office

T = TypeVar("T")
LoopChoice = Literal["auto", "asyncio", "uvloop"]
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def default_redis_url() -> str:
    return os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL


def add_common_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--redis-url",
        default=default_redis_url(),
        help="Redis to run against (default: $REDIS_URL or %(default)s)",
    )


def new_tenant() -> str:
    # A random tenant per run: benchmarks never see each other's (or a live
    # office's) keys and never need FLUSHDB on a shared database.
    return "bench" + secrets.token_hex(4)


async def delete_tenant(redis: Redis, tenant: str) -> int:
    """Remove every key of `tenant`. Office keys are `mg:{tenant:office}:...`
    and tenant-wide keys are `mg:{tenant}:...`; Redis globs treat `{` as a
    literal, so both shapes are matched explicitly."""
    deleted = 0
    for pattern in (f"mg:{{{tenant}:*", f"mg:{{{tenant}}}:*"):
        batch: list[bytes] = []
        async for key in redis.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) >= 500:
                deleted += await redis.unlink(*batch)
                batch = []
        if batch:
            deleted += await redis.unlink(*batch)
    return deleted


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100) of already sorted data,
    the same definition as numpy's default, without needing numpy."""
    if not sorted_values:
        return math.nan
    pos = (len(sorted_values) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def latency_summary(samples_ns: Sequence[int]) -> dict[str, float | int]:
    """p50/p95/p99/mean/max in milliseconds of per-operation latencies."""
    ms = sorted(s / 1e6 for s in samples_ns)
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 4),
        "p95_ms": round(percentile(ms, 95), 4),
        "p99_ms": round(percentile(ms, 99), 4),
        "mean_ms": round(sum(ms) / len(ms), 4) if ms else math.nan,
        "max_ms": round(ms[-1], 4) if ms else math.nan,
    }


def uvloop_available() -> bool:
    return importlib.util.find_spec("uvloop") is not None


def run_loop(coro: Coroutine[Any, Any, T], loop: LoopChoice = "auto") -> tuple[T, str]:
    """Run `coro` on uvloop when asked for (or, with "auto", when installed:
    `madoguchi serve` runs on it), else on the stdlib loop. Returns the result
    and the loop's name so the JSON says what was measured."""
    use_uvloop = loop == "uvloop" or (loop == "auto" and uvloop_available())
    if use_uvloop:
        import uvloop

        return uvloop.run(coro), "uvloop"
    return asyncio.run(coro), "asyncio"


def emit_json(result: dict[str, Any]) -> None:
    json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def bench_office(office_id: str = "benchoffice") -> Office:
    """Three walk-in services and five counters whose services overlap, in
    both counter orders, so the benchmarks exercise the same paths as a
    real ward office (the test office in tests/conftest.py has a
    booking-only service, which walk-in benchmarks cannot issue for)."""

    def svc(sid: str, letter: str, minutes: float, **kw: Any) -> dict[str, Any]:
        return {
            "id": sid,
            "names": {"ja": sid, "en": sid},
            "letter": letter,
            "expected_minutes": minutes,
            **kw,
        }

    def ctr(cid: str, services: list[str], **kw: Any) -> dict[str, Any]:
        return {
            "id": cid,
            "names": {"ja": f"{cid}番窓口", "en": f"Counter {cid}"},
            "services": services,
            **kw,
        }

    return Office.model_validate(
        {
            "id": office_id,
            "names": {"ja": "ベンチ区役所", "en": "Bench Ward Office"},
            "services": [
                svc("shomei", "A", 5, max_wait_minutes=30),
                svc("ido", "B", 15, max_wait_minutes=45),
                svc("kokuho", "C", 10, max_wait_minutes=45),
            ],
            "counters": [
                ctr("1", ["shomei"]),
                ctr("2", ["shomei", "ido"]),
                ctr("3", ["ido", "shomei"]),
                ctr("4", ["ido", "kokuho"], order="due"),
                ctr("5", ["kokuho", "shomei"]),
            ],
        }
    )
