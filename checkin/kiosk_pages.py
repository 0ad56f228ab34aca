"""The ticket kiosk (発券機) page `/kiosk/{office}` (DESIGN §1 flows 1 and 2).

A touch screen in the lobby, in a kiosk-mode browser. It is enrolled once by
opening `/kiosk/{office}?token=KIOSK_TOKEN`: the page keeps the kiosk token
in localStorage (it issues tickets, checks bookings in and asks the kiosk
agent on the same PC to print) and takes it out of the address bar.

The page is static: its ES modules, CSS and message catalogs live under
`static/kiosk/` and `static/i18n/kiosk.<lang>.json` and are served at
`/static/checkin/...` by the static route `booking_pages.setup` registers
for the whole `checkin/static` folder. Every datum comes from the HTTP API
and the office's public event socket. Loaded by `create_app` through the
`madoguchi.web` entry point group (`setup(app)`).
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from queue_server.pages import office_known, page

STATIC = Path(__file__).resolve().parent / "static"


async def kiosk_page(request: web.Request) -> web.StreamResponse:
    """The kiosk page. An unknown office gets the same page with 404: the
    screen says so (the API answers unknown_office), so the technician
    setting the kiosk up sees the mistake on the kiosk itself.

    `private`: the enrolment address carries the kiosk token, so no shared
    cache may keep it and no robot index it."""
    known = await office_known(request, request.match_info["office"])
    return page(STATIC / "kiosk" / "kiosk.html", status=200 if known else 404, private=True)


def setup(app: web.Application) -> None:
    app.router.add_get("/kiosk/{office}", kiosk_page, name="kiosk_page")
