"""The administration pages (issue 5, "No-code administration"), for
logged-in managers and admins; everything they do goes through the admin
API (queue_server.api_admin).

- ``/admin``: the offices one may manage (admins: create an office, blank,
  as a copy of another, or from an exported file).
- ``/admin/offices/{office}``: the office editor (names, hours, closed days,
  services, counters, booking, queue, display, ticket and SMS settings),
  export and import with a preview of the changes.
- ``/admin/tokens``: device tokens (create, shown once; list; revoke).
- ``/admin/audit``: who changed what, and when.

The pages are static files (``static/admin/``, ES modules, catalogs
``static/i18n/admin.<lang>.json``); who may see what is the API's business,
so a page only needs a login (a staff member sees the API's refusal,
explained).
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from .login_pages import protected_page
from .pages import OFFICE_RE

STATIC = Path(__file__).resolve().parent / "static" / "admin"


async def offices_page(request: web.Request) -> web.StreamResponse:
    return await protected_page(request, STATIC / "index.html")


async def office_page(request: web.Request) -> web.StreamResponse:
    if not OFFICE_RE.match(request.match_info["office"]):
        raise web.HTTPNotFound()
    return await protected_page(request, STATIC / "office.html")


async def tokens_page(request: web.Request) -> web.StreamResponse:
    return await protected_page(request, STATIC / "tokens.html")


async def audit_page(request: web.Request) -> web.StreamResponse:
    return await protected_page(request, STATIC / "audit.html")


def setup(app: web.Application) -> None:
    """The page routes (their files are served by login_pages' /static/queue)."""
    app.router.add_get("/admin", offices_page, name="admin_page")
    app.router.add_get("/admin/offices/{office}", office_page, name="admin_office_page")
    app.router.add_get("/admin/tokens", tokens_page, name="admin_tokens_page")
    app.router.add_get("/admin/audit", audit_page, name="admin_audit_page")
