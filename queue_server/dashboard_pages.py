"""The managers' pages (issue 5): the live dashboard, statistics and the
staffing planner.

- ``GET /dashboard`` (``?office=<id>``; without it, every office the
  account may see, one card each): counters, current tickets, waiting,
  longest wait and estimates, live from the office websockets.
- ``GET /dashboard/stats`` (``?office=&from=&to=&targets=``): a day or a
  range, drawn from ``GET /api/v1/offices/{office}/stats``.
- ``GET /dashboard/staffing`` (``?office=``): counters per hour from
  ``GET /api/v1/offices/{office}/staffing``.
- ``GET /dashboard/offices.json``: what the pages need to know about the
  offices the logged-in person may see (names per language, services,
  counters, today's date at the office by the server's clock).

The pages are static HTML with ES modules under ``static/dashboard``; they
read everything through the API with the session cookie, so the API's own
checks (an office's statistics only for its staff) are what protects the
numbers. Who may see which office follows the account's offices.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from .api import json_response, principal
from .auth import ALL_OFFICES, PERMISSIONS
from .clock import iso, local
from .context import ctx
from .errors import MadoguchiError
from .login_pages import protected_page

STATIC = Path(__file__).resolve().parent / "static" / "dashboard"
PAGES = {
    "/dashboard": ("dashboard_page", "dashboard.html"),
    "/dashboard/stats": ("dashboard_stats_page", "stats.html"),
    "/dashboard/staffing": ("dashboard_staffing_page", "staffing.html"),
}


def _page(file: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        return await protected_page(request, STATIC / file)

    return handler


async def offices(request: web.Request) -> web.Response:
    """The offices this account may see, with what the pages show of them.
    `today` is the office's date by the server's clock: the pages' "today"
    and date presets must not follow the PC's clock or time zone."""
    who = await principal(request)
    # Device tokens (kiosk, display, phone) have no business here.
    if who.role not in PERMISSIONS["ticket_admin"]:
        raise MadoguchiError("forbidden", f"A {who.role} may not see the dashboard.")
    engine = ctx(request).engine
    now = engine.clock()
    out = []
    for office_id in await engine.office_ids():
        if not who.may_act_in(office_id):
            continue
        office = await engine.office(office_id)
        out.append({
            "id": office.id, "names": office.names.as_dict(), "timezone": office.timezone,
            "today": local(now, office.timezone).date().isoformat(),
            "now": iso(now, office.timezone),
            "services": [{"id": s.id, "letter": s.letter, "names": s.names.as_dict()}
                         for s in office.services],
            "counters": [{"id": c.id, "names": c.names.as_dict(), "services": c.services}
                         for c in office.counters],
        })
    response = json_response({
        "offices": out,
        # /api/v1/stats (every office's totals) answers only all-office accounts.
        "city_wide": who.office == ALL_OFFICES,
    })
    response.headers["Cache-Control"] = "no-store"
    return response


def setup(app: web.Application) -> None:
    for path, (name, file) in PAGES.items():
        app.router.add_get(path, _page(file), name=name)
    app.router.add_get("/dashboard/offices.json", offices, name="dashboard_offices")
