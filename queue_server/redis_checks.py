"""What the web process checks of an external Redis (REDIS_URL) at start.

The promise "an acknowledged ticket, call or booking survives a crash"
(tests/test_durability.py) holds only if Redis writes every change to its
append-only file before it answers: ``appendonly yes`` with ``appendfsync
always``. ``everysec`` is the usual trade-off (less disk work; a crash of the
redis-server process still loses nothing, a power cut or kernel crash of its
host can lose the last second or two of acknowledged changes); ``no`` leaves
it to the OS (up to ~30 s); ``appendonly no`` loses everything since the last
snapshot. The embedded Redis runs with ``always``.

The findings are logged as warnings and shown in /readyz (still 200: the
server works, it just promises less). Managed Redis services often refuse
CONFIG: then the settings are reported as unverified."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("madoguchi.redis")

Finding = dict[str, str]
WARNINGS = web.AppKey("redis_persistence_warnings", list)

ADVICE = "Set appendonly yes and appendfsync always in redis.conf (see README, Redis)."


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")


async def persistence_warnings(redis: Redis) -> list[Finding]:
    """What keeps this Redis from the durability promise (empty: nothing)."""
    try:
        # One parameter per CONFIG GET: Redis before 7 (the embedded one is
        # 6.2) takes a single pattern and refuses the call otherwise.
        raw = {**await redis.config_get("appendonly"), **await redis.config_get("appendfsync")}
    except RedisError as exc:  # CONFIG renamed away, no permission, a managed service
        return [{"code": "redis_persistence_unverified",
                 "message": f"Could not read Redis's persistence settings ({type(exc).__name__}:"
                            f" CONFIG GET refused); make sure it runs with appendonly yes and "
                            f"appendfsync always."}]
    config = {_text(k): _text(v) for k, v in raw.items()}
    appendonly, fsync = config.get("appendonly", ""), config.get("appendfsync", "")
    if appendonly != "yes":
        return [{"code": "redis_appendonly_off",
                 "message": "Redis runs with appendonly no: a restart or crash of Redis loses "
                            "every ticket, call and booking since its last snapshot. " + ADVICE}]
    if fsync == "everysec":
        return [{"code": "redis_appendfsync_everysec",
                 "message": "Redis runs with appendfsync everysec: a power cut or crash of the "
                            "Redis host can lose the last second or two of acknowledged "
                            "tickets, calls and bookings. " + ADVICE}]
    if fsync != "always":
        return [{"code": "redis_appendfsync_no",
                 "message": f"Redis runs with appendfsync {fsync or '?'}: the OS decides when "
                            f"changes reach the disk, and a crash of the Redis host can lose "
                            f"about 30 s of acknowledged tickets, calls and bookings. " + ADVICE}]
    return []


async def check(app: web.Application, redis: Redis) -> None:
    """Run the check once at start: warn in the log, keep it for /readyz."""
    found = await persistence_warnings(redis)
    for warning in found:
        log.warning("redis persistence: %s", warning["message"], extra={"code": warning["code"]})
    app[WARNINGS] = found
