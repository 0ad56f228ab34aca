"""Server-side sessions of logged-in people, their cookie, and CSRF checks.

- The cookie holds a random 256-bit session id. Redis keeps the session
  under the id's SHA-256 (``mg:{tenant}:session:<sha256>``), so a copy of
  the database cannot be replayed as cookies, with the login name, a CSRF
  token, and when it started and was last used.
- A session ends after `idle` seconds unused (12 h: a clerk's working day
  with its breaks) and `absolute` seconds after login (16 h: a new login each
  morning), on logout, and — all of a person's other sessions — when their
  password changes or the account is disabled (index
  ``mg:{tenant}:user-sessions:<name>``).
- Cookie: HttpOnly, SameSite=Strict (a counter PC never arrives at the
  console from another site; links from elsewhere just ask to log in), Path=/,
  and Secure — with the ``__Host-`` name prefix — when the public base URL is
  https.
- CSRF: a request authenticated by the cookie must not come from another
  site. `Origin`, when sent, must be the public base URL's or the request's
  own host; a state-changing request must also carry the session's CSRF
  token (synchronizer token) in the ``X-CSRF-Token`` header (fetch) or the
  ``csrf`` form field (HTML forms). Pages get the token from
  ``GET /api/v1/session``. Bearer-token requests carry no cookie, so need
  none of this.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

from aiohttp import web
from redis.asyncio import Redis

from .auth import Principal, session_principal
from .clock import Clock, system_clock
from .errors import MadoguchiError
from .settings import Settings
from .users import User, Users

IDLE_SECONDS = 12 * 3600
ABSOLUTE_SECONDS = 16 * 3600
TOUCH_SECONDS = 60  # last use is written at most once a minute per session
COOKIE = "mg_session"
SECURE_COOKIE = "__Host-mg_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_ID_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # token_urlsafe(32)


def session_key(tenant: str, digest: str) -> str:
    return f"mg:{{{tenant}}}:session:{digest}"


def user_sessions_key(tenant: str, name: str) -> str:
    return f"mg:{{{tenant}}}:user-sessions:{name}"


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    digest: str
    user: str
    csrf: str
    created: float
    seen: float

    @property
    def ref(self) -> str:
        """A short public reference (logs, Principal.token_id): never the cookie."""
        return "s-" + self.digest[:14]


class Sessions:
    def __init__(self, redis: Redis, tenant: str, clock: Clock = system_clock, *,
                 idle: float = IDLE_SECONDS, absolute: float = ABSOLUTE_SECONDS) -> None:
        self.redis = redis
        self.tenant = tenant
        self.clock = clock
        self.idle = idle
        self.absolute = absolute

    def _ends(self, created: float, seen: float) -> float:
        return min(seen + self.idle, created + self.absolute)

    def expires(self, session: Session) -> dict[str, float]:
        return {"idle_at": session.seen + self.idle,
                "absolute_at": session.created + self.absolute}

    async def create(self, user: str) -> tuple[str, Session]:
        """A new session; returns (the cookie value, the session). The
        cookie value is not stored anywhere."""
        session_id = secrets.token_urlsafe(32)
        now = self.clock()
        session = Session(_digest(session_id), user, secrets.token_urlsafe(32), now, now)
        key = session_key(self.tenant, session.digest)
        index = user_sessions_key(self.tenant, user)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"user": user, "csrf": session.csrf,
                                    "created": repr(now), "seen": repr(now)})
            pipe.expire(key, math.ceil(self.idle))
            # The index is scored by each session's absolute end, so ended
            # sessions are dropped from it here.
            pipe.zadd(index, {session.digest: now + self.absolute})
            pipe.zremrangebyscore(index, "-inf", now)
            pipe.expire(index, math.ceil(self.absolute))
            await pipe.execute()
        return session_id, session

    async def get(self, session_id: str) -> Session | None:
        """The live session of a cookie value, or None. Marks it used."""
        if not SESSION_ID_RE.match(session_id):
            return None
        digest = _digest(session_id)
        key = session_key(self.tenant, digest)
        raw = await self.redis.hgetall(key)
        if not raw:
            return None
        data = {k.decode(): v.decode() for k, v in raw.items()}
        try:
            session = Session(digest, data["user"], data["csrf"], float(data["created"]),
                              float(data["seen"]))
        except (KeyError, ValueError):
            await self.redis.delete(key)
            return None
        now = self.clock()
        if now >= self._ends(session.created, session.seen):
            await self._forget(session)
            return None
        if now - session.seen >= TOUCH_SECONDS:
            session = Session(digest, session.user, session.csrf, session.created, now)
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.hset(key, "seen", repr(now))
                pipe.expire(key, max(1, math.ceil(self._ends(session.created, now) - now)))
                await pipe.execute()
        return session

    async def _forget(self, session: Session) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(session_key(self.tenant, session.digest))
            pipe.zrem(user_sessions_key(self.tenant, session.user), session.digest)
            await pipe.execute()

    async def delete(self, session: Session) -> None:
        await self._forget(session)

    async def revoke_user(self, user: str, keep: Session | None = None) -> int:
        """Ends every session of `user` except `keep`; returns how many."""
        index = user_sessions_key(self.tenant, user)
        digests = [d.decode() for d in await self.redis.zrange(index, 0, -1)]
        gone = [d for d in digests if keep is None or d != keep.digest]
        if not gone:
            return 0
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(*(session_key(self.tenant, d) for d in gone))
            pipe.zrem(index, *gone)
            ended, _ = await pipe.execute()
        return int(ended)


# --- the cookie

def is_https(settings: Settings) -> bool:
    return settings.public_base_url.lower().startswith("https://")


def cookie_name(settings: Settings) -> str:
    # __Host-: the browser accepts it only Secure, Path=/ and without Domain,
    # so no sibling host under the city's domain can plant or shadow it.
    return SECURE_COOKIE if is_https(settings) else COOKIE


def set_cookie(response: web.StreamResponse, settings: Settings, session_id: str) -> None:
    # No Max-Age: the cookie goes when the browser closes (shared counter
    # PCs); the server-side timeouts bound it anyway.
    response.set_cookie(cookie_name(settings), session_id, path="/", httponly=True,
                        samesite="Strict", secure=is_https(settings))


def clear_cookie(response: web.StreamResponse, settings: Settings) -> None:
    response.del_cookie(cookie_name(settings), path="/", httponly=True, samesite="Strict",
                        secure=is_https(settings))


# --- CSRF

def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_origin(request: web.Request, settings: Settings) -> None:
    """Refuse a cookie request sent by a page of another site."""
    origin = request.headers.get("Origin")
    if origin is None:  # old browsers, non-browser clients: the token decides
        return
    if origin.lower() == _origin_of(settings.public_base_url):
        return
    parts = urlsplit(origin)
    if parts.scheme in ("http", "https") and parts.netloc and parts.netloc.lower() == (
            request.host or "").lower():
        return
    raise MadoguchiError("csrf_failed", "The request comes from another site (Origin).")


def check_csrf(request: web.Request, settings: Settings, session: Session,
               form_token: str | None = None) -> None:
    check_origin(request, settings)
    sent = request.headers.get(CSRF_HEADER) or form_token or ""
    if not sent or not hmac.compare_digest(sent.encode(), session.csrf.encode()):
        raise MadoguchiError("csrf_failed")


# --- the app's stores and the request's session

@dataclass
class LoginState:
    """The process's account and session stores. Put into the app by
    login_pages.setup and filled at start-up (the Redis client exists only
    then)."""

    settings: Settings | None = None
    users: Users | None = None
    sessions: Sessions | None = None


@dataclass(frozen=True)
class Ready:
    settings: Settings
    users: Users
    sessions: Sessions


LOGIN = web.AppKey("madoguchi_login", LoginState)
# The request's session, looked up once (None: looked up, none there).
_REQUEST_KEY = web.RequestKey("madoguchi_session", object)


def _ready(app: web.Application) -> Ready | None:
    found = app.get(LOGIN)
    if found is None or found.settings is None or found.users is None or found.sessions is None:
        return None
    return Ready(found.settings, found.users, found.sessions)


def state(request: web.Request) -> Ready:
    ready = _ready(request.app)
    if ready is None:
        raise MadoguchiError("unavailable", "Logging in is not set up in this process.")
    return ready


def has_cookie(request: web.Request) -> bool:
    ready = _ready(request.app)
    return ready is not None and cookie_name(ready.settings) in request.cookies


async def current(request: web.Request) -> tuple[Session, User] | None:
    """The request's live session and its (enabled) account, or None.
    Looked up once per request."""
    if _REQUEST_KEY in request:
        return cast("tuple[Session, User] | None", request[_REQUEST_KEY])
    found: tuple[Session, User] | None = None
    ready = _ready(request.app)
    if ready is not None:
        session_id = request.cookies.get(cookie_name(ready.settings), "")
        session = await ready.sessions.get(session_id) if session_id else None
        if session is not None:
            user = await ready.users.get(session.user)
            if user is None or user.disabled:
                await ready.sessions.delete(session)
            else:
                found = (session, user)
    request[_REQUEST_KEY] = found
    return found


def forget_current(request: web.Request) -> None:
    """After logout or login in this request: look the session up afresh."""
    request.pop(_REQUEST_KEY, None)


async def principal(request: web.Request) -> Principal:
    """The logged-in person behind the request's cookie, as a Principal.
    Checks Origin always and the CSRF token for state-changing methods."""
    found = await current(request)
    if found is None:
        raise MadoguchiError("session_expired")
    session, user = found
    settings = state(request).settings
    if request.method in SAFE_METHODS:
        check_origin(request, settings)  # websocket upgrades are GETs
    else:
        check_csrf(request, settings, session)
    return session_principal(session.ref, user.name, user.role, user.offices,
                             user.display_name)
