"""``GET /``: the server's start page, for people who open its address (a
newcomer after ``make run``, a clerk setting up a screen): every office and
its pages (booking, lobby display, kiosk) and the staff login. A client that
asks for JSON (``Accept: application/json``) gets the same list as JSON and
the address of the OpenAPI document, never the HTML.

The page is static HTML (Japanese first, the language switch of the other
staff pages); its script reads the list from ``GET /`` as JSON.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from .context import ctx
from .errors import MadoguchiError
from .pages import page

STATIC = Path(__file__).resolve().parent / "static"
LINKS = (("booking", "/book/{}"), ("display", "/display/{}"), ("kiosk", "/kiosk/{}"))
STAFF = {"login": "/login", "staff": "/staff", "dashboard": "/dashboard", "admin": "/admin"}


def wants_json(request: web.Request) -> bool:
    """JSON when the client names it before (or without) HTML."""
    accept = request.headers.get("Accept", "").lower()
    json_at, html_at = accept.find("application/json"), accept.find("text/html")
    return json_at >= 0 and (html_at < 0 or json_at < html_at)


async def index(request: web.Request) -> dict[str, Any]:
    engine = ctx(request).engine
    offices = []
    for office_id in await engine.office_ids():
        try:
            office = await engine.office(office_id)
        except MadoguchiError:  # removed since the list was read
            continue
        offices.append({"id": office_id, "names": office.names.as_dict(),
                        "pages": {kind: path.format(office_id) for kind, path in LINKS}})
    return {"name": "madoguchi", "api": "/api/v1/openapi.json", "staff": STAFF,
            "offices": offices}


async def start_page(request: web.Request) -> web.StreamResponse:
    if wants_json(request):
        response = web.json_response(await index(request))
        response.headers["Cache-Control"] = "no-cache"
        return response
    return page(STATIC / "start" / "start.html")


def setup(app: web.Application) -> None:
    app.router.add_get("/", start_page, name="start")
