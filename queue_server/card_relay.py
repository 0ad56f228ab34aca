"""The My Number card relay (書かない): the kiosk page's encrypted request to
its kiosk agent and the encrypted answer back. The server only relays: the
PIN and the card's attributes are sealed between the page and the agent
(checkin/card_agent.py describes the protocol), and nothing of a request is
stored or logged.

- ``GET /api/v1/kiosk/card-key`` (kiosk token): the agent's current public
  key, which the agent announced over ``/ws/kiosk-agent`` (``card_key``) and
  the server keeps at ``mg:{tenant:office}:cardkey:<kiosk>`` with a short
  TTL, refreshed while the agent stays connected.
- ``POST /api/v1/kiosk/card-read`` (kiosk token) ``{request,
  page_public_key, iv, ciphertext}``: published on the Redis channel
  ``mg:{tenant:office}:card:<kiosk>``, which every server process holding a
  connection of that kiosk's agent listens to (the agent may be connected
  to another process than the page), and forwarded to the agent as
  ``card_read``. The agent's ``card_result`` comes back on the per-request
  channel ``…:card:<kiosk>:reply:<relay id>``. The page waits at most
  RELAY_SECONDS. A card condition (wrong PIN, no card, …) is an error with
  its code; the attributes come back still encrypted.
- ``GET /api/v1/kiosk/card-ready`` (kiosk token): the same relay, asking the
  agent whether a reader is there and free (``card_status``; the agent
  answers ``card_result`` with ``ready`` or an error code). The kiosk asks
  when the citizen agrees, so "no reader", "pcscd down" or "the reader is
  held by another program" is said before anyone places a card or types a
  PIN. Answers ``{"ready": true}`` or the error (no_reader 503, reader_busy
  409, card_agent_offline 503, card_timeout 504).

The agent's key is deleted as soon as its connection ends (not left to
expire), so a kiosk whose agent went away hears card_agent_offline at once.

`agent_message` is called by the kiosk agent socket
(queue_server/api_printing.py) for ``card_key`` and ``card_result``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
import weakref
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError, WatchError

from .api import json_response, parse, principal
from .auth import Principal
from .context import ctx
from .errors import MadoguchiError
from .keys import OfficeKeys

log = logging.getLogger("madoguchi.card_relay")
routes = web.RouteTableDef()
AGENT_MESSAGES = ("card_key", "card_result")
KEY_TTL_SECONDS = 60
KEY_REFRESH_SECONDS = 20.0
RELAY_SECONDS = 30.0
STATUS_SECONDS = 5.0  # a reader check takes milliseconds; more means trouble
SUBSCRIBE_SECONDS = 5.0
PENDING_LIMIT = 100
B64 = r"^[A-Za-z0-9+/]+={0,2}$"
ID = r"^[A-Za-z0-9_-]{16,64}$"
POINT_B64 = 88  # a raw P-256 point is 65 bytes
IV_B64 = 16  # AES-GCM's 12-byte nonce

# Error codes the agent may answer with, and their HTTP status. The page
# maps the code to its message; the agent's codes are not personal data.
CARD_ERRORS: dict[str, tuple[int, str]] = {
    "card_agent_offline": (503, "The kiosk's agent (card reader PC) is not connected."),
    "card_timeout": (504, "The card reader did not answer in time."),
    "stale_key": (409, "The agent's key changed: fetch it again and retry."),
    "busy": (409, "The card reader is reading another card."),
    "replayed": (409, "This request was already answered."),
    "no_consent": (422, "The citizen's consent is required."),
    "invalid_pin": (422, "The PIN is 4 digits."),
    "wrong_pin": (422, "Wrong PIN."),
    "last_try_protected": (422, "One PIN try left: the citizen must confirm before it is used."),
    "pin_blocked": (422, "The card's PIN is blocked; it can be reset at the counter."),
    "no_card": (422, "No card on the reader."),
    "card_removed": (422, "The card was removed during the read."),
    "unknown_card": (422, "This is not a My Number card, or it cannot be read."),
    "reader_busy": (409, "Another program is using the card reader."),
    "no_reader": (503, "No card reader is connected to the kiosk."),
    "bad_request": (400, "The agent could not read the request."),
    "internal": (502, "The card reader failed; it has been logged on the kiosk PC."),
}


def card_error(code: str, **details: Any) -> MadoguchiError:
    status, message = CARD_ERRORS.get(code, (502, "The card reader answered unexpectedly."))
    error = MadoguchiError(code if code in CARD_ERRORS else "card_error", message, **details)
    error.status = status
    return error


class CardRead(BaseModel):
    """The page's sealed request (see checkin/card_agent.py)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    request: str = Field(pattern=ID, description="random id chosen by the page")
    page_public_key: str = Field(pattern=B64, min_length=POINT_B64, max_length=POINT_B64,
                                 description="the page's one-off P-256 public key, raw, base64")
    iv: str = Field(pattern=B64, min_length=IV_B64, max_length=IV_B64)
    ciphertext: str = Field(pattern=B64, min_length=24, max_length=2048)


class AgentCardKey(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["card_key"]
    public_key: str = Field(pattern=B64, min_length=POINT_B64, max_length=POINT_B64)


class AgentCardResult(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["card_result"]
    relay: str = Field(pattern=ID)
    request: str = Field(pattern=ID)
    iv: str | None = Field(default=None, pattern=B64, min_length=IV_B64, max_length=IV_B64)
    ciphertext: str | None = Field(default=None, pattern=B64, max_length=8192)
    error: str | None = Field(default=None, pattern=r"^[a-z_]{1,40}$")
    tries_left: int | None = Field(default=None, ge=0, le=15)
    ready: bool | None = None  # the answer to a card_status


def _keys(app_tenant: str, office: str, kiosk: str) -> tuple[str, str]:
    """(public key name, request channel) of one kiosk."""
    keys = OfficeKeys(app_tenant, office)
    return keys.k(f"cardkey:{kiosk}"), keys.k(f"card:{kiosk}")


def _reply_channel(channel: str, relay: str) -> str:
    return f"{channel}:reply:{relay}"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def _subscribe(pubsub: PubSub, channel: str) -> None:
    """Subscribe and wait for Redis to confirm: a message published after
    this returns is delivered."""
    await pubsub.subscribe(channel)
    deadline = time.monotonic() + SUBSCRIBE_SECONDS
    while (remaining := deadline - time.monotonic()) > 0:
        message = await pubsub.get_message(timeout=remaining)
        if message is not None and _text(message["type"]) == "subscribe":
            return
    raise TimeoutError("Redis did not confirm the subscription")


async def _kiosk(request: web.Request) -> Principal:
    who = await principal(request)
    if who.role != "kiosk":
        raise MadoguchiError("forbidden", "Only a kiosk token reads cards.")
    return who


@routes.get("/api/v1/kiosk/card-key", name="card_key")
async def card_key(request: web.Request) -> web.Response:
    app = ctx(request)
    who = await _kiosk(request)
    key_name, _ = _keys(app.settings.tenant, who.office, who.token_id)
    public_key = await app.redis.get(key_name)
    if public_key is None:
        raise card_error("card_agent_offline")
    return json_response({"public_key": _text(public_key), "office": who.office})


async def _relay(request: web.Request, who: Principal, kind: str, fields: dict[str, Any],
                 within: float) -> AgentCardResult:
    """Send one message of `kind` to the kiosk's agent (wherever it is
    connected) and wait for its answer."""
    app = ctx(request)
    key_name, channel = _keys(app.settings.tenant, who.office, who.token_id)
    agent_key = await app.redis.get(key_name)
    if agent_key is None:
        raise card_error("card_agent_offline")
    relay = secrets.token_urlsafe(16)
    pubsub = app.redis.pubsub()
    try:
        await _subscribe(pubsub, _reply_channel(channel, relay))
        message = json.dumps({"type": kind, "relay": relay, "agent_key": _text(agent_key),
                              **fields})
        if await app.redis.publish(channel, message) == 0:
            raise card_error("card_agent_offline")  # no process holds the agent's socket
        return await _wait_reply(pubsub, fields["request"], within)
    finally:
        with contextlib.suppress(Exception):
            await pubsub.unsubscribe()
        await pubsub.aclose()


@routes.get("/api/v1/kiosk/card-ready", name="card_ready")
async def card_ready(request: web.Request) -> web.Response:
    who = await _kiosk(request)
    answer = await _relay(request, who, "card_status",
                          {"request": secrets.token_urlsafe(16)}, STATUS_SECONDS)
    if answer.error is not None:
        raise card_error(answer.error)
    if answer.ready is not True:
        raise card_error("card_error")
    return json_response({"ready": True})


@routes.post("/api/v1/kiosk/card-read", name="card_read")
async def card_read(request: web.Request) -> web.Response:
    who = await _kiosk(request)
    body = await parse(request, CardRead)
    answer = await _relay(request, who, "card_read", body.model_dump(), RELAY_SECONDS)
    if answer.error is not None:
        details = {"tries_left": answer.tries_left} if answer.tries_left is not None else {}
        raise card_error(answer.error, **details)
    if answer.iv is None or answer.ciphertext is None:
        raise card_error("card_error")
    return json_response({"request": answer.request, "iv": answer.iv,
                          "ciphertext": answer.ciphertext})


async def _wait_reply(pubsub: PubSub, request_id: str,
                      within: float = RELAY_SECONDS) -> AgentCardResult:
    deadline = time.monotonic() + within
    while (remaining := deadline - time.monotonic()) > 0:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=remaining)
        if message is None or _text(message["type"]) != "message":
            continue
        answer = AgentCardResult.model_validate_json(message["data"])
        if answer.request == request_id:
            return answer
    raise card_error("card_timeout")


# --- The agent's side (the process holding the agent's websocket).

@dataclass(eq=False)
class _AgentLink:
    """One agent connection's subscription to its kiosk's card channel."""

    public_key: str
    task: asyncio.Task[None] | None = None
    pending: set[str] = field(default_factory=set)  # relay ids sent to this agent


_links: weakref.WeakKeyDictionary[web.WebSocketResponse, _AgentLink] = (
    weakref.WeakKeyDictionary())


async def agent_message(request: web.Request, ws: web.WebSocketResponse, office: str,
                        kiosk: str, data: dict[str, Any]) -> None:
    """A ``card_key`` or ``card_result`` from the kiosk agent on `ws`.
    Raises ValueError / ValidationError on a malformed message."""
    app = ctx(request)
    key_name, channel = _keys(app.settings.tenant, office, kiosk)
    if data.get("type") == "card_key":
        announced = AgentCardKey.model_validate(data)
        link = _links.get(ws)
        if link is None:
            link = _AgentLink(announced.public_key)
            pubsub = app.redis.pubsub()
            await _subscribe(pubsub, channel)  # before the key is published
            link.task = asyncio.create_task(_forward(app.redis, pubsub, key_name, ws, link))
            _links[ws] = link
            # The link lives as long as the socket's reader task (the caller).
            reader = asyncio.current_task()
            if reader is not None:
                reader.add_done_callback(lambda _: link.task and link.task.cancel())
        link.public_key = announced.public_key
        await app.redis.set(key_name, announced.public_key, ex=KEY_TTL_SECONDS)
        return
    result = AgentCardResult.model_validate(data)
    link = _links.get(ws)
    if link is None or result.relay not in link.pending:
        raise ValueError("no such card request")
    link.pending.discard(result.relay)
    await app.redis.publish(_reply_channel(channel, result.relay),
                            result.model_dump_json(exclude_none=True))


async def _forward(redis: Redis, pubsub: PubSub, key_name: str, ws: web.WebSocketResponse,
                   link: _AgentLink) -> None:
    """Card requests for this kiosk → the agent; keeps its key alive."""
    refreshed = time.monotonic()
    try:
        while not ws.closed:
            message = await pubsub.get_message(ignore_subscribe_messages=True,
                                               timeout=KEY_REFRESH_SECONDS)
            if time.monotonic() - refreshed >= KEY_REFRESH_SECONDS:
                refreshed = time.monotonic()
                if _text(await redis.get(key_name) or b"") == link.public_key:
                    await redis.expire(key_name, KEY_TTL_SECONDS)
            if message is None or _text(message["type"]) != "message":
                continue
            relayed = json.loads(message["data"])
            # Another connection of the same kiosk holds the key it was made for.
            if relayed.pop("agent_key", None) != link.public_key:
                continue
            kind = relayed.pop("type", "card_read")
            if kind not in ("card_read", "card_status"):
                continue
            link.pending.add(relayed["relay"])
            while len(link.pending) > PENDING_LIMIT:
                link.pending.pop()
            await ws.send_str(json.dumps({"type": kind, **relayed}))
    except (ConnectionError, RuntimeError, RedisError, OSError) as exc:
        # The socket closed under us, or Redis went away: the key expires,
        # and the page hears "card_agent_offline" until the agent reconnects.
        log.warning("card relay to the agent ended", extra={"error": type(exc).__name__})
    finally:
        with contextlib.suppress(Exception):
            await pubsub.unsubscribe()
        await pubsub.aclose()
        # The agent is gone: its key goes now, not when it expires (up to
        # KEY_TTL_SECONDS on), unless a new connection has replaced it.
        with contextlib.suppress(Exception):
            await _drop_key(redis, key_name, link.public_key)


async def _drop_key(redis: Redis, key_name: str, public_key: str) -> None:
    """Delete the kiosk's key if it is still this connection's (WATCH: a
    reconnection that sets its own key meanwhile keeps it)."""
    async with redis.pipeline(transaction=True) as pipe:
        await pipe.watch(key_name)
        if _text(await pipe.get(key_name) or b"") != public_key:
            return
        pipe.multi()
        pipe.delete(key_name)
        with contextlib.suppress(WatchError):
            await pipe.execute()
