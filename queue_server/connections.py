"""The Redis connection of a process: REDIS_URL, or the embedded server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from .embedded_redis import EmbeddedRedis
from .settings import Settings


@contextlib.asynccontextmanager
async def connect(settings: Settings, existing: Redis | None = None) -> AsyncIterator[Redis]:
    if existing is not None:
        yield existing
        return
    embedded = None
    supervisor = None
    url = settings.redis_url
    if url is None:
        embedded = EmbeddedRedis(settings.var_dir / "redis").start()
        url = embedded.url
        # A redis-server that dies is started again on the same data.
        supervisor = asyncio.create_task(embedded.supervise(), name="embedded-redis")
    # A blocking pool: under a burst, requests wait for a connection instead
    # of failing (redis-py's default pool raises past 100 connections).
    pool = BlockingConnectionPool.from_url(
        url, max_connections=settings.redis_max_connections, timeout=5, health_check_interval=30,
        socket_timeout=settings.redis_timeout_seconds,
        # Never resend a command by itself: a script that timed out may still
        # run, and a blind resend would run it twice (the request answers
        # outcome_unknown instead; its client retries with its key).
        retry=Retry(NoBackoff(), 0),
    )
    client = Redis.from_pool(pool)
    try:
        yield client
    finally:
        await client.aclose()
        if embedded is not None:
            embedded.stop()
        if supervisor is not None:
            supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await supervisor
