"""The citizen's online booking pages (DESIGN §1 flow 3, §7 browser pages).

- `/book/{office}`: service → date → time → phone → confirm → done.
- `/b/{token}`: the booking's manage page (the SMS link): view, cancel,
  check-in later.
- `/static/checkin/...`: their ES modules, CSS and message catalogs
  (`static/i18n/book.<lang>.json`); no build step, nothing from elsewhere.

The pages are static: every text comes from the catalogs and every datum
from the public HTTP API, so one page serves every office and language.
Loaded by `queue_server.app.create_app` through the `madoguchi.web` entry
point group (`setup(app)`).
"""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).resolve().parent / "static"
PREFIX = "/static/checkin"

# Only these kinds of file are served from STATIC, with these types.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
OFFICE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")

# The pages load nothing from anywhere but this server, never send the
# manage token anywhere in a Referer, and may not be framed.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def _page(name: str, status: int = 200, private: bool = False) -> web.FileResponse:
    response = web.FileResponse(STATIC / "book" / name, status=status)
    response.content_type = "text/html"
    response.charset = "utf-8"
    response.headers.update(SECURITY_HEADERS)
    # The manage page's URL is a capability: keep it out of shared caches.
    response.headers["Cache-Control"] = "no-store" if private else "no-cache"
    if private:
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


async def _office_known(request: web.Request, office: str) -> bool:
    # Imported here: checkin uses the engine as a library (DESIGN §3), and the
    # app context exists only inside create_app's application.
    from queue_server.context import CONTEXT
    from queue_server.errors import MadoguchiError

    if not OFFICE_RE.match(office):
        return False
    context = request.app.get(CONTEXT)
    if context is None:
        return True
    try:
        await context.engine.office(office)
    except MadoguchiError:
        return False
    return True


async def book_page(request: web.Request) -> web.StreamResponse:
    """The booking page. An unknown office gets the same page with 404: it
    tells the citizen in their language (the API answers unknown_office)."""
    known = await _office_known(request, request.match_info["office"])
    return _page("book.html", status=200 if known else 404)


async def manage_page(request: web.Request) -> web.StreamResponse:
    return _page("manage.html", private=True)


async def static_file(request: web.Request) -> web.StreamResponse:
    rel = request.match_info["path"]
    target = (STATIC / rel).resolve()
    kind = CONTENT_TYPES.get(target.suffix)
    if kind is None or not target.is_relative_to(STATIC) or not target.is_file():
        raise web.HTTPNotFound()
    response = web.FileResponse(target)
    response.headers["Content-Type"] = kind
    response.headers.update(SECURITY_HEADERS)
    # Revalidate every time (ETag / Last-Modified make that cheap): a new
    # catalog or module reaches phones on their next visit.
    response.headers["Cache-Control"] = "no-cache"
    return response


def setup(app: web.Application) -> None:
    app.router.add_get("/book/{office}", book_page, name="book_page")
    app.router.add_get("/b/{token:[A-Za-z0-9._~-]{8,200}}", manage_page, name="booking_manage_page")
    app.router.add_get(PREFIX + "/{path:.+}", static_file, name="checkin_static")
