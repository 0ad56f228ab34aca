"""Several `madoguchi serve` processes on one Redis (DESIGN §2: stateless
web processes, the scale-out path): a display sees calls made through any
process, and survives its process dying by resuming with `since`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from queue_server.auth import Tokens
from queue_server.engine import Engine
from tests.conftest import small_office
from tests.servers import WS_TIMEOUT, ServerFactory, ServerProcess, bearer, receive_json

OFFICE = "testoffice"
DISPLAY = f"/ws/offices/{OFFICE}/display"


class Office:
    """The test office, configured on the shared Redis, driven over HTTP."""

    def __init__(self, redis: Redis, tenant: str, session: aiohttp.ClientSession) -> None:
        self.redis = redis
        self.tenant = tenant
        self.session = session
        self.engine = Engine(redis, tenant)
        self.headers: dict[str, dict[str, str]] = {}

    async def setup(self) -> Office:
        await self.engine.configure(small_office())
        for counter in ("1", "2"):
            await self.engine.set_counter_state(OFFICE, counter, "open")
        tokens = Tokens(self.redis, self.tenant)
        for role in ("kiosk", "staff"):
            self.headers[role] = bearer((await tokens.create(role, OFFICE))[0])
        return self

    async def post(self, server: ServerProcess, path: str, role: str, body: Any,
                   expect: int) -> Any:
        async with self.session.post(f"{server.base}/api/v1/offices/{OFFICE}{path}",
                                     json=body, headers=self.headers[role]) as resp:
            assert resp.status == expect, await resp.text()
            return await resp.json()

    async def issue(self, server: ServerProcess, service: str = "shomei") -> Any:
        return await self.post(server, "/tickets", "kiosk", {"service": service}, 201)

    async def call_next(self, server: ServerProcess, counter: str) -> Any:
        return await self.post(server, f"/counters/{counter}/call-next", "staff", None, 200)

    async def events_after(self, since: str) -> list[str]:
        entries = await self.redis.xrange(self.engine.keys(OFFICE).events, f"({since}", "+")
        return [i.decode() for i, _ in entries]


@pytest.fixture
async def office(redis: Redis, clean_tenant: str) -> AsyncIterator[Office]:
    async with aiohttp.ClientSession() as session:
        yield await Office(redis, clean_tenant, session).setup()


async def test_display_on_one_process_sees_calls_through_another_and_sigterm(
    office: Office, servers: ServerFactory
) -> None:
    one, two = await asyncio.gather(servers("one"), servers("two"))
    async with office.session.ws_connect(one.ws_url(DISPLAY)) as ws:
        assert (await receive_json(ws))["type"] == "hello"
        ticket = await office.issue(two)
        called = await office.call_next(two, "2")
        assert called["id"] == ticket["id"]
        issued, call = await receive_json(ws), await receive_json(ws)
        assert (issued["type"], issued["ticket"]["number"]) == ("ticket.issued", "A-001")
        assert (call["type"], call["ticket"]["number"]) == ("ticket.called", "A-001")
        assert call["counter"] == {"id": "2", "name": "2番窓口"}
        assert ticket["id"] not in str(issued) + str(call)

        # A rolling restart: SIGTERM says goodbye (1001) to connected displays
        # and the process exits at once instead of waiting for them to hang up.
        assert await one.stop(within=10) == 0
        msg = await asyncio.wait_for(ws.receive(), WS_TIMEOUT)
        assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == 1001


async def test_display_resumes_on_a_new_process_after_a_crash(
    office: Office, servers: ServerFactory
) -> None:
    one, two = await asyncio.gather(servers("one"), servers("two"))
    await office.issue(two)
    async with office.session.ws_connect(one.ws_url(DISPLAY)) as ws:
        assert (await receive_json(ws))["type"] == "hello"
        await office.call_next(two, "1")
        last = (await receive_json(ws))["id"]
        await one.kill()  # SIGKILL, as a crash would
        gone = await asyncio.wait_for(ws.receive(), WS_TIMEOUT)
        assert gone.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                             aiohttp.WSMsgType.ERROR)

    # Meanwhile, the office goes on through process two.
    for _ in range(3):
        await office.issue(two)
    await office.call_next(two, "1")
    await office.call_next(two, "2")
    missed = await office.events_after(last)
    # 3 issued, then done + called at counter 1, then called at counter 2.
    assert len(missed) == 6

    three = await servers("three")
    async with office.session.ws_connect(three.ws_url(f"{DISPLAY}?since={last}")) as ws:
        got = [await receive_json(ws) for _ in missed]
        assert [e["id"] for e in got] == missed
        assert [(e["type"], e["ticket"]["number"]) for e in got] == [
            ("ticket.issued", "A-002"), ("ticket.issued", "A-003"), ("ticket.issued", "A-004"),
            ("ticket.done", "A-001"), ("ticket.called", "A-002"), ("ticket.called", "A-003")]
        # Live again, and nothing was sent twice in between.
        await office.call_next(two, "2")
        live = await receive_json(ws)
        assert (live["type"], live["ticket"]["number"]) == ("ticket.done", "A-003")
        assert live["id"] not in missed

