"""The staff console (DESIGN §1 "counter staff", issue 5).

- ``GET /staff`` (``?office=ID&counter=ID``): the console page, for people
  who are logged in (otherwise the login page, which comes back here). The
  office and counter live in the address, so two windows side by side keep
  two counters, and the page remembers the last choice on the device.
- ``GET /staff/{office}/config.json``: what the console needs from the
  office configuration — names, services (letter, walk-in) and counters
  (with the services they serve, for the transfer dialog). Staff of that
  office only: a clerk of another office gets 403 here already, before any
  action.
- ``/static/queue/staff/...``: the page's ES modules and CSS, and
  ``/static/queue/i18n/staff.<lang>.json`` its catalogs (served by
  login_pages, which owns the ``/static/queue`` prefix).

Everything else the page does goes through the public API: the counter
board, counter actions, tickets, printers and the office's event socket.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .api import known_office, principal
from .login_pages import STATIC, protected_page
from .office_config import Office

PAGE = STATIC / "staff" / "staff.html"
NO_STORE = {"Cache-Control": "no-store"}


def console_config(office: Office) -> dict[str, Any]:
    """The office as the console shows it. Staff-only, but still nothing
    they do not need: no booking rules, hours or texts."""
    return {
        "office": office.id,
        "names": office.names.as_dict(),
        "timezone": office.timezone,
        "max_recalls": office.queue.max_recalls,
        "rejoin_minutes": office.queue.rejoin_minutes,
        "services": [
            {"id": s.id, "letter": s.letter, "names": s.names.as_dict(), "walk_in": s.walk_in}
            for s in office.services
        ],
        "counters": [
            {"id": c.id, "names": c.names.as_dict(), "services": list(c.services)}
            for c in office.counters
        ],
    }


async def console_page(request: web.Request) -> web.StreamResponse:
    return await protected_page(request, PAGE)


async def config_json(request: web.Request) -> web.Response:
    app, office_id = await known_office(request)
    (await principal(request)).require("counter_action", office_id)
    office = await app.engine.office(office_id)
    # Never cached: config.changed makes the console read it again at once.
    return web.Response(text=json.dumps(console_config(office), ensure_ascii=False),
                        content_type="application/json", headers=NO_STORE)


def setup(app: web.Application) -> None:
    app.router.add_get("/staff", console_page, name="staff_page")
    app.router.add_get("/staff/{office}/config.json", config_json, name="staff_config")

