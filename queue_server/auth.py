"""Who may do what: roles and permissions, and bearer tokens for devices
and staff tools (people log in instead: queue_server.users, .sessions).

A token is 256 random bits shown once; Redis keeps only its SHA-256 (a
high-entropy secret needs no slow hash), with the role and the office it is
scoped to."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from redis.asyncio import Redis

from .errors import MadoguchiError
from .keys import token_index, token_key

Role = Literal["staff", "kiosk", "display", "phone", "admin"]
ROLES: tuple[str, ...] = ("staff", "kiosk", "display", "phone", "admin")
# Roles of staff accounts (people who log in; queue_server.users). `staff`
# and `admin` mean the same as the device-token roles of those names;
# `manager` exists only for people: an office manager of their offices.
USER_ROLES: tuple[str, ...] = ("admin", "manager", "staff")
ALL_OFFICES = "*"
PREFIX = "mg_"

# What each role may do. Public reads need no token at all.
PERMISSIONS: dict[str, frozenset[str]] = {
    "issue_ticket": frozenset({"kiosk", "staff", "manager", "admin", "phone"}),
    "counter_action": frozenset({"staff", "manager", "admin"}),
    "ticket_admin": frozenset({"staff", "manager", "admin"}),
    "show_presence": frozenset({"display", "kiosk", "staff", "manager", "admin"}),
    # Configure an office (services, counters, hours, texts), see its statistics.
    "manage_office": frozenset({"manager", "admin"}),
    # Municipality-wide: accounts, device tokens, every office. Checked with
    # office=ALL_OFFICES, which only an all-offices principal passes.
    "admin": frozenset({"admin"}),
}


@dataclass(frozen=True)
class Principal:
    token_id: str
    role: str
    office: str
    label: str
    # A logged-in person (session) may have several offices; a device token
    # has one (`office`). `user` is the login name; "" for device tokens.
    offices: frozenset[str] = frozenset()
    user: str = ""

    @property
    def scope(self) -> frozenset[str]:
        """The offices this principal may act in (may hold ALL_OFFICES)."""
        return self.offices or frozenset({self.office})

    def may_act_in(self, office: str) -> bool:
        return ALL_OFFICES in self.scope or office in self.scope

    def require(self, permission: str, office: str) -> None:
        kind = "account" if self.user else "token"
        if self.role not in PERMISSIONS[permission]:
            raise MadoguchiError("forbidden", f"A {self.role} {kind} may not do this.")
        if not self.may_act_in(office):
            raise MadoguchiError("forbidden", f"This {kind} belongs to another office.")


def session_principal(session_id: str, name: str, role: str, offices: tuple[str, ...],
                      display_name: str = "") -> Principal:
    """The principal of a logged-in person. `session_id`: a short public
    reference to the session (never the secret cookie value)."""
    scope = frozenset(offices)
    # No offices (should not happen: accounts are checked) means no office,
    # never all of them: "" is no office id.
    first = ALL_OFFICES if ALL_OFFICES in scope else (offices[0] if offices else "")
    return Principal(session_id, role, first, display_name or name,
                     offices=scope or frozenset({""}), user=name)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


CACHE_SECONDS = 2.0
CACHE_SIZE = 1024


class Tokens:
    """Token store. Lookups are cached per process for CACHE_SECONDS (a
    quarter of a POST /tickets was the token GET): a revoked token stops
    working here at once and in other processes within that time."""

    def __init__(self, redis: Redis, tenant: str, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self.redis = redis
        self.tenant = tenant
        self.clock = clock
        self._cache: dict[str, tuple[float, Principal]] = {}

    async def create(self, role: str, office: str, label: str = "") -> tuple[str, str]:
        """Returns (token, token id). The token itself is not stored."""
        if role not in ROLES:
            raise MadoguchiError("validation_failed", f"role must be one of {', '.join(ROLES)}")
        if role != "admin" and office == ALL_OFFICES:
            raise MadoguchiError("validation_failed", "only admin tokens may span all offices")
        token = PREFIX + secrets.token_urlsafe(32)
        digest = _digest(token)
        record = {"role": role, "office": office, "label": label, "created": int(time.time())}
        await self.redis.set(token_key(self.tenant, digest), json.dumps(record))
        await self.redis.sadd(token_index(self.tenant), digest)
        return token, digest[:16]

    async def authenticate(self, token: str) -> Principal:
        if not token.startswith(PREFIX) or len(token) > 100:
            raise MadoguchiError("unauthorized")
        digest = _digest(token)
        hit = self._cache.get(digest)
        now = self.clock()
        if hit is not None and now - hit[0] < CACHE_SECONDS:
            return hit[1]
        raw = await self.redis.get(token_key(self.tenant, digest))
        if raw is None:
            self._cache.pop(digest, None)
            raise MadoguchiError("unauthorized")
        record = json.loads(raw)
        who = Principal(digest[:16], record["role"], record["office"], record.get("label", ""))
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()
        self._cache[digest] = (now, who)
        return who

    async def list(self) -> list[dict[str, str]]:
        digests = sorted(d.decode() for d in await self.redis.smembers(token_index(self.tenant)))
        out = []
        for digest in digests:
            raw = await self.redis.get(token_key(self.tenant, digest))
            if raw:
                out.append({"id": digest[:16], **json.loads(raw)})
        return out

    async def revoke(self, token_id: str) -> bool:
        for raw in await self.redis.smembers(token_index(self.tenant)):
            digest = raw.decode()
            if digest.startswith(token_id) and len(token_id) >= 8:
                await self.redis.delete(token_key(self.tenant, digest))
                await self.redis.srem(token_index(self.tenant), digest)
                self._cache.pop(digest, None)
                return True
        return False
