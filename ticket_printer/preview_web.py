"""`GET /api/v1/offices/{office}/ticket-preview.png`: the exact 1-bit ticket
the office's printers would print now (its names, footer, 和暦 setting, a
sample number), for the admin pages. Plugged into the web app through the
``madoguchi.web`` entry points (queue_server imports nothing from here).

Rendering needs Pillow, from the ``printer`` extra. The server itself does
not: a plain ``pip install madoguchi`` serves everything else, and this one
route then answers 503 ``printer_extra_missing`` (the admin page shows the
image's alternative text). Pillow stays out of the base dependencies because
nothing else in the web process draws pictures."""

from __future__ import annotations

import asyncio
from datetime import datetime

from aiohttp import web

from queue_server import openapi
from queue_server.api import known_office, principal
from queue_server.api_models import supported_lang
from queue_server.clock import zone
from queue_server.errors import MadoguchiError

from .ticket import LANGS, TicketPrint

SAMPLE_NUMBER_SEQ = 23


async def ticket_preview(request: web.Request) -> web.Response:
    app, office_id = await known_office(request)
    (await principal(request)).require("manage_office", office_id)
    office = await app.engine.office(office_id)
    asked = request.query.get("lang", "ja")
    # やさしい日本語 prints as Japanese (the ticket carries ja and one other).
    lang = supported_lang(asked, (*LANGS, "ja-easy"))
    if lang is None:
        raise MadoguchiError("unsupported_language", supported=[*LANGS, "ja-easy"])
    if lang == "ja-easy":
        lang = "ja"
    service = next((s for s in office.services if s.walk_in), office.services[0])
    now = datetime.fromtimestamp(app.engine.clock(), zone(office.timezone))
    footer = office.ticket.footer
    sample = TicketPrint(
        office_name=office.names.ja, service_name=service.names.ja,
        number=f"{service.letter}-{SAMPLE_NUMBER_SEQ:03d}", ahead=5, wait_minutes=15,
        url=f"{app.settings.public_base_url.rstrip('/')}/t/{office_id}.sample", issued_at=now,
        lang=lang, konbini=service.konbini, footer=footer.get(lang) if footer else "",
        office_name_local=office.names.get(lang) if lang != "ja" else None,
        service_name_local=service.names.get(lang) if lang != "ja" else None,
        timezone=office.timezone, wareki=office.ticket.wareki,
    )
    try:
        from .preview import preview_png
    except ImportError as exc:  # Pillow: pip install 'madoguchi[printer]'
        raise MadoguchiError("printer_extra_missing") from exc
    # Rendering takes tens of milliseconds of CPU: off the event loop.
    png = await asyncio.to_thread(preview_png, sample)
    return web.Response(body=png, content_type="image/png",
                        headers={"Cache-Control": "private, no-cache",
                                 "Content-Language": lang})


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/offices/{office}/ticket-preview.png", ticket_preview,
                       name="ticket_preview")
    openapi.register({"/api/v1/offices/{office}/ticket-preview.png": {"get": openapi.op(
        "Manager/admin: the ticket as the office's printers would print it now (PNG, "
        "512 dots wide, a sample number)",
        [openapi.param("office", desc="Office id"),
         openapi.param("lang", "query", "ja | en | ko | zh-Hans | vi (regional tags such "
                       "as en-US or zh-CN are taken; the response's Content-Language says "
                       "which was used)", required=False)],
        {"200": "image/png", "422": "unsupported_language"}, auth=True,
        errors=(400, 404, 503))}})
