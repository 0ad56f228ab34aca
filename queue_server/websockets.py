"""Websockets: the office display stream and one ticket's updates."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from aiohttp import WSMsgType, web

from .api import office_id, ticket_id
from .context import ctx
from .engine import office_of_ticket
from .errors import MadoguchiError
from .events import STREAM_ID, Event, id_tuple, replay
from .hub import Subscription

routes = web.RouteTableDef()
HEARTBEAT_SECONDS = 30.0


async def _drain_client(ws: web.WebSocketResponse) -> None:
    """Read (and ignore) what the client sends, so pings, pongs and close
    frames are handled."""
    async for msg in ws:
        if msg.type == WSMsgType.ERROR:
            break


async def _serve(
    request: web.Request, kind: str, office: str, pump: Any
) -> web.WebSocketResponse:
    app = ctx(request)
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS, max_msg_size=4096)
    await ws.prepare(request)
    sub = await app.hub.subscribe(office)
    app.metrics.websockets.labels(kind).inc()
    reader = asyncio.create_task(_drain_client(ws))
    writer = asyncio.create_task(pump(ws, sub))
    try:
        await asyncio.wait({reader, writer}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (reader, writer):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await task
        app.hub.unsubscribe(sub)
        app.metrics.websockets.labels(kind).dec()
        await ws.close()
    return ws


@routes.get("/ws/offices/{office}/display", name="ws_display")
async def display_socket(request: web.Request) -> web.StreamResponse:
    app = ctx(request)
    office = office_id(request)
    await app.engine.office(office)
    since = request.query.get("since")
    if since is not None and not STREAM_ID.fullmatch(since):
        raise MadoguchiError("bad_request", "since must be an event id such as 1700000000000-0")

    async def pump(ws: web.WebSocketResponse, sub: Subscription) -> None:
        # Subscribed first, replayed second: nothing falls between the two,
        # and what both saw is sent once (by id).
        sent = (0, 0)
        stream = app.engine.keys(office).events
        if since is not None:
            missed, gap = await replay(app.redis, stream, since)
            if gap:
                await ws.send_str(json.dumps({"type": "resync"}))
            for event in missed:
                await ws.send_str(event.public_json())
                sent = id_tuple(event.id)
        else:
            status = await app.engine.status(office)
            await ws.send_str(json.dumps({"type": "hello", "status": status}, ensure_ascii=False))
        while not sub.overflowed:
            event = await sub.queue.get()
            if id_tuple(event.id) > sent:
                await ws.send_str(event.public_json())

    return await _serve(request, "display", office, pump)


@routes.get("/ws/tickets/{ticket_id}", name="ws_ticket")
async def ticket_socket(request: web.Request) -> web.StreamResponse:
    app = ctx(request)
    tid = ticket_id(request)
    office = office_of_ticket(tid)
    first = await app.engine.ticket(tid)  # 404 before upgrading for unknown ids

    async def pump(ws: web.WebSocketResponse, sub: Subscription) -> None:
        last = first
        await ws.send_str(json.dumps({"type": "ticket", "ticket": first}, ensure_ascii=False))
        while not sub.overflowed:
            event: Event = await sub.queue.get()
            # Coalesce a burst: one fresh view after all queued events.
            mine = [event] if event.ticket_id == tid else []
            while not sub.queue.empty():
                e = sub.queue.get_nowait()
                if e.ticket_id == tid:
                    mine.append(e)
            for e in mine:
                await ws.send_str(json.dumps({"type": "event", "event": e.public}))
            view = await app.engine.ticket(tid)
            if _changed(last, view):
                await ws.send_str(
                    json.dumps({"type": "ticket", "ticket": view}, ensure_ascii=False)
                )
                last = view
            if view["state"] in ("done", "cancelled"):
                break

    return await _serve(request, "ticket", office, pump)


def _changed(old: dict[str, Any], new: dict[str, Any]) -> bool:
    ignore = {"last_event"}
    return {k: v for k, v in old.items() if k not in ignore} != {
        k: v for k, v in new.items() if k not in ignore
    }
