"""The lobby call display (DESIGN §1 "everyone in the lobby", §11).

- `/display/{office}`: the page a lobby TV shows full screen (kiosk-mode
  Chromium). Enrolled once as `/display/{office}?token=DISPLAY_TOKEN`: the
  page keeps the display token in localStorage (it unlocks the rotating
  smartphone check-in code) and takes it out of the address bar.
- `/display/{office}/config.json`: what the page needs from the office
  configuration and no public /api endpoint gives: names, services and
  counters (with their speech readings, for the browser's fallback speech)
  and the `display` settings. Public: no personal data, no secrets.
- `/static/lobby/...`: the page's ES modules, CSS and message catalogs
  (`static/i18n/display.<lang>.json`); no build step, nothing from elsewhere.

Loaded by `queue_server.app.create_app` through the `madoguchi.web` entry
point group (`setup(app)`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aiohttp import web

from queue_server.context import CONTEXT
from queue_server.errors import MadoguchiError
from queue_server.office_config import Office
from queue_server.pages import OFFICE_RE, SECURITY_HEADERS, add_static, office_known, page

STATIC = Path(__file__).resolve().parent / "static"
PREFIX = "/static/lobby"


async def display_page(request: web.Request) -> web.StreamResponse:
    """The lobby page. An unknown office gets the same page with 404: it
    says so on the screen (config.json answers unknown_office).

    `private`: the enrolment address carries the display token, so no
    shared cache may keep it."""
    known = await office_known(request, request.match_info["office"])
    return page(STATIC / "display" / "display.html", status=200 if known else 404,
                private=True)


def public_config(office: Office) -> dict[str, Any]:
    """The display's view of the office configuration. Only what the lobby
    may see: names and readings of the office, services and counters, and
    the display options (no booking limits, no hours, no tokens)."""

    def speech(names: Any) -> dict[str, str]:
        return names.as_dict() if names is not None else {}

    return {
        "office": office.id,
        "names": office.names.as_dict(),
        "timezone": office.timezone,
        "services": [
            {"id": s.id, "letter": s.letter, "names": s.names.as_dict(),
             "speech": speech(s.speech)}
            for s in office.services
        ],
        "counters": [
            {"id": c.id, "names": c.names.as_dict(), "speech": speech(c.speech)}
            for c in office.counters
        ],
        "display": office.display.model_dump(mode="json"),
    }


async def display_config(request: web.Request) -> web.Response:
    office_id = request.match_info["office"]
    if not OFFICE_RE.match(office_id):
        raise MadoguchiError("unknown_office")
    office = await request.app[CONTEXT].engine.office(office_id)  # raises unknown_office
    response = web.Response(text=json.dumps(public_config(office), ensure_ascii=False),
                            content_type="application/json")
    response.headers.update(SECURITY_HEADERS)
    # The display re-reads it on config.changed; the engine caches offices
    # for a few seconds anyway.
    response.headers["Cache-Control"] = "no-cache"
    return response


def setup(app: web.Application) -> None:
    app.router.add_get("/display/{office}", display_page, name="display_page")
    app.router.add_get("/display/{office}/config.json", display_config, name="display_config")
    add_static(app, PREFIX, STATIC, "display_static")
