"""The office display stream and the ticket socket (DESIGN §7), through
aiohttp's websocket client against the app in-process."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime
from typing import Any

import aiohttp
import pytest

from queue_server import websockets
from queue_server.events import id_tuple
from tests.servers import TICKET_ID_RE, WS_TIMEOUT, AppHarness, receive_json

OFFICE = "testoffice"
DISPLAY = f"/ws/offices/{OFFICE}/display"
STREAM_ID = re.compile(r"^\d+-\d+$")
UPGRADE = {"Upgrade": "websocket", "Connection": "Upgrade",
           "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13"}


def check_event(event: dict[str, Any], etype: str, number: str, service: str = "shomei",
                counter: str | None = None) -> None:
    """The public event shape of DESIGN §7."""
    assert STREAM_ID.match(event["id"]), event
    assert event["type"] == etype, event
    assert event["office"] == OFFICE
    datetime.fromisoformat(event["at"])
    assert event["ticket"] == {"number": number, "service": service}
    if counter is None:
        assert "counter" not in event, event
    else:
        assert event["counter"] == {"id": counter, "name": f"{counter}番窓口"}


async def receive_text(ws: aiohttp.ClientWebSocketResponse) -> str:
    msg = await asyncio.wait_for(ws.receive(), WS_TIMEOUT)
    assert msg.type == aiohttp.WSMsgType.TEXT, msg
    return str(msg.data)


async def stream_ids_after(api: AppHarness, since: str) -> list[str]:
    entries = await api.redis.xrange(api.engine.keys(OFFICE).events, f"({since}", "+")
    return [i.decode() for i, _ in entries]


async def test_display_hello_then_events_in_order(api: AppHarness) -> None:
    await api.act("1", "open")
    async with api.client.ws_connect(DISPLAY) as ws:
        hello = await receive_json(ws)
        assert hello["type"] == "hello"
        status = hello["status"]
        assert status["office"] == OFFICE
        assert [c["id"] for c in status["counters"]] == ["1", "2", "3", "4", "5"]
        assert status["counters"][0]["state"] == "open"

        first = await api.issue("shomei")
        second = await api.issue("shomei", role="staff")
        await api.act("1", "call-next")

        texts = [await receive_text(ws) for _ in range(3)]
        for text in texts:
            assert first["id"] not in text and second["id"] not in text
            assert not TICKET_ID_RE.search(text), text
        issued1, issued2, called = (json.loads(t) for t in texts)
        check_event(issued1, "ticket.issued", "A-001")
        assert issued1["channel"] == "kiosk" and issued1["waiting"] == 1
        check_event(issued2, "ticket.issued", "A-002")
        assert issued2["channel"] == "staff" and issued2["waiting"] == 2
        check_event(called, "ticket.called", "A-001", counter="1")
        assert called["waiting"] == 1
        ids = [e["id"] for e in (issued1, issued2, called)]
        assert sorted(ids, key=id_tuple) == ids and len(set(ids)) == 3
        assert ids == await stream_ids_after(api, status["last_event"])


async def test_display_resumes_after_since(api: AppHarness) -> None:
    await api.act("1", "open")
    await api.act("2", "open")
    await api.issue("shomei")
    async with api.client.ws_connect(DISPLAY) as ws:
        assert (await receive_json(ws))["type"] == "hello"
        await api.issue("shomei")
        await api.act("1", "call-next")
        seen = [await receive_json(ws) for _ in range(2)]
        assert [e["type"] for e in seen] == ["ticket.issued", "ticket.called"]
        last = seen[-1]["id"]

    # Missed while away: recall, start, finish + call (by call-next), issue.
    await api.act("1", "recall")
    await api.act("1", "start")
    await api.act("1", "call-next")
    await api.issue("ido")
    missed = await stream_ids_after(api, last)
    assert len(missed) == 5

    async with api.client.ws_connect(f"{DISPLAY}?since={last}") as ws:
        got = [await receive_json(ws) for _ in missed]
        assert [e["id"] for e in got] == missed
        assert [(e["type"], e["ticket"]["number"]) for e in got] == [
            ("ticket.recalled", "A-001"), ("ticket.serving", "A-001"),
            ("ticket.done", "A-001"), ("ticket.called", "A-002"), ("ticket.issued", "B-001")]
        # Then live ones, with nothing repeated in between.
        await api.act("2", "call-next")
        live = await receive_json(ws)
        check_event(live, "ticket.called", "B-001", service="ido", counter="2")
        assert id_tuple(live["id"]) > id_tuple(missed[-1])


async def test_display_resume_while_changes_keep_coming(api: AppHarness) -> None:
    """Changes racing the reconnection arrive exactly once, in stream order."""
    await api.act("1", "open")
    async with api.client.ws_connect(DISPLAY) as ws:
        hello = await receive_json(ws)
    since = hello["status"]["last_event"]
    for _ in range(5):
        await api.issue("shomei")

    async def changes() -> None:
        for _ in range(10):
            await api.issue("shomei")

    async with api.client.ws_connect(f"{DISPLAY}?since={since}") as ws:
        writer = asyncio.create_task(changes())
        got: list[dict[str, Any]] = []
        while len(got) < 15:
            got.append(await receive_json(ws))
        await writer
        expected = await stream_ids_after(api, since)
        assert [e["id"] for e in got] == expected
        assert [e["ticket"]["number"] for e in got] == [f"A-{n:03d}" for n in range(1, 16)]
        await api.act("1", "call-next")
        assert (await receive_json(ws))["type"] == "ticket.called"


@pytest.mark.parametrize("backlog", [10, 12])
async def test_display_resume_pages_through_a_long_backlog(
    api: AppHarness, monkeypatch: pytest.MonkeyPatch, backlog: int
) -> None:
    """More missed events than one replay page: all arrive, then live ones."""
    monkeypatch.setattr(websockets, "REPLAY_PAGE", 5)
    async with api.client.ws_connect(DISPLAY) as ws:
        since = (await receive_json(ws))["status"]["last_event"]
    for _ in range(backlog):
        await api.issue("shomei")
    async with api.client.ws_connect(f"{DISPLAY}?since={since}") as ws:
        got = [await receive_json(ws) for _ in range(backlog)]
        assert [e["id"] for e in got] == await stream_ids_after(api, since)
        await api.issue("ido")
        live = await receive_json(ws)
        assert (live["type"], live["ticket"]["number"]) == ("ticket.issued", "B-001")


@pytest.mark.parametrize("since", [
    "abc", "", "-1", "1-2-3", "1700000000000-x", "99999999999999999999-0",
    "1-99999999999999999999", "1" * 30])
async def test_display_invalid_since_is_400_before_upgrade(
    api: AppHarness, since: str
) -> None:
    async with api.client.get(DISPLAY, params={"since": since}, headers=UPGRADE) as resp:
        assert resp.status == 400
        body = await resp.json()
    assert body["error"]["code"] == "bad_request" and body["error"]["message"]
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await api.client.ws_connect(DISPLAY, params={"since": since})
    assert info.value.status == 400


async def test_display_unknown_office_is_404(api: AppHarness) -> None:
    async with api.client.get("/ws/offices/nowhere/display", headers=UPGRADE) as resp:
        assert resp.status == 404
        assert (await resp.json())["error"]["code"] == "unknown_office"


async def test_ticket_socket_follows_the_ticket(api: AppHarness) -> None:
    await api.act("1", "open")
    first = await api.issue("shomei")
    mine = await api.issue("shomei")
    async with api.client.ws_connect(f"/ws/tickets/{mine['id']}") as ws:
        hello = await receive_json(ws)
        assert hello["type"] == "ticket"
        view = hello["ticket"]
        assert view["id"] == mine["id"] and view["state"] == "waiting" and view["ahead"] == 1

        # The ticket ahead is called: a fresh view with nobody ahead.
        assert (await api.act("1", "call-next"))["id"] == first["id"]
        update = await receive_json(ws)
        assert update["type"] == "ticket"
        assert update["ticket"]["state"] == "waiting" and update["ticket"]["ahead"] == 0

        # This ticket is called: its event and a view with the counter.
        await api.act("1", "call-next")
        events: list[dict[str, Any]] = []
        view = {}
        while not events or view.get("state") != "called":
            msg = await receive_json(ws)
            if msg["type"] == "event":
                events.append(msg["event"])
            else:
                assert msg["type"] == "ticket"
                view = msg["ticket"]
        assert [e["type"] for e in events] == ["ticket.called"]
        check_event(events[0], "ticket.called", "A-002", counter="1")
        assert view["counter"] == {"id": "1", "name": "1番窓口"} and view["ahead"] is None

        # Finished: a last event and view, then the server closes the socket.
        await api.act("1", "finish")
        msgs = [await receive_json(ws), await receive_json(ws)]
        assert [m["type"] for m in msgs] == ["event", "ticket"]
        assert msgs[0]["event"]["type"] == "ticket.done"
        assert msgs[1]["ticket"]["state"] == "done"
        closing = await asyncio.wait_for(ws.receive(), WS_TIMEOUT)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_ticket_socket_sends_a_view_only_when_it_changes(api: AppHarness) -> None:
    """Changes that leave this ticket's view as it was send nothing."""
    await api.act("1", "open")
    mine = await api.issue("ido")  # counter 1 does not serve ido
    async with api.client.ws_connect(f"/ws/tickets/{mine['id']}") as ws:
        assert (await receive_json(ws))["ticket"]["ahead"] == 0
        await api.issue("shomei")
        await api.act("1", "call-next")
        await api.act("3", "open")  # now a counter serves ido: the estimate changes
        update = await receive_json(ws)
        assert update["type"] == "ticket" and update["ticket"]["state"] == "waiting"
        assert update["ticket"]["estimated_wait_minutes"] is not None


@pytest.mark.parametrize("tid", [
    f"{OFFICE}.{'A' * 22}", "nowhere." + "A" * 22, "garbage", f"{OFFICE}.short"])
async def test_ticket_socket_unknown_ticket_is_404(api: AppHarness, tid: str) -> None:
    async with api.client.get(f"/ws/tickets/{tid}", headers=UPGRADE) as resp:
        assert resp.status == 404
        assert (await resp.json())["error"]["code"] == "unknown_ticket"
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await api.client.ws_connect(f"/ws/tickets/{tid}")
    assert info.value.status == 404


async def test_server_shutdown_closes_sockets(api: AppHarness) -> None:
    """Stopping the server says goodbye (1001) instead of hanging on displays."""
    ticket = await api.issue("shomei")
    display = await api.client.ws_connect(DISPLAY)
    follower = await api.client.ws_connect(f"/ws/tickets/{ticket['id']}")
    assert (await receive_json(display))["type"] == "hello"
    assert (await receive_json(follower))["type"] == "ticket"
    await asyncio.wait_for(api.client.server.close(), WS_TIMEOUT)
    for ws in (display, follower):
        msg = await asyncio.wait_for(ws.receive(), WS_TIMEOUT)
        assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == 1001
