"""A crash of the embedded redis-server (SIGKILL) loses no acknowledged
ticket: the append-only file holds every write before its reply was sent
(DESIGN §6). Each test runs its own private EmbeddedRedis, never the shared
one."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from queue_server.embedded_redis import EmbeddedRedis
from queue_server.engine import Engine
from queue_server.errors import MadoguchiError
from tests.conftest import ManualClock, small_office

OFFICE = "testoffice"
TENANT = "durable"
SERVICES = ["shomei", "ido"]


KIOSKS = 6  # 50 requests in flight per kiosk connection pool (pools hold 100)


def client(server: EmbeddedRedis) -> Redis:
    # No retries: a request to a dead server must fail, not wait for the next
    # server and succeed there.
    return Redis.from_url(server.url, retry=Retry(NoBackoff(), 0))


async def survivors(data_dir: Path, clock: ManualClock, acked: dict[str, dict[str, Any]]) -> None:
    """Restart redis-server on the same directory and check every
    acknowledged ticket: same number, same service, still waiting in line,
    and the next number follows the highest one acknowledged."""
    server = EmbeddedRedis(data_dir).start()
    redis = client(server)
    try:
        engine = Engine(redis, TENANT, clock=clock)
        keys = engine.keys(OFFICE)
        assert await redis.exists(keys.config), "the office configuration was lost"
        for tid, t in acked.items():
            now = await engine.ticket(tid)
            assert (now["number"], now["service"], now["state"]) == (
                t["number"],
                t["service"],
                "waiting",
            ), tid
        for service in SERVICES:
            mine = {tid for tid, t in acked.items() if t["service"] == service}
            line = {m.decode() for m in await redis.zrange(keys.queue(service), 0, -1)}
            assert mine <= line, f"{len(mine - line)} acknowledged {service} tickets lost"
            # Sequences survive too: no number is printed twice after the crash.
            highest = max((int(acked[t]["number"][2:]) for t in mine), default=0)
            nxt = await engine.issue_ticket(OFFICE, service)
            assert int(nxt["number"][2:]) > highest
            assert int(nxt["number"][2:]) == len(line) + 1
        waiting = {s["id"]: s["waiting"] for s in (await engine.status(OFFICE))["services"]}
        counts = Counter(t["service"] for t in acked.values())
        for service in SERVICES:
            assert waiting[service] >= counts[service] + 1
    finally:
        await redis.aclose()
        server.stop()


async def test_acknowledged_tickets_survive_sigkill(tmp_path: Path, clock: ManualClock) -> None:
    data_dir = tmp_path / "redis"
    server = EmbeddedRedis(data_dir).start()
    acked: dict[str, dict[str, Any]] = {}
    try:
        clients = [client(server) for _ in range(KIOSKS)]
        try:
            kiosks = [Engine(c, TENANT, clock=clock) for c in clients]
            await kiosks[0].configure(small_office(OFFICE))
            rng = random.Random(5)
            issued = await asyncio.gather(
                *(kiosks[i % KIOSKS].issue_ticket(OFFICE, rng.choice(SERVICES)) for i in range(300))
            )
            acked = {t["id"]: t for t in issued}
            assert len(acked) == 300
            server.kill()  # right after the last reply
        finally:
            for c in clients:
                await c.aclose()
    finally:
        server.stop()  # no-op after kill; stops it if the test failed earlier
    assert server.process is None
    await survivors(data_dir, clock, acked)


async def test_tickets_acknowledged_before_a_mid_burst_crash_survive(
    tmp_path: Path, clock: ManualClock
) -> None:
    """Kill redis-server while kiosks are still issuing: whatever was
    acknowledged before the crash is there after the restart."""
    data_dir = tmp_path / "redis"
    server = EmbeddedRedis(data_dir).start()
    acked: dict[str, dict[str, Any]] = {}
    failed: list[BaseException] = []
    try:
        clients = [client(server) for _ in range(KIOSKS)]
        try:
            kiosks = [Engine(c, TENANT, clock=clock) for c in clients]
            await kiosks[0].configure(small_office(OFFICE))
            rng = random.Random(6)

            async def kiosk(engine: Engine) -> None:
                # Keeps printing tickets until the server is gone.
                for _ in range(1000):
                    try:
                        t = await engine.issue_ticket(OFFICE, rng.choice(SERVICES))
                    except (RedisError, OSError, MadoguchiError) as exc:
                        failed.append(exc)
                        return
                    acked[t["id"]] = t
                    if len(acked) == 300:
                        server.kill()  # SIGKILL with the rest of the burst in flight

            # 20 kiosk loops per connection pool, all issuing at once.
            await asyncio.gather(*(kiosk(kiosks[i % KIOSKS]) for i in range(20 * KIOSKS)))
        finally:
            for c in clients:
                await c.aclose()
    finally:
        server.stop()
    assert server.process is None, "the burst ended before the crash"
    assert len(acked) >= 300
    assert len(failed) == 20 * KIOSKS, "every kiosk loop ends with the crash"
    await survivors(data_dir, clock, acked)
