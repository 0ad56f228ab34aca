"""Reading the office event stream: decoding entries into the public event
of DESIGN §7 and replaying from an id."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

STREAM_ID = re.compile(r"^\d{1,20}(-\d{1,20})?$")


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    ticket_id: str  # private: never sent on the public stream
    data: dict[str, Any]
    _json: list[str] = field(default_factory=list, compare=False, repr=False)
    _frame: list[bytes] = field(default_factory=list, compare=False, repr=False)

    @property
    def public(self) -> dict[str, Any]:
        return {"id": self.id, **self.data}

    def public_json(self) -> str:
        # Serialised once, however many sockets receive it.
        if not self._json:
            self._json.append(json.dumps(self.public, ensure_ascii=False))
        return self._json[0]

    def public_frame(self) -> bytes:
        """The event as one unmasked websocket text frame (RFC 6455 §5.2),
        built once for every socket that takes it."""
        if not self._frame:
            self._frame.append(text_frame(self.public_json().encode()))
        return self._frame[0]


def text_frame(payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        header = bytes((0x81, n))
    elif n < 1 << 16:
        header = bytes((0x81, 126)) + n.to_bytes(2, "big")
    else:
        header = bytes((0x81, 127)) + n.to_bytes(8, "big")
    return header + payload


def _s(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def decode(entry_id: bytes | str, fields: dict[Any, Any]) -> Event:
    f = {_s(k): _s(v) for k, v in fields.items()}
    return Event(id=_s(entry_id), type=f["type"], ticket_id=f.get("tid", ""),
                 data=json.loads(f["data"]))


def id_tuple(event_id: str) -> tuple[int, int]:
    ms, _, seq = event_id.partition("-")
    return int(ms), int(seq or 0)


async def last_id(redis: Redis, stream: str) -> str:
    entries = await redis.xrevrange(stream, "+", "-", count=1)
    return _s(entries[0][0]) if entries else "0-0"


async def replay(
    redis: Redis, stream: str, since: str, limit: int = 1000
) -> tuple[list[Event], bool]:
    """Events after `since`, oldest first, and whether some were already
    trimmed away (the reader then needs a full refresh)."""
    first = await redis.xrange(stream, "-", "+", count=1)
    gap = bool(first) and id_tuple(_s(first[0][0])) > id_tuple(since) and since != "0-0"
    entries = await redis.xrange(stream, f"({since}", "+", count=limit)
    return [decode(i, f) for i, f in entries], gap
