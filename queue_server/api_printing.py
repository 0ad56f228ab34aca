"""Ticket printing over HTTP and the kiosk agent's websocket.

- ``POST /api/v1/tickets/{ticket_id}/print``: a kiosk asks for its ticket on
  its own printer; staff reprint on a kiosk's printer (``{"kiosk": id}``).
- ``GET /api/v1/offices/{office}/printers``: staff see every kiosk printer.
- ``GET /ws/kiosk-agent``: the kiosk agent connects out with the kiosk's
  device token (``Authorization: Bearer``) and receives that kiosk's jobs;
  it answers ``{"type": "ack", "job", "printed", "state", "detail"}`` and
  ``{"type": "status", "state", "detail"}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from aiohttp import WSMsgType, web
from pydantic import BaseModel, Field, ValidationError

from . import api_models as m
from . import card_relay
from .api import json_response, known_office, parse, principal, ticket_id, unknown_ticket
from .context import ctx
from .engine import office_of_ticket
from .errors import MadoguchiError
from .print_jobs import STATES, PrintJobs
from .websockets import OPEN_SOCKETS

log = logging.getLogger("madoguchi.printing")
routes = web.RouteTableDef()
HEARTBEAT_SECONDS = 20.0


class AgentAck(BaseModel):
    type: str = Field(pattern="^ack$")
    job: str = Field(max_length=120)
    printed: bool
    state: str = Field(pattern="^(" + "|".join(STATES) + ")$")
    detail: dict[str, Any] = Field(default_factory=dict)


class AgentStatus(BaseModel):
    type: str = Field(pattern="^status$")
    state: str = Field(pattern="^(" + "|".join(STATES) + ")$")
    detail: dict[str, Any] = Field(default_factory=dict)


def jobs(request: web.Request) -> PrintJobs:
    app = ctx(request)
    return PrintJobs(app.engine, app.settings.public_base_url)


@routes.post("/api/v1/tickets/{ticket_id}/print", name="print_ticket")
async def print_ticket(request: web.Request) -> web.Response:
    tid = ticket_id(request)
    office = office_of_ticket(tid)
    who = await principal(request)
    # Who asks is checked before what they send.
    who.require("issue_ticket" if who.role == "kiosk" else "ticket_admin", office)
    body = await parse(request, m.PrintRequest)
    if who.role == "kiosk":
        kiosk, reprint = who.token_id, False
    else:
        if body.kiosk is None:
            raise MadoguchiError("validation_failed", "Say which kiosk prints: {\"kiosk\": id}.")
        kiosk, reprint = body.kiosk, True
    with unknown_ticket():
        result = await jobs(request).print_ticket(office, kiosk, tid, reprint=reprint)
    return json_response(result, status=202)


@routes.get("/api/v1/offices/{office}/printers", name="printers")
async def printers(request: web.Request) -> web.Response:
    _, office = await known_office(request)
    (await principal(request)).require("ticket_admin", office)
    return json_response({"office": office, "printers": await jobs(request).printers(office)})


@routes.get("/ws/kiosk-agent", name="ws_kiosk_agent")
async def kiosk_agent_socket(request: web.Request) -> web.StreamResponse:
    app = ctx(request)
    who = await principal(request)
    if who.role != "kiosk":
        raise MadoguchiError("forbidden", "Only a kiosk token connects a kiosk agent.")
    office, kiosk = who.office, who.token_id
    await app.engine.office(office)
    store = jobs(request)
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS, max_msg_size=16384, compress=False)
    await ws.prepare(request)
    request.app[OPEN_SOCKETS].add(ws)
    sub = await app.hub.subscribe(office)  # before reading jobs: none can slip between
    sent: set[str] = set()
    send_lock = asyncio.Lock()

    async def send_pending() -> None:
        async with send_lock:
            for job in await store.pending(office, kiosk):
                if job["id"] not in sent:
                    await ws.send_str(json.dumps({"type": "job", "job": job}, ensure_ascii=False))
                    sent.add(job["id"])

    async def pump() -> None:
        while not sub.overflowed:
            event = await sub.queue.get()
            if event.type == "print.queued" and event.data.get("kiosk") == kiosk:
                await send_pending()

    async def read() -> None:
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            try:
                data = json.loads(msg.data)
                if data.get("type") == "ack":
                    ack = AgentAck.model_validate(data)
                    await store.ack(office, kiosk, ack.job, ack.printed, ack.state, ack.detail)
                    await ws.send_str(json.dumps({"type": "acked", "job": ack.job}))
                elif data.get("type") == "status":
                    st = AgentStatus.model_validate(data)
                    await store.report_status(office, kiosk, st.state, st.detail, who.label)
                elif data.get("type") in card_relay.AGENT_MESSAGES:  # My Number card relay
                    await card_relay.agent_message(request, ws, office, kiosk, data)
                else:
                    raise ValueError("unknown message type")
            except (ValueError, ValidationError, AttributeError):
                await ws.send_str(json.dumps({"type": "error", "error": {
                    "code": "bad_request", "message": "unknown or malformed message"}}))

    await ws.send_str(json.dumps({"type": "hello", "kiosk": kiosk, "office": office}))
    tasks = [asyncio.create_task(read()), asyncio.create_task(pump())]
    try:
        await send_pending()
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await task
        app.hub.unsubscribe(sub)
        request.app[OPEN_SOCKETS].discard(ws)
        await ws.close()
        with contextlib.suppress(Exception):  # best effort: staff see the agent went away
            await store.report_status(office, kiosk, "disconnected", {}, who.label)
    return ws
