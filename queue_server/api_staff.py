"""What the staff console reads: one counter's board (GET) — the ticket at
the counter with its booking, the line in call order, parked tickets and
no-shows. Names from bookings are shown to staff only, never on public
screens or events."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from . import api_models as m
from .api import json_response, known_office, parse, principal, ticket_id, unknown_ticket
from .clock import day_start_ts, iso_ms
from .context import ctx
from .engine import Engine, office_of_ticket
from .errors import MadoguchiError
from .office_config import Office

routes = web.RouteTableDef()
QUEUE_LIMIT = 200


def staff_ticket(office: Office, t: dict[str, Any], now_ms: float,
                 names: dict[str, dict[str, Any]]) -> dict[str, Any]:
    tz = office.timezone
    start = max(float(t["due"] or 0), float(t["arrived_at"] or 0))
    booking = names.get(t["booking"]) if t["booking"] else None
    # A booking that came early is not called before its slot (unless the
    # office chose booking.early_call: when_free): say from when it is.
    early = (t["state"] == "waiting" and float(t["due"] or 0) > now_ms
             and office.booking.early_call == "at_slot")
    return {
        "id": t["id"], "number": t["number"], "service": t["service"],
        "channel": t["channel"], "state": t["state"], "priority": t["priority"] == "1",
        "lang": t["lang"], "due_at": iso_ms(t["due"], tz), "issued_at": iso_ms(t["issued_at"], tz),
        "called_at": iso_ms(t["called_at"] or None, tz),
        "serving_at": iso_ms(t["serving_at"] or None, tz),
        "parked_at": iso_ms(t["parked_at"] or None, tz),
        "no_show_at": iso_ms(t["noshow_at"] or None, tz),
        "waiting_minutes": max(0, int((now_ms - start) // 60_000)) if start else None,
        "recalls": int(t["recalls"] or 0), "target_counter": t["target"] or None,
        "counter": t["counter"] or None, "booking": booking,
        "callable_from": iso_ms(t["due"], tz) if early else None,
    }


async def counter_board(engine: Engine, office_id: str, counter: str) -> dict[str, Any]:
    office = await engine.office(office_id)
    if office.counter(counter) is None:
        raise MadoguchiError("unknown_counter")
    now = engine.clock()
    raw = await engine.run_script(office, "counter_board", counter,
                                  int(day_start_ts(now, office.timezone) * 1000), QUEUE_LIMIT)
    tickets = [t for t in (raw["current"] or None, *(raw["queue"] or []),
                           *(raw["parked"] or []), *(raw["no_shows"] or [])) if t]
    booking_ids = sorted({t["booking"] for t in tickets if t["booking"]})
    names: dict[str, dict[str, Any]] = {}
    if booking_ids:
        keys = engine.keys(office_id)
        async with engine.redis.pipeline(transaction=False) as pipe:
            for bid in booking_ids:
                pipe.hmget(keys.k(f"b:{bid}"), "name", "slot", "code")
            rows = await pipe.execute()
        for bid, (name, slot, code) in zip(booking_ids, rows, strict=True):
            names[bid] = {"id": bid, "name": name.decode() if name else None,
                          "slot_start": iso_ms(int(slot), office.timezone) if slot else None,
                          "code": code.decode() if code else None}
    now_ms = now * 1000
    view = lambda t: staff_ticket(office, t, now_ms, names)  # noqa: E731
    c = raw["counter"]
    current = view(raw["current"]) if raw["current"] else None
    if current is not None:
        current["prefill"] = json.loads(raw["prefill"]) if raw["prefill"] else None
    return {
        "office": office_id,
        "counter": {"id": c["id"], "names": office.counter(counter).names.as_dict(),  # type: ignore[union-attr]
                    "state": c["state"], "services": c["services"] or [], "order": c["order"]},
        "current": current,
        "queue": [view(t) for t in raw["queue"] or []],
        "waiting_total": raw["waiting_total"],
        "parked": [view(t) for t in raw["parked"] or []],
        "no_shows": [view(t) for t in raw["no_shows"] or []],
    }


@routes.get("/api/v1/offices/{office}/counters/{counter}/board", name="counter_board")
async def board(request: web.Request) -> web.Response:
    _, office = await known_office(request)
    (await principal(request)).require("counter_action", office)
    return json_response(await counter_board(ctx(request).engine, office,
                                             request.match_info["counter"]))


PREFILL_MAX_SECONDS = 12 * 3600


@routes.post("/api/v1/tickets/{ticket_id}/prefill", name="ticket_prefill")
async def prefill(request: web.Request) -> web.Response:
    """The kiosk hands over what the citizen's My Number card says (with their
    consent and PIN): the clerk sees it pre-filled for this visit only. Kept
    out of the ticket record, never in events or logs, deleted when the visit
    ends (done, cancelled) and at the latest after PREFILL_MAX_SECONDS."""
    tid = ticket_id(request)
    who = await principal(request)
    office = office_of_ticket(tid)
    who.require("issue_ticket", office)
    body = await parse(request, m.Prefill)
    engine = ctx(request).engine
    with unknown_ticket():
        ticket = await engine.ticket(tid)
    if ticket["state"] in ("done", "cancelled"):
        raise MadoguchiError("already_finished", state=ticket["state"])
    await engine.redis.set(engine.keys(office).k(f"pf:{tid}"),
                           json.dumps(body.model_dump(), ensure_ascii=False),
                           ex=PREFILL_MAX_SECONDS)
    return web.Response(status=204)
