"""HTTP handlers of /api/v1 (DESIGN §7): thin — parse, authorise, call the
engine, shape the reply."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from . import api_models as m
from . import calendar, idempotency, sessions
from .auth import Principal
from .context import AppContext, ctx
from .errors import MadoguchiError
from .office_config import ID_PATTERN, Office

B = TypeVar("B", bound=BaseModel)
routes = web.RouteTableDef()


async def parse(request: web.Request, model: type[B]) -> B:
    raw = await request.read()
    if not raw.strip():
        data: Any = {}
    else:
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError) as exc:  # RecursionError: nesting too deep
            raise MadoguchiError("invalid_json") from exc
    if not isinstance(data, dict):
        raise MadoguchiError("validation_failed", "The body must be a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        if all(e["type"] == "unsupported_language" for e in errors):
            raise MadoguchiError("unsupported_language", supported=list(m.LANGS)) from exc
        problems = [
            {"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]}
            for e in errors
        ]
        raise MadoguchiError("validation_failed", problems=problems) from exc


async def principal(request: web.Request) -> Principal:
    """Who sends the request: a device or tool by its bearer token, or a
    logged-in person by the session cookie (then Origin and, for
    state-changing methods, the CSRF token are checked: queue_server.sessions).
    A bearer header wins; it is never sent by a browser on its own."""
    header = request.headers.get("Authorization", "")
    if not header and sessions.has_cookie(request):
        return await sessions.principal(request)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise MadoguchiError("unauthorized")
    return await ctx(request).tokens.authenticate(token.strip())


def office_id(request: web.Request) -> str:
    office = request.match_info["office"]
    if not re.fullmatch(ID_PATTERN, office):
        raise MadoguchiError("unknown_office")
    return office


async def known_office(request: web.Request) -> tuple[AppContext, str]:
    app = ctx(request)
    office = office_id(request)
    await app.engine.office(office)  # raises unknown_office
    return app, office


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(data, ensure_ascii=False), status=status, content_type="application/json"
    )


@routes.get("/api/v1/offices", name="offices")
async def list_offices(request: web.Request) -> web.Response:
    engine = ctx(request).engine
    out = []
    for office_id_ in await engine.office_ids():
        office = await engine.office(office_id_)
        out.append({"id": office.id, "names": office.names.as_dict(), "timezone": office.timezone})
    return json_response({"offices": out})


@routes.get("/api/v1/offices/{office}/services", name="services")
async def list_services(request: web.Request) -> web.Response:
    app, office = await known_office(request)
    status = await app.engine.status(office)
    config = await app.engine.office(office)
    by_id = {s.id: s for s in config.services}
    services = []
    for s in status["services"]:
        svc = by_id[s["id"]]
        bring = svc.bring.as_dict() if svc.bring else {}
        services.append({**s, "expected_minutes": svc.expected_minutes, "bookable": svc.bookable,
                         "walk_in": svc.walk_in, "konbini": svc.konbini, "bring": bring})
    return json_response({"office": office, **opening_now(config, app.engine.clock()),
                          "come_back_minutes": config.ticket.come_back_minutes,
                          "services": services})


def opening_now(office: Office, now: float) -> dict[str, Any]:
    """Today's hours in the office's zone and whether it is open now (the
    kiosk's closed screen, the queue-join button)."""
    today, is_open = calendar.open_now(office, now)
    return {"open_now": is_open, "today": {
        "date": today.date.isoformat(), "open": today.open, "closed_reason": today.closed_reason,
        "opens": today.opens.isoformat() if today.opens else None,
        "closes": today.closes.isoformat() if today.closes else None}}


@routes.get("/api/v1/offices/{office}/status", name="status")
async def office_status(request: web.Request) -> web.Response:
    app, office = await known_office(request)
    return json_response(await app.engine.status(office))


@routes.post("/api/v1/offices/{office}/tickets", name="issue_ticket")
async def issue_ticket(request: web.Request) -> web.Response:
    app, office = await known_office(request)
    who = await principal(request)
    who.require("issue_ticket", office)
    body = await parse(request, m.IssueTicket)
    channel = {"kiosk": "kiosk", "phone": "phone"}.get(who.role, "staff")
    if channel != "staff":  # the kiosk's closed screen, as a rule (staff may still issue)
        calendar.require_open(await app.engine.office(office), app.engine.clock())
    # A kiosk ticket with a long wait is held: it says when to come back and
    # is not called before the citizen scans it back in (issue 11).
    ticket = await app.engine.issue_ticket(
        office, body.service, channel=channel, lang=body.lang, priority=body.priority,
        hold=channel == "kiosk",
    )
    if not idempotency.replayed():
        app.metrics.tickets.labels(office).inc()
    return json_response(ticket, status=201)


@routes.get("/api/v1/tickets/{ticket_id}", name="ticket")
async def get_ticket(request: web.Request) -> web.Response:
    with unknown_ticket():
        return json_response(await ctx(request).engine.ticket(ticket_id(request)))


@routes.post("/api/v1/tickets/{ticket_id}/cancel", name="cancel_ticket")
async def cancel_ticket(request: web.Request) -> web.Response:
    await parse(request, m.Body)
    with unknown_ticket():
        return json_response(await ctx(request).engine.cancel(ticket_id(request)))


@routes.post("/api/v1/tickets/{ticket_id}/rejoin", name="rejoin_ticket")
async def rejoin_ticket(request: web.Request) -> web.Response:
    await parse(request, m.Body)
    with unknown_ticket():
        return json_response(await ctx(request).engine.rejoin(ticket_id(request)))


def ticket_id(request: web.Request) -> str:
    tid = request.match_info["ticket_id"]
    if not re.fullmatch(m.TICKET_ID, tid):
        raise MadoguchiError("unknown_ticket")
    return tid


@contextlib.contextmanager
def unknown_ticket(code: str = "unknown_ticket") -> Iterator[None]:
    """The holder of an id (ticket, booking token) that names no office holds
    an unknown ticket or booking (the office inside the id is not theirs to
    learn about)."""
    try:
        yield
    except MadoguchiError as exc:
        if exc.code == "unknown_office":
            raise MadoguchiError(code) from exc
        raise


COUNTER_ACTIONS = (
    "call-next", "recall", "start", "finish", "no-show", "transfer", "park", "resume",
    "cancel", "pause", "open", "close",
)
STATE_ACTIONS = {"pause": "paused", "open": "open", "close": "closed"}


# Decorators apply bottom-up: the fixed call-next path must be added first.
@routes.post("/api/v1/offices/{office}/counters/{counter}/{action}", name="counter_action")
@routes.post("/api/v1/offices/{office}/counters/{counter}/call-next", name="call_next")
async def counter_action(request: web.Request) -> web.Response:
    app, office = await known_office(request)
    who = await principal(request)
    who.require("counter_action", office)
    action = request.match_info.get("action", "call-next")
    counter = request.match_info["counter"]
    if action not in COUNTER_ACTIONS:
        raise MadoguchiError("not_found", f"Unknown counter action {action!r}.")
    config = await app.engine.office(office)
    if config.counter(counter) is None:
        raise MadoguchiError("unknown_counter")
    engine = app.engine
    if action in STATE_ACTIONS:
        await parse(request, m.Body)
        return json_response(await engine.set_counter_state(office, counter, STATE_ACTIONS[action]))
    if action == "call-next":
        await parse(request, m.Body)
        ticket = await engine.call_next(office, counter)
        if ticket is None:
            return web.Response(status=204)
        if not idempotency.replayed():
            app.metrics.calls.labels(office).inc()
        return json_response(ticket)
    if action in ("resume", "cancel"):
        ref = await parse(request, m.TicketRef)
        if ref.ticket.partition(".")[0] != office:
            raise MadoguchiError("unknown_ticket")
        if action == "resume":
            return json_response(await engine.resume(ref.ticket, counter))
        return json_response(await engine.cancel(ref.ticket))
    if action == "transfer":
        t = await parse(request, m.Transfer)
        return json_response(
            await engine.transfer(office, counter, service=t.service, to_counter=t.counter,
                                  expect=t.ticket)
        )
    body = await parse(request, m.CounterAction)
    handler = {
        "recall": engine.recall, "start": engine.start, "finish": engine.finish,
        "no-show": engine.no_show, "park": engine.park,
    }[action]
    return json_response(await handler(office, counter, body.ticket))
