"""Idempotency keys (the IETF draft "The Idempotency-Key HTTP Header Field").

A client that changes state sends ``Idempotency-Key: <random>`` with the
request. The key, a fingerprint of the request (method, path, body) and the
outcome are stored by the very Lua script that makes the change
(includes_idempotency.lua), in the same atomic step: so the change and its
record can never part, and a retry with the same key — after a time-out, a
dropped connection or an ``outcome_unknown`` answer — gets the first outcome
back and changes nothing, even when the first request was still queued in a
frozen Redis at the time of the retry.

Keys are scoped per office (the record lives under the office's key prefix)
and per caller (a digest of the bearer token or session cookie; the public
shares one scope, where the key's 128 random bits keep callers apart) and
kept KEEP_SECONDS. Only successful outcomes are stored: a refusal (4xx from
the script) changed nothing, so its retry is decided afresh.

The middleware in app.py begins one `Attempt` per request; Engine.run_script
hands it to the first state-changing script the request runs (the one that
makes the change the client asked for)."""

from __future__ import annotations

import contextvars
import hashlib
import re
from dataclasses import dataclass

from aiohttp import web

from .errors import MadoguchiError

HEADER = "Idempotency-Key"
KEEP_SECONDS = 24 * 3600
# Printable ASCII without spaces or quotes; long enough to be unguessable
# (a UUID is 36 characters, 16 random bytes in hex 32).
KEY_RE = re.compile(r"[A-Za-z0-9._:~+/=-]{16,128}")
# The scripts that make the change a request asks for. A request sends its
# key to the first of these it runs.
SCRIPTS = frozenset({
    "issue_ticket", "call_next", "recall", "start", "finish", "no_show", "park", "transfer",
    "resume", "cancel", "rejoin", "set_counter_state", "book", "check_in", "arrive",
    "cancel_booking", "change_booking",
})


@dataclass
class Attempt:
    key_suffix: str  # under the office's key prefix: idem:<caller>:<key digest>
    fingerprint: str
    used: bool = False
    replayed: bool = False


CURRENT: contextvars.ContextVar[Attempt | None] = contextvars.ContextVar(
    "madoguchi_idempotency", default=None)


def _digest(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()


async def begin(request: web.Request, session_cookie: str | None) -> Attempt | None:
    """The attempt of a request carrying an Idempotency-Key (None without
    one). The caller makes it CURRENT for the handler and resets it after
    (requests of one keep-alive connection share a task)."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip().strip('"')  # the draft sends it as a quoted string
    if not KEY_RE.fullmatch(key):
        raise MadoguchiError("invalid_idempotency_key")
    credentials = request.headers.get("Authorization", "") or (
        f"cookie {session_cookie}" if session_cookie else "public")
    caller = _digest(credentials)[:24]
    body = await request.read()
    return Attempt(f"idem:{caller}:{_digest(key)[:40]}",
                   _digest(request.method, request.rel_url.path, body))


def replayed() -> bool:
    """The current request was answered from a stored outcome (nothing new
    happened: metrics do not count it again)."""
    attempt = CURRENT.get()
    return attempt is not None and attempt.replayed


def claim(script: str) -> Attempt | None:
    """The current request's attempt, for the state-changing script about to
    run (once per request)."""
    attempt = CURRENT.get()
    if attempt is None or attempt.used or script not in SCRIPTS:
        return None
    attempt.used = True
    return attempt
