"""The smartphone ticket page `/t/{ticket_id}` (DESIGN §1, §7, §11) and the
Web Push behind it.

- `/t/{ticket_id}`: the page (static; every datum from the public API and
  `/ws/tickets/{id}`, every text from `static/i18n/ticket.<lang>.json`).
  Its URL is the ticket's capability: private (no-store, noindex, no
  Referer). An unknown or malformed id gets the same page with 404; the
  page then explains it in the citizen's language.
- `/t/sw.js`: the service worker, at a path whose scope (`/t/`) covers the
  ticket pages; it shows the call when a push arrives.
- `/static/ticket/…`, `/static/ticket-i18n/…`: ES modules, CSS, catalogs.
- `GET /api/v1/push/vapid-public-key`, `POST /api/v1/tickets/{id}/push-subscription`
  and `GET /api/v1/offices/{office}/counters` (counter names per language).
- A push worker per process (displays.push_worker), started and stopped
  with the app.

Loaded by `queue_server.app.create_app` through the `madoguchi.web` entry
point group (`setup(app)`).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web

from queue_server import openapi
from queue_server.api import json_response, known_office, parse, ticket_id
from queue_server.api_models import TICKET_ID
from queue_server.context import CONTEXT, ctx
from queue_server.errors import MadoguchiError
from queue_server.pages import SECURITY_HEADERS, add_static, page

from .push_worker import PushWorker
from .webpush import (
    EndpointPolicy,
    PushKeys,
    PushSubscription,
    Sender,
    Subscriptions,
    VapidKeys,
    load_vapid,
    vapid_subject,
)

STATIC = Path(__file__).resolve().parent / "static"
PAGE = STATIC / "ticket" / "ticket.html"
SERVICE_WORKER = STATIC / "ticket" / "sw.js"


@dataclass
class Push:
    vapid: VapidKeys
    subscriptions: Subscriptions
    policy: EndpointPolicy
    worker: PushWorker


PUSH = web.AppKey("madoguchi_push", Push)


def _push(request: web.Request) -> Push:
    push = request.app.get(PUSH)
    if push is None:  # only while the app starts or stops
        raise MadoguchiError("unavailable")
    return push


async def ticket_page(request: web.Request) -> web.StreamResponse:
    tid = request.match_info["ticket_id"]
    known = False
    if re.fullmatch(TICKET_ID, tid):
        try:
            await ctx(request).engine.ticket(tid)
            known = True
        except MadoguchiError:
            known = False  # unknown ticket, or an office that does not exist
    return page(PAGE, status=200 if known else 404, private=True)


async def service_worker(request: web.Request) -> web.StreamResponse:
    response = web.FileResponse(SERVICE_WORKER)
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    response.headers.update(SECURITY_HEADERS)
    # Browsers check for a new worker on each visit; no-cache keeps that cheap.
    response.headers["Cache-Control"] = "no-cache"
    return response


async def vapid_public_key(request: web.Request) -> web.Response:
    return json_response({"public_key": _push(request).vapid.public_key})


async def push_subscription(request: web.Request) -> web.Response:
    push = _push(request)
    tid = ticket_id(request)
    body = await parse(request, PushSubscription)
    problem = push.policy.problem(body.endpoint)
    if problem is not None:
        raise MadoguchiError("validation_failed",
                             problems=[{"field": "endpoint", "problem": problem}])
    await push.subscriptions.add(tid, body)
    return json_response({"subscribed": True}, status=201)


async def office_counters(request: web.Request) -> web.Response:
    """Counter names per language (the ticket view carries the Japanese one)."""
    app, office = await known_office(request)
    config = await app.engine.office(office)
    return json_response({"office": office, "counters": [
        {"id": c.id, "names": c.names.as_dict()} for c in config.counters]})


def _openapi() -> None:
    openapi.register({
        "/api/v1/push/vapid-public-key": {"get": openapi.op(
            "The server's VAPID public key (applicationServerKey for PushManager.subscribe)",
            [], {"200": "{public_key}: base64url P-256 point"}, errors=())},
        "/api/v1/tickets/{ticket_id}/push-subscription": {"post": openapi.op(
            "Store a Web Push subscription for the ticket: a push is sent when it is called "
            "or recalled. At most 3 per ticket (the oldest goes); kept while the ticket lives",
            [openapi.param("ticket_id", desc="Opaque ticket id (the capability of its holder)")],
            {"201": "stored"}, body=PushSubscription, errors=(400, 404, 409))},
        "/api/v1/offices/{office}/counters": {"get": openapi.op(
            "Counters of an office with their names per language", [
                openapi.param("office", desc="Office id, e.g. kokurakita")],
            {"200": "counters"})},
    }, models=(PushSubscription, PushKeys))


async def _push_lifecycle(app: web.Application) -> AsyncIterator[None]:
    """Runs after create_app's own start-up (the context exists), stops first."""
    context = app[CONTEXT]
    vapid = await load_vapid(context.redis, context.settings.tenant)
    subscriptions = Subscriptions(context.redis, context.settings.tenant)
    async with aiohttp.ClientSession(
        # Push services are few and shared: keep connections, bound their number.
        connector=aiohttp.TCPConnector(limit=64, ttl_dns_cache=300),
        headers={"User-Agent": "madoguchi-webpush"},
    ) as session:
        sender = Sender(vapid, vapid_subject(context.settings.public_base_url), session)
        worker = PushWorker(context.redis, context.engine, subscriptions, sender)
        app[PUSH] = Push(vapid, subscriptions, EndpointPolicy.from_env(), worker)
        await worker.join()
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        yield
        stop.set()
        await task


def setup(app: web.Application) -> None:
    # /t/sw.js before /t/{ticket_id}: the first matching route wins.
    app.router.add_get("/t/sw.js", service_worker, name="ticket_service_worker")
    app.router.add_get("/t/{ticket_id}", ticket_page, name="ticket_page")
    app.router.add_get("/api/v1/push/vapid-public-key", vapid_public_key,
                       name="push_vapid_public_key")
    app.router.add_post("/api/v1/tickets/{ticket_id}/push-subscription", push_subscription,
                        name="push_subscription")
    app.router.add_get("/api/v1/offices/{office}/counters", office_counters,
                       name="office_counters")
    add_static(app, "/static/ticket", STATIC / "ticket", "ticket_static")
    add_static(app, "/static/ticket-i18n", STATIC / "i18n", "ticket_i18n")
    app.cleanup_ctx.append(_push_lifecycle)
    _openapi()
