"""Websockets: the office display stream and one ticket's updates."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from .api import office_id, ticket_id, unknown_ticket
from .context import ctx
from .engine import office_of_ticket
from .errors import MadoguchiError
from .events import STREAM_ID, Event, id_tuple, replay
from .hub import Subscription

routes = web.RouteTableDef()
HEARTBEAT_SECONDS = 30.0
OPEN_SOCKETS = web.AppKey("madoguchi_websockets", set)
MAX_ID_PART = 2**64 - 1  # Redis stream ids are two unsigned 64-bit numbers
REPLAY_PAGE = 1000


def setup(app: web.Application) -> None:
    """Routes, and closing every socket when the server shuts down (else a
    SIGTERM waits for each display to hang up, up to the shutdown timeout)."""
    app[OPEN_SOCKETS] = set()
    app.router.add_routes(routes)
    app.on_shutdown.append(_close_sockets)


async def _close_sockets(app: web.Application) -> None:
    # All at once: each close may wait (up to its timeout) for the client's reply.
    await asyncio.gather(
        *(ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
          for ws in list(app[OPEN_SOCKETS])),
        return_exceptions=True,
    )


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
    # No permessage-deflate: its per-socket zlib state costs ~120 KB of
    # memory per display, and the events are a few hundred bytes.
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS, max_msg_size=4096, compress=False)
    await ws.prepare(request)
    request.app[OPEN_SOCKETS].add(ws)
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
        request.app[OPEN_SOCKETS].discard(ws)
        await ws.close()
    return ws


@routes.get("/ws/offices/{office}/display", name="ws_display")
async def display_socket(request: web.Request) -> web.StreamResponse:
    app = ctx(request)
    office = office_id(request)
    await app.engine.office(office)
    since = request.query.get("since")
    if since is not None and (
        not STREAM_ID.fullmatch(since) or max(id_tuple(since)) > MAX_ID_PART
    ):
        raise MadoguchiError("bad_request", "since must be an event id such as 1700000000000-0")

    async def pump(ws: web.WebSocketResponse, sub: Subscription) -> None:
        # Subscribed first, replayed second: nothing falls between the two,
        # and what both saw is sent once (by id). Nothing at or before what
        # the client has (since, or the hello's status) is sent again.
        sent = (0, 0)
        stream = app.engine.keys(office).events
        if since is not None:
            sent = id_tuple(since)
            missed, gap = await replay(app.redis, stream, since, limit=REPLAY_PAGE)
            if gap:
                await ws.send_str(json.dumps({"type": "resync"}))
            while missed:  # page by page, up to the events the hub delivers
                for event in missed:
                    await ws.send_str(event.public_json())
                    sent = id_tuple(event.id)
                if len(missed) < REPLAY_PAGE:
                    break
                missed, _ = await replay(app.redis, stream, missed[-1].id, limit=REPLAY_PAGE)
        else:
            status = await app.engine.status(office)
            if status.get("last_event"):
                sent = id_tuple(status["last_event"])
            await ws.send_str(json.dumps({"type": "hello", "status": status}, ensure_ascii=False))
        last = [sent]

        def fast(event: Event) -> bool:
            if id_tuple(event.id) <= last[0]:
                return True  # already sent by the replay
            if not write_frame(request, ws, event):
                return False
            last[0] = id_tuple(event.id)
            return True

        while not sub.overflowed:
            if sub.queue.empty() and not ws.compress:
                sub.fast = fast
            event = await sub.queue.get()
            if id_tuple(event.id) > last[0]:
                await ws.send_str(event.public_json())
                last[0] = id_tuple(event.id)

    return await _serve(request, "display", office, pump)


FAST_WRITE_BUFFER_LIMIT = 64 * 1024


def write_frame(request: web.Request, ws: web.WebSocketResponse, event: Event) -> bool:
    """Write an event frame straight to the socket's transport, if it is
    open, uncompressed and not backed up. aiohttp writes every frame whole
    and synchronously, so whole frames written here never interleave with
    its own (pings, replies)."""
    transport = request.transport
    if (
        ws.closed
        or transport is None
        or transport.is_closing()
        or transport.get_write_buffer_size() > FAST_WRITE_BUFFER_LIMIT
    ):
        return False
    transport.write(event.public_frame())
    return True


@routes.get("/ws/tickets/{ticket_id}", name="ws_ticket")
async def ticket_socket(request: web.Request) -> web.StreamResponse:
    app = ctx(request)
    tid = ticket_id(request)
    office = office_of_ticket(tid)
    with unknown_ticket():
        await app.engine.ticket(tid)  # 404 before upgrading for unknown ids

    async def pump(ws: web.WebSocketResponse, sub: Subscription) -> None:
        # Read once subscribed, so a change in between is not lost.
        first = last = await app.engine.ticket(tid)
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
