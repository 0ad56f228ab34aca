"""The citizen's online booking pages (DESIGN §1 flow 3, §7 browser pages).

- `/book/{office}`: service → date → time → phone → confirm → done.
- `/b/{token}`: the booking's manage page (the SMS link): view, cancel,
  check in with the code shown on the lobby display.
- `/here/{office}`: the lobby check-in page, opened from the QR code on the
  lobby display (`?p=<4-digit code>`): checks in the bookings and remote
  tickets this phone has saved, in one press each.
- `/static/checkin/...`: their ES modules, CSS and message catalogs
  (`static/i18n/book.<lang>.json`); no build step, nothing from elsewhere.

The pages are static: every text comes from the catalogs and every datum
from the public HTTP API, so one page serves every office and language.
Loaded by `queue_server.app.create_app` through the `madoguchi.web` entry
point group (`setup(app)`).
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from queue_server.pages import add_static, office_known, page

STATIC = Path(__file__).resolve().parent / "static"
PREFIX = "/static/checkin"


async def book_page(request: web.Request) -> web.StreamResponse:
    """The booking page. An unknown office gets the same page with 404: it
    tells the citizen in their language (the API answers unknown_office)."""
    known = await office_known(request, request.match_info["office"])
    return page(STATIC / "book" / "book.html", status=200 if known else 404)


async def manage_page(request: web.Request) -> web.StreamResponse:
    return page(STATIC / "book" / "manage.html", private=True)


async def here_page(request: web.Request) -> web.StreamResponse:
    """Private: its address carries the lobby's presence code, which must
    not stay in a shared cache or leave in a Referer."""
    known = await office_known(request, request.match_info["office"])
    return page(STATIC / "here" / "here.html", status=200 if known else 404, private=True)


def setup(app: web.Application) -> None:
    app.router.add_get("/book/{office}", book_page, name="book_page")
    app.router.add_get("/b/{token:[A-Za-z0-9._~-]{8,200}}", manage_page, name="booking_manage_page")
    app.router.add_get("/here/{office}", here_page, name="here_page")
    add_static(app, PREFIX, STATIC, "checkin_static")
