"""Without REDIS_URL, `madoguchi serve` runs its own redis-server and keeps
it running: a `kill -9` of it is followed by a restart on the same data, the
server becomes ready again by itself and no acknowledged ticket is lost."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from pathlib import Path

import aiohttp
from redis.asyncio import Redis

from queue_server.auth import Tokens
from queue_server.engine import Engine
from tests.conftest import small_office
from tests.servers import ServerProcess, bearer

READY_WITHIN = 30.0


async def ready(session: aiohttp.ClientSession, base: str) -> bool:
    with contextlib.suppress(aiohttp.ClientError, OSError):
        async with session.get(f"{base}/readyz") as resp:
            return resp.status == 200
    return False


async def test_killed_embedded_redis_is_restarted_on_the_same_data(
    tmp_path: Path, tenant: str
) -> None:
    server = ServerProcess("", tenant, tmp_path)
    del server.env["REDIS_URL"]  # the embedded redis-server, under the server's var dir
    data_dir = Path(server.env["MADOGUCHI_VAR_DIR"]) / "redis"
    await server.start()
    redis = Redis(unix_socket_path=str(data_dir / "redis.sock"))
    try:
        await Engine(redis, tenant).configure(small_office())
        token, _ = await Tokens(redis, tenant).create("staff", "testoffice")
        tickets = f"{server.base}/api/v1/offices/testoffice/tickets"
        async with aiohttp.ClientSession(headers=bearer(token)) as session:
            issued = []
            for _ in range(2):
                async with session.post(tickets, json={"service": "shomei"}) as resp:
                    assert resp.status == 201
                    issued.append(await resp.json())

            old_pid = int((data_dir / "redis.pid").read_text())
            os.kill(old_pid, signal.SIGKILL)

            # Ready again by itself: a new redis-server, the server answering.
            deadline = time.monotonic() + READY_WITHIN
            while True:
                pid_file = data_dir / "redis.pid"
                new_pid = int(pid_file.read_text() or 0) if pid_file.exists() else 0
                if new_pid not in (0, old_pid) and await ready(session, server.base):
                    break
                assert time.monotonic() < deadline, (
                    f"not ready again in {READY_WITHIN}s:\n{server.log()}")
                await asyncio.sleep(0.05)  # polling a child process's readiness

            for ticket in issued:
                async with session.get(f"{server.base}/api/v1/tickets/{ticket['id']}") as resp:
                    assert resp.status == 200
                    assert (await resp.json())["number"] == ticket["number"]
            async with session.post(tickets, json={"service": "shomei"}) as resp:
                assert resp.status == 201
                assert (await resp.json())["number"] == "A-003"
            assert "restarting" in server.log()
    finally:
        await redis.aclose()
        await server.stop()
    # A clean stop takes the embedded server with it (no orphan left running).
    pid = int((data_dir / "redis.pid").read_text()) if (data_dir / "redis.pid").exists() else 0
    if pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 0)
            raise AssertionError(f"redis-server {pid} still runs after the server stopped")
