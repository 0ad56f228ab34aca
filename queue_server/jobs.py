"""Periodic work of a server process. Every process runs it: each step is
an idempotent atomic script, so several processes never double anything."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets

from redis.asyncio import Redis
from redis.exceptions import RedisError

from .bookings import Bookings
from .engine import Engine

log = logging.getLogger(__name__)
# "Near" SMS should not lag a call by much; every step is one cheap script.
INTERVAL_SECONDS = 15.0


async def tenant_secret(redis: Redis, tenant: str, configured: str) -> bytes:
    """MADOGUCHI_SECRET_KEY, else one generated once and shared by every
    process of the tenant through Redis."""
    if configured:
        return configured.encode()
    key = f"mg:{{{tenant}}}:secret"
    await redis.set(key, secrets.token_hex(32), nx=True)
    return (await redis.get(key)) or b""


async def tick(engine: Engine, bookings: Bookings) -> None:
    for office in await engine.office_ids():
        marked = await bookings.mark_no_shows(office)
        if marked:
            log.info("bookings marked no-show", extra={"office": office, "count": marked})
        told = await bookings.notify_remote(office)
        if told["near"] or told["come_now"]:
            log.info("remote tickets told to come", extra={"office": office, **told})
        purged = await bookings.purge(office)
        if purged:
            log.info("bookings past retention deleted", extra={"office": office,
                                                               "count": purged})


async def run_until(stop: asyncio.Event, engine: Engine, bookings: Bookings) -> None:
    """Tick every INTERVAL_SECONDS until `stop` is set. A stop event rather
    than task cancellation: a cancel that lands inside a Redis call can be
    swallowed by the client, which left shutdown waiting a whole interval."""
    while not stop.is_set():
        try:
            await tick(engine, bookings)
        except (RedisError, OSError) as exc:
            log.warning("periodic jobs skipped: %s", type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), INTERVAL_SECONDS)
