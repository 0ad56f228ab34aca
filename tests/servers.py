"""Test helpers around the web process.

- `AppHarness`: the aiohttp app of `create_app` served in-process on a real
  socket (aiohttp's TestServer + TestClient), sharing the test's Redis client,
  with the small test office configured and helpers for tokens and counters.
- `ServerProcess`: a real `madoguchi serve` child process on a free port,
  against the test's Redis and tenant.
- `cli()`: run the `madoguchi` command against the test's Redis and tenant.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from queue_server.app import create_app
from queue_server.auth import Tokens
from queue_server.clock import Clock, system_clock
from queue_server.engine import Engine
from queue_server.office_config import Office
from queue_server.settings import Settings

REPO = Path(__file__).resolve().parent.parent
MADOGUCHI = Path(sys.executable).parent / "madoguchi"
OFFICE = "testoffice"
# What a ticket id looks like (office + "." + >= 22 url-safe characters):
# public documents must never contain one.
TICKET_ID_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}\.[A-Za-z0-9_-]{22,}")
WS_TIMEOUT = 5.0


async def delete_tenant(redis: Redis, tenant: str) -> None:
    """Remove every key of a test tenant (office keys `mg:{tenant:office}:…`
    and tenant keys `mg:{tenant}:…`), so a shared Redis is left clean."""
    pattern = f"mg:{{{tenant}[:}}]*"  # one pass over a shared database, not two
    keys = [k async for k in redis.scan_iter(match=pattern, count=10_000)]
    if keys:
        await redis.unlink(*keys)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def without_at(status: dict[str, Any]) -> dict[str, Any]:
    """A status document or ticket view without what moves with the clock
    (its generation time, the forecast's call times), for before/after checks."""
    return {k: v for k, v in status.items()
            if k not in ("at", "expected_call_at", "call_low_at")}


async def receive_json(ws: aiohttp.ClientWebSocketResponse,
                       within: float = WS_TIMEOUT) -> dict[str, Any]:
    """The next message of a websocket as JSON; fails on close or timeout."""
    msg = await asyncio.wait_for(ws.receive(), within)
    assert msg.type == aiohttp.WSMsgType.TEXT, f"expected a text message, got {msg!r}"
    data = json.loads(msg.data)
    assert isinstance(data, dict)
    return data


@dataclass
class AppHarness:
    """The app in-process. `client` speaks HTTP and websockets to it."""

    redis: Redis
    tenant: str
    client: TestClient
    engine: Engine  # a real-clock engine on the same tenant, for set-up
    office: str = OFFICE
    _tokens: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def app(self) -> web.Application:
        return self.client.app  # type: ignore[return-value]

    async def token(self, role: str, office: str | None = None) -> str:
        office = office or self.office
        key = (role, office)
        if key not in self._tokens:
            self._tokens[key], _ = await Tokens(self.redis, self.tenant).create(role, office)
        return self._tokens[key]

    async def auth(self, role: str = "staff", office: str | None = None) -> dict[str, str]:
        return bearer(await self.token(role, office))

    def path(self, rest: str = "") -> str:
        return f"/api/v1/offices/{self.office}{rest}"

    async def request(self, method: str, path: str, *, role: str | None = None,
                      json_body: Any = None, data: Any = None,
                      headers: Mapping[str, str] | None = None) -> tuple[int, Any]:
        """(status, parsed JSON body or None for an empty body)."""
        h = dict(headers or {})
        if role is not None:
            h.update(await self.auth(role))
        kwargs: dict[str, Any] = {"headers": h}
        if json_body is not None:
            kwargs["json"] = json_body
        elif data is not None:
            kwargs["data"] = data
        async with self.client.request(method, path, **kwargs) as resp:
            raw = await resp.read()
            if not raw:
                return resp.status, None
            assert resp.content_type == "application/json", (resp.status, raw[:200])
            return resp.status, json.loads(raw)

    async def ok(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        status, body = await self.request(method, path, **kwargs)
        assert status == expect, (method, path, status, body)
        return body

    async def issue(self, service: str = "shomei", role: str = "kiosk", **body: Any) -> Any:
        return await self.ok("POST", self.path("/tickets"), 201, role=role,
                             json_body={"service": service, **body})

    async def act(self, counter: str, action: str, body: Any = None,
                  expect: int = 200) -> Any:
        return await self.ok("POST", self.path(f"/counters/{counter}/{action}"), expect,
                             role="staff", json_body=body)

    async def status(self) -> dict[str, Any]:
        return await self.ok("GET", self.path("/status"))



@contextlib.asynccontextmanager
async def app_harness(redis: Redis, tenant: str, office: Office | None = None,
                      settings: Settings | None = None,
                      clock: Clock = system_clock) -> AsyncIterator[AppHarness]:
    """The app on `redis` for `tenant`, with `office` configured first (if
    given); the tenant's keys are deleted afterwards."""
    engine = Engine(redis, tenant)
    try:
        if office is not None:
            await engine.configure(office)
        app = create_app(settings or Settings(tenant=tenant), redis=redis, clock=clock)
        client = TestClient(TestServer(app))
        await client.start_server()
        try:
            yield AppHarness(redis, tenant, client, engine,
                             office=office.id if office else OFFICE)
        finally:
            await client.close()
    finally:
        await delete_tenant(redis, tenant)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def child_env(redis_url: str, tenant: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MADOGUCHI_")}
    env.update({"REDIS_URL": redis_url, "MADOGUCHI_TENANT": tenant,
                "MADOGUCHI_LOG_LEVEL": "WARNING", **extra})
    return env


class ServerProcess:
    """One `madoguchi serve` process. Its log goes to a file, shown when it
    fails to start."""

    def __init__(self, redis_url: str, tenant: str, workdir: Path, name: str = "web") -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = child_env(redis_url, tenant, MADOGUCHI_PORT=str(self.port),
                             MADOGUCHI_VAR_DIR=str(workdir / f"{name}-var"))
        self.workdir = workdir
        self.log_path = workdir / f"{name}-{self.port}.log"
        self.process: asyncio.subprocess.Process | None = None

    def ws_url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def start(self, within: float = 20.0) -> ServerProcess:
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                str(MADOGUCHI), "serve", env=self.env, cwd=str(self.workdir),
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            )
        deadline = time.monotonic() + within
        async with aiohttp.ClientSession() as session:
            while True:
                if self.process.returncode is not None:
                    raise RuntimeError(f"madoguchi serve exited with {self.process.returncode}:"
                                       f"\n{self.log()}")
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    async with session.get(f"{self.base}/readyz") as resp:
                        if resp.status == 200:
                            return self
                if time.monotonic() > deadline:
                    await self.kill()
                    raise RuntimeError(f"madoguchi serve not ready in {within}s:\n{self.log()}")
                # Polling the readiness of a child process, not a test race.
                await asyncio.sleep(0.05)

    async def stop(self, within: float = 15.0) -> int | None:
        """SIGTERM and wait; SIGKILL if it does not stop in time."""
        if self.process is None or self.process.returncode is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.process.wait(), within)
        except TimeoutError:
            await self.kill()
            raise

    async def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


ServerFactory = Callable[..., Awaitable[ServerProcess]]


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


async def cli(redis_url: str, tenant: str, *args: str, cwd: Path | None = None,
              within: float = 30.0) -> CliResult:
    """Run `madoguchi ARGS` against the test Redis and tenant."""
    proc = await asyncio.create_subprocess_exec(
        str(MADOGUCHI), *args, env=child_env(redis_url, tenant), cwd=str(cwd or REPO),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), within)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return CliResult(proc.returncode, out.decode(), err.decode())
