"""What an Idempotency-Key costs: `issue_ticket` and `call_next` with and
without a key (interleaved, so both see the same queue), and the replay of a
stored outcome, in process against a real Redis.

    python -m bench.idempotency [--n 3000] [--redis-url URL]

Prints one JSON object; not a timed test. All keys live under a random
tenant and are deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis

from queue_server import idempotency
from queue_server.engine import Engine

from .common import (
    add_common_args,
    bench_office,
    delete_tenant,
    emit_json,
    latency_summary,
    new_tenant,
)


def attempt() -> idempotency.Attempt:
    return idempotency.Attempt(f"idem:bench:{secrets.token_hex(16)}", "fingerprint")


async def timed(engine_call: Any, keyed: idempotency.Attempt | None) -> int:
    token = idempotency.CURRENT.set(keyed)
    try:
        started = time.perf_counter_ns()
        await engine_call()
        return time.perf_counter_ns() - started
    finally:
        idempotency.CURRENT.reset(token)


async def run(redis_url: str, n: int) -> dict[str, Any]:
    redis = Redis.from_url(redis_url)
    tenant = new_tenant()
    office = bench_office()
    engine = Engine(redis, tenant)
    await engine.configure(office)
    service = office.services[0].id
    counter = next(c.id for c in office.counters if service in c.services)
    await engine.set_counter_state(office.id, counter, "open")
    samples: dict[str, list[int]] = {k: [] for k in (
        "issue_plain", "issue_keyed", "issue_replay", "call_plain", "call_keyed")}
    try:
        for _ in range(n):
            keyed = attempt()
            issue = lambda: engine.issue_ticket(office.id, service, channel="staff")  # noqa: E731
            samples["issue_plain"].append(await timed(issue, None))
            samples["issue_keyed"].append(await timed(issue, keyed))
            keyed.used = False
            samples["issue_replay"].append(await timed(issue, keyed))
        for _ in range(n):
            call = lambda: engine.call_next(office.id, counter)  # noqa: E731
            samples["call_plain"].append(await timed(call, None))
            samples["call_keyed"].append(await timed(call, attempt()))
    finally:
        await delete_tenant(redis, tenant)
        await redis.aclose()
    return {"benchmark": "idempotency", "n": n,
            **{name: latency_summary(values) for name, values in samples.items()}}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=3000)
    add_common_args(parser)
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.redis_url, args.n))
    emit_json(result)
    return result


if __name__ == "__main__":
    main()
