"""Logging in and out, and changing one's password: the pages and their
form handlers, and the session endpoint pages read their CSRF token from.

- ``GET /login`` (``?next=/local/path``), ``POST /login`` {name, password, next}
- ``POST /logout`` {csrf}
- ``GET /account/password``, ``POST /account/password`` {current, new, confirm, csrf}
- ``GET /api/v1/session`` → {user: {name, display_name, role, offices}, csrf, expires}
- ``/static/queue/...``: the ES modules, CSS and catalogs of queue_server's
  own pages (login now; the staff console and admin pages use the same
  folder and ``static/login/session.js``).

The handlers take forms (the pages work as plain HTML forms: answers are
303 redirects, errors come back as ``?error=<code>``) and fetch() calls that
ask for JSON (``Accept: application/json``: answers are JSON, errors the
API's ``{"error": {"code", "message"}}``).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from aiohttp import web

from . import openapi
from .clock import Clock, iso, system_clock
from .context import CONTEXT
from .errors import MadoguchiError
from .pages import add_static, page
from .sessions import (
    CSRF_FIELD,
    LOGIN,
    LoginState,
    Session,
    Sessions,
    check_csrf,
    check_origin,
    clear_cookie,
    current,
    forget_current,
    set_cookie,
    state,
)
from .users import TIME_ZONE, User, Users, check_password

log = logging.getLogger("madoguchi.login")

STATIC = Path(__file__).resolve().parent / "static"
PREFIX = "/static/queue"
DEFAULT_NEXT = "/staff"
LOGIN_PATH = "/login"
PASSWORD_PATH = "/account/password"
MAX_FIELD = 4096
# Errors a plain HTML form gets back on its page as ?error=<code>.
FORM_ERRORS = frozenset({
    "login_failed", "login_locked", "login_rate_limited", "account_disabled",
    "validation_failed", "wrong_password", "weak_password", "password_mismatch",
})
NO_STORE = {"Cache-Control": "no-store"}


def safe_next(raw: str | None) -> str:
    """Where to go after logging in: a path on this server, never another
    site (an open redirect would lend the city's address to phishing)."""
    if not raw or len(raw) > 2000 or not raw.startswith("/") or raw.startswith("//"):
        return DEFAULT_NEXT
    # Browsers read "\" as "/" and drop tabs and newlines: "/\evil" and
    # "/\t/evil" would leave the site.
    if "\\" in raw or any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw):
        return DEFAULT_NEXT
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc or parts.path in (LOGIN_PATH, "/logout"):
        return DEFAULT_NEXT
    return raw


def wants_json(request: web.Request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def client_ip(request: web.Request) -> str:
    # The TCP peer, as for bookings: behind the city's proxy that is the
    # proxy, until a trusted forwarded header is configured there.
    return request.remote or "unknown"


async def read_fields(request: web.Request) -> dict[str, str]:
    """A form (urlencoded or multipart) or a JSON object, as strings."""
    if not request.can_read_body:
        return {}
    if request.content_type == "application/json":
        try:
            data: Any = json.loads(await request.read() or b"{}")
        except (ValueError, RecursionError) as exc:
            raise MadoguchiError("invalid_json") from exc
        if not isinstance(data, dict):
            raise MadoguchiError("validation_failed", "The body must be a JSON object.")
        items = data.items()
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        items = (await request.post()).items()
    else:
        raise MadoguchiError("unsupported_media_type",
                             "Send a form or a JSON object (application/json).")
    fields = {}
    for key, value in items:
        if isinstance(value, str):
            if len(value) > MAX_FIELD:
                raise MadoguchiError("validation_failed", f"{key} is too long.")
            fields[key] = value
    return fields


def redirect(location: str, **headers: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location, **NO_STORE, **headers})


def json_answer(data: Any, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(data, ensure_ascii=False), status=status,
                        content_type="application/json", headers=NO_STORE)


def back_with_error(path: str, exc: MadoguchiError, **keep: str) -> web.Response:
    """A plain form's error: back to its page, which explains the code."""
    query = {"error": exc.code, **{k: v for k, v in keep.items() if v}}
    for detail in ("until", "reason"):
        if detail in exc.details:
            query[detail] = str(exc.details[detail])
    return redirect(f"{path}?{urlencode(query)}")


def staff_page(path: Path) -> web.FileResponse:
    """A page of queue_server's own (login, staff console, admin): the shared
    headers, never cached, and Referrer-Policy same-origin instead of
    no-referrer. With no-referrer a browser sends `Origin: null` on a
    plain form's POST, which check_origin refuses; these pages carry no
    capability in their address, so their own origin may be sent."""
    response = page(path, private=True)
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def login_redirect(request: web.Request) -> web.Response:
    """To the login page, coming back to this page afterwards."""
    return redirect(f"{LOGIN_PATH}?{urlencode({'next': safe_next(request.path_qs)})}")


async def protected_page(request: web.Request, path: Path) -> web.StreamResponse:
    """A page for logged-in people only (staff console, admin pages): the
    page, or a redirect to the login page that comes back here. The page
    then reads who is logged in, and the CSRF token, from /api/v1/session."""
    if await current(request) is None:
        return login_redirect(request)
    return staff_page(path)


# --- handlers

async def login_page(request: web.Request) -> web.StreamResponse:
    if await current(request) is not None:  # already logged in: straight on
        return redirect(safe_next(request.query.get("next")))
    return staff_page(STATIC / "login" / "login.html")


async def login(request: web.Request) -> web.StreamResponse:
    ready = state(request)
    # Login CSRF (being logged in as someone else) is refused by Origin.
    check_origin(request, ready.settings)
    fields = await read_fields(request)
    target = safe_next(fields.get("next"))
    try:
        user = await ready.users.login(fields.get("name", ""), fields.get("password", ""),
                                       client_ip(request))
    except MadoguchiError as exc:
        if wants_json(request) or exc.code not in FORM_ERRORS:
            raise
        return back_with_error(LOGIN_PATH, exc, next=fields.get("next", ""))
    # A new session id at every login (no session fixation); a session this
    # browser still had ends.
    previous = await current(request)
    if previous is not None:
        await ready.sessions.delete(previous[0])
    session_id, session = await ready.sessions.create(user.name)
    forget_current(request)
    response = (json_answer(_session_body(ready.sessions, session, user) | {"next": target})
                if wants_json(request) else redirect(target))
    set_cookie(response, ready.settings, session_id)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    ready = state(request)
    found = await current(request)
    if found is not None:
        session, user = found
        fields = await read_fields(request)
        check_csrf(request, ready.settings, session, fields.get(CSRF_FIELD))
        await ready.sessions.delete(session)
        forget_current(request)
        log.info("logout", extra={"user_id": user.log_id})
    response = (json_answer({"ok": True}) if wants_json(request)
                else redirect(f"{LOGIN_PATH}?bye=1"))
    clear_cookie(response, ready.settings)
    return response


async def password_page(request: web.Request) -> web.StreamResponse:
    return await protected_page(request, STATIC / "login" / "password.html")


async def change_password(request: web.Request) -> web.StreamResponse:
    ready = state(request)
    found = await current(request)
    if found is None:
        if wants_json(request):
            raise MadoguchiError("session_expired")
        return login_redirect(request)
    session, user = found
    fields = await read_fields(request)
    check_csrf(request, ready.settings, session, fields.get(CSRF_FIELD))
    old, new = fields.get("current", ""), fields.get("new", "")
    try:
        if "confirm" in fields and fields["confirm"] != new:
            raise MadoguchiError("password_mismatch")
        # The rules first: a too-short new password costs no lock-out try.
        check_password(new, user.name)
        await ready.users.confirm_password(user.name, old, client_ip(request))
        if new == old:
            raise MadoguchiError("weak_password", "Choose a password you have not used here.",
                                 reason="same_as_current")
        await ready.users.set_password(user.name, new)
    except MadoguchiError as exc:
        if wants_json(request) or exc.code not in FORM_ERRORS:
            raise
        return back_with_error(PASSWORD_PATH, exc)
    # Whoever else holds a session of this account (a stolen one, another
    # PC) is logged out; this browser stays in.
    ended = await ready.sessions.revoke_user(user.name, keep=session)
    log.info("other sessions ended", extra={"user_id": user.log_id, "sessions": ended})
    if wants_json(request):
        return json_answer({"ok": True, "ended_sessions": ended})
    return redirect(f"{PASSWORD_PATH}?done=1")


def _session_body(sessions: Sessions, session: Session, user: User) -> dict[str, Any]:
    ends = sessions.expires(session)
    return {"user": user.public(), "csrf": session.csrf,
            "expires": {k: iso(v, TIME_ZONE) for k, v in ends.items()}}


async def session_info(request: web.Request) -> web.Response:
    ready = state(request)
    found = await current(request)
    if found is None:
        raise MadoguchiError("session_expired")
    check_origin(request, ready.settings)
    session, user = found
    return json_answer(_session_body(ready.sessions, session, user))


# --- wiring

def setup(app: web.Application, clock: Clock = system_clock) -> None:
    """Routes, static files, the OpenAPI entry, and the stores (made at
    start-up on the app's Redis client; `clock`: the app's clock)."""
    app[LOGIN] = LoginState()

    async def start(app: web.Application) -> None:
        context = app[CONTEXT]  # made by create_app's lifecycle, which runs first
        login_state = app[LOGIN]
        users = Users(context.redis, context.settings.tenant, clock)
        await users.warm()
        login_state.users = users
        login_state.sessions = Sessions(context.redis, context.settings.tenant, clock)
        login_state.settings = context.settings

    app.on_startup.append(start)
    app.router.add_get(LOGIN_PATH, login_page, name="login_page")
    app.router.add_post(LOGIN_PATH, login, name="login")
    app.router.add_post("/logout", logout, name="logout")
    app.router.add_get(PASSWORD_PATH, password_page, name="password_page")
    app.router.add_post(PASSWORD_PATH, change_password, name="change_password")
    app.router.add_get("/api/v1/session", session_info, name="session")
    add_static(app, PREFIX, STATIC, "queue_static")
    openapi.register({"/api/v1/session": {"get": openapi.op(
        "The logged-in person (session cookie) and the CSRF token their page sends as "
        "X-CSRF-Token with every state-changing request", [],
        {"200": "{user: {name, display_name, role, offices}, csrf, expires}"},
        errors=(401, 403))}})
