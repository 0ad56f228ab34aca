"""The OpenAPI 3 document of /api/v1. Request schemas come from the same
pydantic models that validate requests; tests check every route of the app
against this document."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel

from . import api_models as m
from . import office_config as oc
from .api_admin import TokenRequest
from .card_relay import CardRead

ERROR = {"$ref": "#/components/schemas/Error"}
# Operations of the packages that plug into the app (displays, checkin, …):
# their `setup(app)` calls register(), so the document still lists every route.
_extra_paths: dict[str, dict[str, Any]] = {}
_extra_models: dict[str, type[BaseModel]] = {}


def register(paths: dict[str, dict[str, Any]], models: tuple[type[BaseModel], ...] = ()) -> None:
    """Add a plug-in's operations (built with `op`/`param`) and request models."""
    for path, item in paths.items():
        _extra_paths.setdefault(path, {}).update(item)
    for model in models:
        _extra_models[model.__name__] = model
    document.cache_clear()


def _param(name: str, where: str = "path", desc: str = "", required: bool = True) -> dict:
    return {"name": name, "in": where, "required": required, "schema": {"type": "string"},
            "description": desc}


def _body(model: type[BaseModel]) -> dict[str, Any]:
    return {"required": False, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}


def _op(summary: str, params: list[dict], ok: dict[str, str], *, body: type[BaseModel] | None
        = None, auth: bool = False, errors: tuple[int, ...] = (400, 404)) -> dict[str, Any]:
    responses: dict[str, Any] = {
        str(code): {"description": text,
                    **({"content": {"application/json": {"schema": {"type": "object"}}}}
                       if code != 204 else {})}
        for code, text in ((int(c), t) for c, t in ok.items())
    }
    for code in (*errors, *((401, 403) if auth else ()), 413, 422):
        responses[str(code)] = {"description": "error", "content": {
            "application/json": {"schema": ERROR}}}
    op: dict[str, Any] = {"summary": summary, "parameters": params, "responses": responses}
    if body is not None:
        op["requestBody"] = _body(body)
    if auth:
        op["security"] = [{"bearer": []}]
    return op


# For plug-ins (register()).
param = _param
op = _op

OFFICE = _param("office", desc="Office id, e.g. kokurakita")
COUNTER = _param("counter", desc="Counter id")
BOOKING = _param("token", desc="The booking's manage token (from the SMS link)")
TICKET = _param("ticket_id", desc="Opaque ticket id (the capability of its holder)")
RANGE = [_param("from", "query", "YYYY-MM-DD (default today)", required=False),
         _param("to", "query", "YYYY-MM-DD (default from)", required=False)]
ACTION = {**_param("action"), "schema": {"type": "string", "enum": [
    "recall", "start", "finish", "no-show", "transfer", "park", "resume", "cancel",
    "pause", "open", "close"]}}


@cache
def document() -> dict[str, Any]:
    models = (m.IssueTicket, m.CounterAction, m.Transfer, m.TicketRef, m.Body, m.Book,
              m.Presence, m.CheckIn, m.JoinQueue, m.PrintRequest, m.ChangeBooking, m.Prefill,
              # The office configuration and the models it nests (its schema
              # refers to them by name), and the admin API's token request.
              oc.Office, oc.Names, oc.Service, oc.Counter, oc.QueueSettings, oc.DayHours,
              oc.OpeningHours, oc.BookingSettings, oc.DisplaySettings, oc.TicketSettings,
              oc.SmsTexts, TokenRequest, CardRead,
              *_extra_models.values())
    schemas: dict[str, Any] = {
        model.__name__: model.model_json_schema(ref_template="#/components/schemas/{model}")
        for model in models
    }
    schemas["Error"] = {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string"}, "message": {"type": "string"},
            "details": {"type": "object"}}}}}
    paths: dict[str, Any] = {
        "/api/v1/offices": {"get": _op("Offices with names", [], {"200": "offices"})},
        "/api/v1/offices/{office}/services": {"get": _op(
            "Services with waiting count and estimated wait", [OFFICE], {"200": "services"})},
        "/api/v1/offices/{office}/status": {"get": _op(
            "Live board: counters, recent calls, waiting per service, estimates", [OFFICE],
            {"200": "status"})},
        "/api/v1/offices/{office}/tickets": {"post": _op(
            "Issue a ticket (kiosk, staff, phone). Kiosk and phone: only while the office is "
            "open (409 office_closed otherwise); staff may issue at any time", [OFFICE],
            {"201": "the ticket"},
            body=m.IssueTicket, auth=True, errors=(400, 404, 409))},
        "/api/v1/tickets/{ticket_id}": {"get": _op(
            "A ticket: state, people ahead, estimate, counter when called", [TICKET],
            {"200": "ticket"})},
        "/api/v1/tickets/{ticket_id}/cancel": {"post": _op(
            "The holder cancels the ticket", [TICKET], {"200": "ticket"}, body=m.Body,
            errors=(400, 404, 409))},
        "/api/v1/tickets/{ticket_id}/rejoin": {"post": _op(
            "Rejoin after a no-show within the office's window", [TICKET], {"200": "ticket"},
            body=m.Body, errors=(400, 404, 409))},
        "/api/v1/offices/{office}/counters/{counter}/call-next": {"post": _op(
            "Call the next ticket (finishes the counter's current one)", [OFFICE, COUNTER],
            {"200": "the called ticket", "204": "nobody waits"}, body=m.Body, auth=True,
            errors=(400, 404, 409))},
        "/api/v1/offices/{office}/counters/{counter}/board": {"get": _op(
            "Staff: the counter's state, its ticket (with booking name), the line in call "
            "order, parked tickets and no-shows", [OFFICE, COUNTER], {"200": "board"},
            auth=True)},
        "/api/v1/offices/{office}/counters/{counter}/{action}": {"post": _op(
            "Act at a counter. recall/start/finish/no-show/park take {ticket?}; transfer "
            "{service?, counter?, ticket?}; resume/cancel {ticket}; pause/open/close {}",
            [OFFICE, COUNTER, ACTION], {"200": "the ticket, or the counter state"},
            body=m.Transfer, auth=True, errors=(400, 404, 409))},
        "/api/v1/offices/{office}/availability": {"get": _op(
            "Free booking slots of a service: one day (date) or a range (from, to; ≤ 31 days)",
            [OFFICE, _param("service", "query", "service id"),
             _param("date", "query", "YYYY-MM-DD", required=False),
             _param("from", "query", "YYYY-MM-DD", required=False),
             _param("to", "query", "YYYY-MM-DD", required=False)],
            {"200": "slots or days"}, errors=(400, 404, 422))},
        "/api/v1/offices/{office}/bookings": {"post": _op(
            "Book a slot (public, rate-limited; phone line with its token)", [OFFICE],
            {"201": "the booking with its manage token"}, body=m.Book,
            errors=(400, 404, 409, 429)), "get": _op(
            "Staff: the day's bookings with status, names and numbers",
            [OFFICE, _param("date", "query", "YYYY-MM-DD")], {"200": "bookings"}, auth=True,
            errors=(400, 404, 422))},
        "/api/v1/bookings/{token}": {"get": _op(
            "A booking, for the holder of its manage link", [BOOKING], {"200": "booking"})},
        "/api/v1/bookings/{token}/cancel": {"post": _op(
            "Cancel a booking", [BOOKING], {"200": "booking"}, body=m.Body,
            errors=(400, 404, 409))},
        "/api/v1/bookings/{token}/change": {"post": _op(
            "Move the booking to another time of the same service (atomic: a full slot "
            "leaves it unchanged)", [BOOKING], {"200": "booking"}, body=m.ChangeBooking,
            errors=(400, 404, 409, 422))},
        "/api/v1/bookings/{token}/check-in": {"post": _op(
            "Check in from the smartphone with the code on the lobby display (429 "
            "presence_locked with Retry-After after too many wrong codes)", [BOOKING],
            {"201": "the ticket"}, body=m.Presence, errors=(400, 403, 404, 409, 429))},
        "/api/v1/offices/{office}/check-in": {"post": _op(
            "Check in a booking: kiosk/staff {phone, code?}, {code} or a scanned "
            "{booking_token}; smartphone {booking_token, presence_code}", [OFFICE],
            {"201": "the ticket"}, body=m.CheckIn, auth=True, errors=(400, 404, 409, 429))},
        "/api/v1/offices/{office}/checkin-code": {"get": _op(
            "The rotating presence code for the lobby display, with the URL and QR (SVG) of "
            "the lobby check-in page", [OFFICE], {"200": "code, changes_at, url, qr_svg"},
            auth=True)},
        "/api/v1/offices/{office}/sms": {"get": _op(
            "Staff: the office's latest SMS and their delivery state (numbers masked)",
            [OFFICE, _param("state", "query", "queued | sending | sent | delivered | "
                            "undelivered | failed | expired | withdrawn", required=False),
             _param("ref", "query", "booking or ticket id", required=False),
             _param("limit", "query", "1-500, default 100", required=False)],
            {"200": "messages"}, auth=True, errors=(400, 404))},
        "/api/v1/offices/{office}/queue": {"post": _op(
            "Join today's queue from afar (a remote ticket, called only after arrival)",
            [OFFICE], {"201": "the ticket with come_back_by"}, body=m.JoinQueue,
            errors=(400, 404, 409, 429))},
        "/api/v1/tickets/{ticket_id}/arrive": {"post": _op(
            "A remote or held ticket arrives (code on the lobby display; 429 presence_locked with "
            "Retry-After after too many wrong codes)", [TICKET], {"200": "ticket"},
            body=m.Presence, errors=(400, 403, 404, 409, 429))},
        "/api/v1/tickets/{ticket_id}/qr.svg": {"get": _op(
            "QR code (SVG) of the ticket's smartphone page /t/{ticket_id}", [TICKET],
            {"200": "image/svg+xml"})},
        "/api/v1/tickets/{ticket_id}/prefill": {"post": _op(
            "Kiosk: the My Number card's four basic attributes for the clerk (this visit "
            "only; shown on the counter board while the ticket is at the counter)", [TICKET],
            {"204": "kept"}, body=m.Prefill, auth=True, errors=(400, 404, 409))},
        "/api/v1/tickets/{ticket_id}/print": {"post": _op(
            "Print the ticket: a kiosk on its own printer (once per ticket); staff reprint "
            "on {kiosk}", [TICKET], {"202": "job queued (or already queued / printed)"},
            body=m.PrintRequest, auth=True, errors=(400, 404))},
        "/api/v1/offices/{office}/printers": {"get": _op(
            "Staff: kiosk printers with state, waiting jobs and failed tickets", [OFFICE],
            {"200": "printers"}, auth=True)},
        "/api/v1/kiosk/card-key": {"get": _op(
            "Kiosk: its agent's current card-reader public key (ECDH P-256, raw, base64) for "
            "the end-to-end encrypted My Number card read", [],
            {"200": "{public_key, office}", "503": "card_agent_offline"}, auth=True,
            errors=(400,))},
        "/api/v1/kiosk/card-ready": {"get": _op(
            "Kiosk: ask its agent whether a card reader is there and free (asked when the "
            "citizen agrees, before the card is placed or the PIN typed)", [],
            {"200": "{ready: true}", "409": "reader_busy (another program holds the card)",
             "503": "card_agent_offline or no_reader", "504": "card_timeout"},
            auth=True, errors=(400,))},
        "/api/v1/kiosk/card-read": {"post": _op(
            "Kiosk: relay a sealed card-read request (PIN and consent, encrypted for the "
            "agent) to the kiosk's agent and wait (≤ 30 s) for its sealed answer; card "
            "conditions are errors with their code (wrong_pin with details.tries_left, "
            "no_card, card_removed, pin_blocked, last_try_protected, unknown_card, "
            "no_reader, stale_key, …)", [], {"200": "{request, iv, ciphertext}",
                                             "503": "card_agent_offline or no_reader",
                                             "504": "card_timeout"},
            body=CardRead, auth=True, errors=(400, 409))},
        "/ws/kiosk-agent": {"get": _op(
            "Websocket for the kiosk agent (kiosk token as Bearer): print jobs out, "
            "acknowledgements and printer status in", [], {"101": "switching protocols"},
            auth=True, errors=())},
        "/api/v1/offices/{office}/stats": {"get": _op(
            "Statistics of a day range: arrivals per hour, average and p90 wait, service "
            "levels, service time per service and counter, no-shows, channel mix",
            [OFFICE, *RANGE, _param("targets", "query", "service-level targets in minutes, "
                                    "e.g. 15,30", required=False)],
            {"200": "summary"}, auth=True, errors=(400, 404, 422))},
        "/api/v1/offices/{office}/stats.csv": {"get": _op(
            "The same per day, hour and service as CSV (UTF-8 with BOM)", [OFFICE, *RANGE],
            {"200": "text/csv"}, auth=True, errors=(400, 404, 422))},
        "/api/v1/stats": {"get": _op(
            "City-wide totals per office (all-office accounts)", RANGE, {"200": "totals"},
            auth=True, errors=(400, 422))},
        "/api/v1/offices/{office}/staffing": {"get": _op(
            "Staffing planner: counters needed per hour for a service-level target (Erlang C)",
            [OFFICE, _param("service", "query", "service id (default: all)", required=False),
             _param("date", "query", "YYYY-MM-DD (forecast weekday)", required=False),
             _param("arrivals", "query", "arrivals per hour, comma-separated", required=False),
             _param("first_hour", "query", "hour of the first arrivals value", required=False),
             _param("service_minutes", "query", "default: learned", required=False),
             _param("target_share", "query", "default 0.8", required=False),
             _param("target_minutes", "query", "default 15", required=False)],
            {"200": "hours"}, auth=True, errors=(400, 404, 422))},
        "/api/v1/admin/offices": {"get": _op(
            "Admin: the offices the caller may manage (with versions)", [], {"200": "offices"},
            auth=True, errors=(400,)), "post": _op(
            "Admin: create an office from a whole configuration (JSON, or YAML with "
            "Content-Type application/yaml); ?id= gives it another id", [
                _param("id", "query", "office id (default: the document's)", required=False)],
            {"201": "{office, version, created}"}, body=oc.Office, auth=True,
            errors=(400, 409, 415))},
        "/api/v1/admin/offices/{office}/config": {"get": _op(
            "Manager/admin: the office's whole configuration with its version (also the "
            "ETag); ?format=json|yaml downloads the bare configuration (export)",
            [OFFICE, _param("format", "query", "json | yaml", required=False)],
            {"200": "{office, version, config, warnings, sms_defaults, sms_placeholders}; "
                    "warnings: bookings the counters cannot keep (type booking_capacity, "
                    "field, service and the numbers), never a refusal"}, auth=True),
            "put": _op(
            "Manager/admin: replace the whole configuration (JSON or YAML) in one step, "
            "validated first (422 lists every problem by field); If-Match: \"<version>\" "
            "refuses with 409 config_conflict when it moved; another office id in the "
            "document is rewritten (import); a new office id creates it (admin)",
            [OFFICE, _param("version", "query", "the version loaded (instead of If-Match)",
                            required=False)],
            {"200": "{office, version, changes, created, warnings}", "201": "created"},
            body=oc.Office,
            auth=True, errors=(400, 404, 409, 415))},
        "/api/v1/admin/offices/{office}/config/diff": {"post": _op(
            "Manager/admin: what a PUT of this configuration would change (import "
            "preview); changes nothing", [OFFICE], {"200": "{version, changes, warnings}"},
            body=oc.Office, auth=True, errors=(400, 404, 415))},
        "/api/v1/admin/tokens": {"get": _op(
            "Manager/admin: device tokens (ids, roles, offices, labels; never the secrets)",
            [_param("office", "query", "only this office's", required=False)],
            {"200": "tokens"}, auth=True, errors=(400,)), "post": _op(
            "Manager/admin: create a device token (shown once in this answer)", [],
            {"201": "{token, id, role, office, label}"}, body=TokenRequest, auth=True)},
        "/api/v1/admin/tokens/{token_id}": {"delete": _op(
            "Manager/admin: revoke a device token", [_param("token_id", desc="token id")],
            {"200": "{revoked}"}, auth=True)},
        "/api/v1/admin/audit": {"get": _op(
            "Manager/admin: the audit log, newest first (who, when, what changed)",
            [_param("office", "query", "only this office", required=False),
             _param("limit", "query", "1-500, default 50", required=False),
             _param("before", "query", "entry id: the next page", required=False)],
            {"200": "{entries, next_before}"}, auth=True, errors=(400,))},
        "/api/v1/admin/users": {"get": _op(
            "Admin: staff accounts (never their passwords)", [], {"200": "users"}, auth=True,
            errors=(400,))},
        "/api/v1/openapi.json": {"get": _op("This document", [], {"200": "OpenAPI 3"})},
        "/ws/offices/{office}/display": {"get": _op(
            "Websocket: office events (DESIGN §7), resumed after `since`",
            [OFFICE, _param("since", "query", "last event id seen", required=False)],
            {"101": "switching protocols"})},
        "/ws/tickets/{ticket_id}": {"get": _op(
            "Websocket: one ticket's updates", [TICKET], {"101": "switching protocols"})},
        "/healthz": {"get": _op("Liveness", [], {"200": "alive"}, errors=())},
        "/readyz": {"get": _op("Readiness (Redis reachable)", [],
                               {"200": "ready", "503": "Redis unreachable"}, errors=())},
        "/metrics": {"get": _op("Prometheus metrics", [], {"200": "text exposition"},
                                errors=())},
    }
    for path, item in _extra_paths.items():
        paths.setdefault(path, {}).update(item)
    for path in IDEMPOTENT_PATHS:
        operation = paths[path]["post"]
        operation["parameters"] = [*operation["parameters"], dict(IDEMPOTENCY_HEADER)]
        operation["responses"]["422"]["description"] = (
            "error (also idempotency_key_reused: the key was used for another request)")
        operation["responses"]["503"] = {
            "description": "outcome_unknown: the data store did not answer, the change may "
                           "or may not have been made; repeat with the same Idempotency-Key "
                           "(or read the state first)",
            "content": {"application/json": {"schema": ERROR}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "madoguchi API", "version": "1", "description": IDEMPOTENCY_DOC},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "A fresh random value (16-128 characters of A-Z a-z 0-9 ._:~+/=-, e.g. a "
                   "UUID) per user action; the same value on every retry of that action.",
    "schema": {"type": "string", "minLength": 16, "maxLength": 128}}
# Operations that take an Idempotency-Key (queue_server.idempotency).
IDEMPOTENT_PATHS = (
    "/api/v1/offices/{office}/tickets", "/api/v1/offices/{office}/counters/{counter}/call-next",
    "/api/v1/offices/{office}/counters/{counter}/{action}", "/api/v1/offices/{office}/bookings",
    "/api/v1/offices/{office}/check-in", "/api/v1/bookings/{token}/check-in",
    "/api/v1/bookings/{token}/cancel", "/api/v1/bookings/{token}/change",
    "/api/v1/tickets/{ticket_id}/cancel", "/api/v1/tickets/{ticket_id}/rejoin",
    "/api/v1/tickets/{ticket_id}/arrive", "/api/v1/offices/{office}/queue",
)
IDEMPOTENCY_DOC = (
    "State-changing requests take an `Idempotency-Key` header (IETF draft "
    "draft-ietf-httpapi-idempotency-key-header). The key and the outcome are stored in the "
    "same atomic step as the change, for 24 hours, per office and per caller (token or "
    "session). A retry with the same key and the same request returns the first successful "
    "outcome (same status and body, header `Idempotent-Replayed: true`) and changes nothing; "
    "the same key with a different request is refused with 422 `idempotency_key_reused`. "
    "Refusals (4xx) are not stored. When the data store does not answer in time, a "
    "state-changing request answers 503 `outcome_unknown` (never `unavailable`): the change "
    "may have been made, so repeat it with the same key, or read the state before acting "
    "again.")
