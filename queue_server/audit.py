"""The audit log of administration: who changed what, and when.

One Redis stream per tenant, ``mg:{tenant}:audit`` (XADD MAXLEN ~ 100 000:
years of a city's changes), one entry per change: fields ``office`` (for
filtering) and ``data``, a JSON object

    {"at": ISO 8601, "action": "config.update", "office": "kokurakita",
     "user": "tanaka" | null, "name": "田中 花子", "role": "manager",
     "via": "session" | "token", "version": 8,
     "changes": [{"path": "services[juminhyo].expected_minutes", "old": 10, "new": 8}],
     "truncated": 0, ...action details}

Actions: ``office.create``, ``config.update``, ``config.import``,
``token.create``, ``token.revoke``.

What never goes in: citizens' data (the configuration holds none), token
secrets (a token entry names the token's public id, role, office and
label), passwords, session ids.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis

from .auth import Principal
from .clock import iso

AUDIT_MAXLEN = 100_000
TIME_ZONE = "Asia/Tokyo"  # the city's administration reads local times
MAX_CHANGES = 200  # per entry; a whole new set-up is summarised, not listed
MAX_TEXT = 300  # characters of one text value kept in a change
MAX_SCAN = 20_000  # entries read back for one filtered page
PAGE = 500
ACTIONS = ("office.create", "config.update", "config.import", "token.create", "token.revoke")

_MISSING = object()
Change = dict[str, Any]


def audit_key(tenant: str) -> str:
    return f"mg:{{{tenant}}}:audit"


# --- the diff

def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _keyed(value: Any) -> bool:
    """A list of objects with ids (services, counters): compared by id, so
    inserting one service does not read as every later one changing."""
    return (isinstance(value, list) and bool(value)
            and all(isinstance(v, dict) and isinstance(v.get("id"), str) for v in value)
            and len({v["id"] for v in value}) == len(value))


def compact(value: Any) -> Any:
    """A value as kept in a change: long texts cut, structure kept."""
    if value is _MISSING:
        return None
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + "…"
    if isinstance(value, dict):  # an unset field (null) says nothing
        return {k: compact(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [compact(v) for v in value]
    return value


def diff(old: Any, new: Any, path: str = "") -> list[Change]:
    """The changed leaves from `old` to `new` (JSON documents) as
    {path, old, new}; null stands for absent. Paths: dotted keys, list items
    of services and counters by id (``counters[3].services``); other lists
    (a counter's services, the display languages) are one value each, since
    their order is what they mean."""
    if old == new or ((old is None or old is _MISSING) and (new is None or new is _MISSING)):
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[Change] = []
        for key in [*old, *(k for k in new if k not in old)]:
            out += diff(old.get(key, _MISSING), new.get(key, _MISSING), _join(path, str(key)))
        return out
    if _keyed(old) and _keyed(new):
        before = {v["id"]: v for v in old}
        after = {v["id"]: v for v in new}
        out = []
        for key in [*before, *(k for k in after if k not in before)]:
            out += diff(before.get(key, _MISSING), after.get(key, _MISSING), f"{path}[{key}]")
        kept_before = [k for k in before if k in after]
        kept_after = [k for k in after if k in before]
        if kept_before != kept_after:  # reordered (the order is the priority)
            out.append({"path": f"{path}[order]", "old": list(before), "new": list(after)})
        return out
    return [{"path": path, "old": compact(old), "new": compact(new)}]


# --- who

def actor(who: Principal) -> dict[str, Any]:
    """The person (or device token) acting: names and role, never a secret
    (a token's id is the public first part of its digest)."""
    if who.user:
        return {"user": who.user, "name": who.label or who.user, "role": who.role,
                "via": "session"}
    return {"user": None, "name": who.label or f"token {who.token_id}", "role": who.role,
            "via": "token", "token_id": who.token_id}


# --- writing and reading

async def record(redis: Redis, tenant: str, who: Principal, action: str, office: str, *,
                 at: float, changes: list[Change] | None = None,
                 **details: Any) -> str:
    """Appends one entry; returns its stream id."""
    entry: dict[str, Any] = {"at": iso(at, TIME_ZONE), "action": action, "office": office,
                             **actor(who), **details}
    if changes is not None:
        entry["changes"] = changes[:MAX_CHANGES]
        entry["truncated"] = max(0, len(changes) - MAX_CHANGES)
    data = json.dumps(entry, ensure_ascii=False, default=str)
    raw = await redis.xadd(audit_key(tenant), {"office": office, "data": data},
                           maxlen=AUDIT_MAXLEN, approximate=True)
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def _s(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def read(redis: Redis, tenant: str, *, visible: Callable[[str], bool], limit: int = 50,
               before: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """The latest entries (newest first) whose office passes `visible`, up
    to `limit`, older than the entry id `before`. Returns (entries, the id
    to pass as `before` for the next page, or None at the end)."""
    key = audit_key(tenant)
    out: list[dict[str, Any]] = []
    high = f"({before}" if before else "+"
    scanned = 0
    last: str | None = None
    while len(out) < limit and scanned < MAX_SCAN:
        rows = await redis.xrevrange(key, max=high, min="-", count=PAGE)
        if not rows:
            return out, None
        for entry_id, fields in rows:
            last = _s(entry_id)
            scanned += 1
            f = {_s(k): _s(v) for k, v in fields.items()}
            if not visible(f.get("office", "")):
                continue
            out.append({"id": last, **json.loads(f["data"])})
            if len(out) >= limit:
                return out, last
        if len(rows) < PAGE:
            return out, None
        high = f"({last}"
    return out, last
