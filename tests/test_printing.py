"""Print jobs for the kiosk agent: queued per kiosk in Redis, delivered over
/ws/kiosk-agent (the real `websockets` client, as the agent uses), kept
until acknowledged, printed once; printer states for staff."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import websockets
from redis.asyncio import Redis

from queue_server.auth import Tokens
from tests.conftest import small_office
from tests.servers import AppHarness, app_harness, bearer

TIMEOUT = 5.0


def ws_url(api: AppHarness) -> str:
    return str(api.client.make_url("/ws/kiosk-agent")).replace("http://", "ws://")


async def recv(ws: Any) -> dict[str, Any]:
    data = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
    assert isinstance(data, dict)
    return data


async def connect(api: AppHarness, token: str) -> Any:
    ws = await websockets.connect(ws_url(api), additional_headers=bearer(token))
    hello = await recv(ws)
    assert hello["type"] == "hello" and hello["office"] == api.office
    return ws


async def kiosk_id(api: AppHarness, token: str) -> str:
    return (await Tokens(api.redis, api.tenant).authenticate(token)).token_id


async def issue_and_print(api: AppHarness, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    ticket = await api.ok("POST", api.path("/tickets"), 201, headers=bearer(token),
                          json_body={"service": "shomei", "lang": "en"})
    queued = await api.ok("POST", f"/api/v1/tickets/{ticket['id']}/print", 202,
                          headers=bearer(token))
    return ticket, queued


@pytest.fixture
async def two_kiosks(api: AppHarness) -> tuple[str, str]:
    tokens = Tokens(api.redis, api.tenant)
    first, _ = await tokens.create("kiosk", api.office, "入口")
    second, _ = await tokens.create("kiosk", api.office, "2階")
    return first, second


async def test_job_reaches_the_agent_and_is_printed_once(
    api: AppHarness, two_kiosks: tuple[str, str]
) -> None:
    token, other = two_kiosks
    ws = await connect(api, token)
    other_ws = await connect(api, other)
    ticket, queued = await issue_and_print(api, token)
    assert queued == {"job": ticket["id"], "queued": True, "kiosk": await kiosk_id(api, token)}
    job = (await recv(ws))["job"]
    assert job["id"] == ticket["id"]
    payload = job["ticket"]
    assert payload["number"] == ticket["number"] and payload["lang"] == "en"
    assert payload["url"].endswith(f"/t/{ticket['id']}") and payload["konbini"] is True
    assert payload["office"] == {"ja": "テスト区役所", "local": "Test Ward Office"}
    # Asking again queues nothing (a double tap, a retried request).
    again = await api.ok("POST", f"/api/v1/tickets/{ticket['id']}/print", 202,
                         headers=bearer(token))
    assert again["queued"] is False

    await ws.send(json.dumps({"type": "ack", "job": job["id"], "printed": True, "state": "ok",
                              "detail": {"online": True}}))
    assert await recv(ws) == {"type": "acked", "job": job["id"]}
    # The other kiosk's agent heard nothing; a second kiosk's job goes to it only.
    ticket2, _ = await issue_and_print(api, other)
    assert (await recv(other_ws))["job"]["id"] == ticket2["id"]
    (mine, theirs) = sorted((await api.ok("GET", api.path("/printers"), role="staff"))[
        "printers"], key=lambda p: p["kiosk"] != queued["kiosk"])
    assert (mine["label"], mine["state"], mine["pending"], mine["failed"]) == ("", "ok", 0, [])
    assert theirs["pending"] == 1
    printed_again = await api.ok("POST", f"/api/v1/tickets/{ticket['id']}/print", 202,
                                 headers=bearer(token))
    assert printed_again["queued"] is False  # printed: never again by itself
    await ws.close()
    await other_ws.close()


async def test_a_job_survives_a_disconnect(api: AppHarness, two_kiosks: tuple[str, str]) -> None:
    token, _ = two_kiosks
    ticket, _ = await issue_and_print(api, token)  # the agent is away
    ws = await connect(api, token)
    job = (await recv(ws))["job"]
    assert job["id"] == ticket["id"]
    await ws.close()  # gone before acknowledging: the job stays
    ws = await connect(api, token)
    assert (await recv(ws))["job"]["id"] == ticket["id"]
    ack = {"type": "ack", "job": job["id"], "printed": True, "state": "ok"}
    await ws.send(json.dumps(ack))
    assert (await recv(ws))["type"] == "acked"
    await ws.send(json.dumps(ack))  # an ack heard twice changes nothing
    assert (await recv(ws))["type"] == "acked"
    await ws.close()
    ws = await connect(api, token)
    await ws.send(json.dumps({"type": "status", "state": "ok"}))
    # Nothing is sent again: the next message is the answer to a bad one.
    await ws.send("{}")
    assert (await recv(ws))["type"] == "error"
    await ws.close()


async def test_failed_print_is_shown_to_staff_and_reprinted(
    api: AppHarness, two_kiosks: tuple[str, str]
) -> None:
    token, _ = two_kiosks
    ws = await connect(api, token)
    events = await api.client.ws_connect(f"/ws/offices/{api.office}/display")
    assert (await events.receive_json())["type"] == "hello"
    ticket, queued = await issue_and_print(api, token)
    job = (await recv(ws))["job"]
    await ws.send(json.dumps({"type": "ack", "job": job["id"], "printed": False,
                              "state": "paper_end", "detail": {"paper": "end"}}))
    assert (await recv(ws))["type"] == "acked"
    seen: list[dict[str, Any]] = []
    while not {"print.done", "printer.status"} <= {e["type"] for e in seen}:
        seen.append(await asyncio.wait_for(events.receive_json(), TIMEOUT))
    public = {e["type"]: e for e in seen}
    assert public["print.done"]["ok"] is False and public["print.done"]["number"] == "A-001"
    assert public["printer.status"]["state"] == "paper_end"
    assert ticket["id"] not in json.dumps(seen)  # the ticket id is a capability
    (printer,) = (await api.ok("GET", api.path("/printers"), role="staff"))["printers"]
    assert printer["state"] == "paper_end"
    assert printer["failed"] == [{"ticket": ticket["id"], "number": ticket["number"]}]

    status, body = await api.request("POST", f"/api/v1/tickets/{ticket['id']}/print",
                                     role="staff")
    assert (status, body["error"]["code"]) == (422, "validation_failed")
    reprint = await api.ok("POST", f"/api/v1/tickets/{ticket['id']}/print", 202, role="staff",
                           json_body={"kiosk": queued["kiosk"]})
    assert reprint["job"] == f"{ticket['id']}:r1" and reprint["queued"]
    job = (await recv(ws))["job"]
    assert job["id"] == reprint["job"]
    await ws.send(json.dumps({"type": "ack", "job": job["id"], "printed": True, "state": "ok"}))
    assert (await recv(ws))["type"] == "acked"
    (printer,) = (await api.ok("GET", api.path("/printers"), role="staff"))["printers"]
    assert (printer["state"], printer["failed"]) == ("ok", [])
    await ws.close()
    await events.close()


async def test_agent_socket_needs_a_kiosk_token(api: AppHarness) -> None:
    for role in (None, "display", "staff"):
        headers = bearer(await api.token(role)) if role else {}
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(ws_url(api), additional_headers=headers)
        assert refused.value.response.status_code in (401, 403)
    status, _ = await api.request("GET", api.path("/printers"), role="kiosk")
    assert status == 403
    ticket = await api.issue()
    status, _ = await api.request("POST", f"/api/v1/tickets/{ticket['id']}/print",
                                  role="display")
    assert status == 403


@pytest.fixture
async def second_process(redis: Redis, api: AppHarness) -> AsyncIterator[AppHarness]:
    async with app_harness(redis, api.tenant, small_office()) as other:
        yield other


async def test_job_queued_on_one_process_reaches_an_agent_on_another(
    api: AppHarness, second_process: AppHarness, two_kiosks: tuple[str, str]
) -> None:
    token, _ = two_kiosks
    ws = await connect(second_process, token)
    ticket, _ = await issue_and_print(api, token)
    assert (await recv(ws))["job"]["id"] == ticket["id"]
    await ws.close()
