"""HTTP handlers for bookings, check-in and today's virtual queue."""

from __future__ import annotations

import io
import re
from datetime import datetime

import segno
from aiohttp import web

from . import api_models as m
from . import sessions
from .api import json_response, known_office, parse, principal, ticket_id, unknown_ticket
from .auth import Principal
from .bookings import add_days, parse_date
from .context import ctx
from .errors import MadoguchiError

routes = web.RouteTableDef()
BOOKING_TOKEN = r"[a-z0-9][a-z0-9_-]{0,39}\.[A-Za-z0-9_-]{32,64}"


async def optional_principal(request: web.Request) -> Principal | None:
    """A device token or a logged-in clerk; None for the public."""
    if "Authorization" in request.headers or sessions.has_cookie(request):
        return await principal(request)
    return None


def client_ip(request: web.Request) -> str:
    # Behind the city's proxy the peer is the proxy; a trusted forwarded
    # header would be configured there. Until then: the TCP peer.
    return request.remote or "unknown"


def booking_token(request: web.Request) -> str:
    token = request.match_info["token"]
    if not re.fullmatch(BOOKING_TOKEN, token):
        raise MadoguchiError("unknown_booking")
    return token


@routes.get("/api/v1/offices/{office}/availability", name="availability")
async def availability(request: web.Request) -> web.Response:
    app, office = await known_office(request)
    service = request.query.get("service", "")
    if "date" in request.query:
        return json_response(
            await app.bookings.availability(office, service, parse_date(request.query["date"])))
    start = parse_date(request.query.get("from"))
    end = parse_date(request.query["to"]) if "to" in request.query else add_days(start, 13)
    return json_response(await app.bookings.availability_range(office, service, start, end))


@routes.post("/api/v1/offices/{office}/bookings", name="book")
async def book(request: web.Request) -> web.Response:
    app, office = await known_office(request)
    who = await optional_principal(request)
    body = await parse(request, m.Book)
    slot = parse_slot(body.slot)
    channel, ip = "online", client_ip(request)
    if who is not None:
        who.require("issue_ticket", office)
        channel, ip = ({"phone": "phone", "kiosk": "kiosk"}.get(who.role, "staff"), "")
    booked = await app.bookings.book(office, body.service, slot, body.phone, name=body.name or "",
                                     lang=body.lang, channel=channel, ip=ip)
    return json_response({**booked.booking, "token": booked.token,
                          "manage_url": f"/b/{booked.token}"}, status=201)


@routes.get("/api/v1/offices/{office}/bookings", name="bookings_of_day")
async def bookings_of_day(request: web.Request) -> web.Response:
    """Staff: the day's bookings with status (booked, checked_in, cancelled,
    no_show), names and numbers — never on public screens."""
    app, office = await known_office(request)
    (await principal(request)).require("ticket_admin", office)
    day = parse_date(request.query.get("date"))
    return json_response({"office": office, "date": day.isoformat(),
                          "bookings": await app.bookings.of_day(office, day)})


@routes.get("/api/v1/bookings/{token}", name="booking")
async def get_booking(request: web.Request) -> web.Response:
    with unknown_ticket("unknown_booking"):
        return json_response(await ctx(request).bookings.view(booking_token(request)))


@routes.post("/api/v1/bookings/{token}/cancel", name="cancel_booking")
async def cancel_booking(request: web.Request) -> web.Response:
    await parse(request, m.Body)
    with unknown_ticket("unknown_booking"):
        return json_response(await ctx(request).bookings.cancel(booking_token(request)))


def parse_slot(text: str) -> datetime:
    try:
        slot = datetime.fromisoformat(text)
    except ValueError as exc:
        raise MadoguchiError("slot_unavailable", "slot must be an ISO 8601 time") from exc
    if slot.tzinfo is None:
        raise MadoguchiError("slot_unavailable", "slot needs its UTC offset (+09:00)")
    return slot


@routes.post("/api/v1/bookings/{token}/change", name="change_booking")
async def change_booking(request: web.Request) -> web.Response:
    body = await parse(request, m.ChangeBooking)
    with unknown_ticket("unknown_booking"):
        return json_response(await ctx(request).bookings.change(booking_token(request),
                                                                parse_slot(body.slot)))


@routes.post("/api/v1/bookings/{token}/check-in", name="booking_check_in")
async def booking_check_in(request: web.Request) -> web.Response:
    body = await parse(request, m.Presence)
    with unknown_ticket("unknown_booking"):
        ticket = await ctx(request).bookings.check_in_by_token(
            booking_token(request), body.presence_code, client=client_ip(request))
    return json_response(ticket, status=201)


@routes.post("/api/v1/offices/{office}/check-in", name="check_in")
async def check_in(request: web.Request) -> web.Response:
    """Kiosk/staff: {phone, code?} or {code}. Smartphone: {booking_token,
    presence_code} (the code on the lobby display proves presence)."""
    app, office = await known_office(request)
    # Who asks is checked before what they send: a token or session must be
    # good for this office whatever the body says.
    who = await optional_principal(request)
    if who is not None:
        who.require("issue_ticket", office)
    body = await parse(request, m.CheckIn)
    if body.booking_token:
        if not re.fullmatch(BOOKING_TOKEN, body.booking_token) or (
            body.booking_token.partition(".")[0] != office
        ):
            raise MadoguchiError("unknown_booking")
        # A kiosk (or staff) scanning the booking's QR is in the lobby itself:
        # no presence code. A smartphone must type the one on the display.
        presence = None if who is not None else (body.presence_code or "")
        ticket = await app.bookings.check_in_by_token(body.booking_token, presence,
                                                      body.lang or "", client_ip(request))
    else:
        if who is None:
            raise MadoguchiError("unauthorized")
        ticket = await app.bookings.check_in(office, phone=body.phone, code=body.code,
                                             lang=body.lang or "")
    return json_response(ticket, status=201)


@routes.get("/api/v1/tickets/{ticket_id}/qr.svg", name="ticket_qr")
async def ticket_qr(request: web.Request) -> web.Response:
    """The QR of the ticket's smartphone page, for the kiosk screen (the
    printed ticket's QR is made by the printer)."""
    app = ctx(request)
    tid = ticket_id(request)
    with unknown_ticket():
        await app.engine.ticket(tid)
    url = f"{app.settings.public_base_url.rstrip('/')}/t/{tid}"
    # A standalone SVG document (with xmlns): it renders as an <img> source.
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", xmldecl=False, scale=6, border=2,
                                    omitsize=True)
    svg = out.getvalue().decode()
    # The image names a capability: no shared cache may keep it.
    return web.Response(text=svg, content_type="image/svg+xml",
                        headers={"Cache-Control": "private, no-store"})


@routes.get("/api/v1/offices/{office}/checkin-code", name="checkin_code")
async def checkin_code(request: web.Request) -> web.Response:
    app, office = await known_office(request)
    who = await principal(request)
    who.require("show_presence", office)
    code, changes_at = app.bookings.presence_code(office)
    # The lobby QR: scanned, it opens the lobby check-in page with the code.
    url = f"{app.settings.public_base_url.rstrip('/')}/here/{office}?p={code}"
    qr = segno.make(url, error="m").svg_inline(scale=8, border=2, omitsize=True)
    return json_response({"office": office, "code": code, "changes_at": changes_at,
                          "url": url, "qr_svg": qr})


@routes.post("/api/v1/offices/{office}/queue", name="join_queue")
async def join_queue(request: web.Request) -> web.Response:
    app, office = await known_office(request)
    body = await parse(request, m.JoinQueue)
    config = await app.engine.office(office)
    await app.engine.run_script(config, "rate_limit", f"join:{client_ip(request)}",
                                config.booking.per_ip_per_hour)
    ticket = await app.bookings.join_queue(office, body.service, body.lang, body.phone or "")
    return json_response(ticket, status=201)


@routes.get("/api/v1/offices/{office}/sms", name="sms_list")
async def sms_list(request: web.Request) -> web.Response:
    """Staff: the office's latest SMS and their state (queued, sending, sent,
    delivered, failed, …), numbers masked; `ref` narrows to one booking."""
    app, office = await known_office(request)
    (await principal(request)).require("ticket_admin", office)
    state, ref = request.query.get("state") or None, request.query.get("ref") or None
    try:
        limit = min(max(int(request.query.get("limit", "100")), 1), 500)
    except ValueError as exc:
        raise MadoguchiError("validation_failed", "limit must be a number") from exc
    return json_response({"office": office,
                          "messages": await app.sms.list(office, state, limit, ref=ref)})


@routes.post("/api/v1/tickets/{ticket_id}/arrive", name="arrive")
async def arrive(request: web.Request) -> web.Response:
    body = await parse(request, m.Presence)
    with unknown_ticket():
        return json_response(await ctx(request).bookings.arrive(
            ticket_id(request), body.presence_code, client_ip(request)))
