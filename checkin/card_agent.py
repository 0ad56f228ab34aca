"""The card reader side of the kiosk agent (書かない): the kiosk page sends
the citizen's PIN and consent, the agent reads the card and sends back the
four basic attributes — end-to-end encrypted between the page and this
agent, so the server that relays the messages never sees either in clear.

The protocol ("madoguchi-card-v1"; the page's half is
checkin/static/kiosk/card.js):

- on each connection the agent makes a fresh ECDH P-256 key pair and sends
  ``{"type": "card_key", "public_key": <base64 of the 65-byte raw point>}``;
- the page makes its own one-off P-256 key pair; both sides derive
  ``shared = ECDH(...)`` and, with HKDF-SHA256 (salt = page point ‖ agent
  point), a request key (info "madoguchi-card-v1 request") and a reply key
  (info "madoguchi-card-v1 reply"), each for AES-256-GCM with the
  additional data "madoguchi-card-v1|<request id>";
- the page encrypts ``{"pin", "consent", "request"}``;
  the server relays it as ``{"type": "card_read", "relay", "request",
  "page_public_key", "iv", "ciphertext"}``;
- the agent answers ``{"type": "card_result", "relay", "request", "iv",
  "ciphertext"}`` (the reply key over ``{"request", "card": {name,
  family_name, given_name, address, birth_date, sex}}``) or ``{"type":
  "card_result", "relay", "request", "error": <code>, "tries_left"?}`` in
  clear: error codes are not personal data.

Before the citizen places the card, the page asks whether a reader is
there and free: the server relays ``{"type": "card_status", "relay",
"request"}`` and the agent answers ``{"type": "card_result", "relay",
"request", "ready": true}`` or ``… "error": <code>`` (no_reader: none, or
pcscd not running; reader_busy: another program holds the card).

A request id is answered once per key (a replayed blob could otherwise
spend PIN tries), and a blob made for an earlier key fails to decrypt
("stale_key": the page fetches the new key and tries again). One read at a
time ("busy" otherwise). Nothing of the PIN or the card is logged; Python
cannot wipe a string, so the agent drops its references as soon as it can.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import os
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .cardreader import BasicFour, CardError, read_basic_four, reader_status

log = logging.getLogger("madoguchi.card_agent")
PROTOCOL = "madoguchi-card-v1"
SEEN_LIMIT = 1000
CARD_WAIT_SECONDS = 10.0  # well inside the server's 30 s relay wait

# pin -> the attributes; blocking (runs in a thread).
ReadFn = Callable[[str], BasicFour]
# Raises a CardError when no reader is ready; blocking (runs in a thread).
StatusFn = Callable[[], None]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise ValueError("not base64 text")
    return base64.b64decode(text, validate=True)


def raw_point(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.X962,
                            serialization.PublicFormat.UncompressedPoint)


def aad(request: str) -> bytes:
    return f"{PROTOCOL}|{request}".encode()


def derive_keys(private: ec.EllipticCurvePrivateKey, peer_point: bytes, page_point: bytes,
                agent_point: bytes) -> tuple[AESGCM, AESGCM]:
    """(request cipher, reply cipher) from one side's private key and the
    other side's raw public point. Both sides call it the same way."""
    peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), peer_point)
    shared = private.exchange(ec.ECDH(), peer)

    def key(purpose: str) -> AESGCM:
        return AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=page_point + agent_point,
                           info=f"{PROTOCOL} {purpose}".encode()).derive(shared))

    return key("request"), key("reply")


@dataclass
class CardAgent:
    """Plugged into ticket_printer.agent.KioskAgent (`card=`): `attach` on
    each connection, `handle` for each ``card_read`` message."""

    reader: str | None = None
    wait_seconds: float = CARD_WAIT_SECONDS
    read: ReadFn | None = None  # default: the PC/SC reader (checkin.cardreader)
    status: StatusFn | None = None  # default: the PC/SC reader's state
    _private: ec.EllipticCurvePrivateKey | None = field(default=None, init=False)
    _point: bytes = field(default=b"", init=False)
    _seen: OrderedDict[str, None] = field(default_factory=OrderedDict, init=False)
    _busy: bool = field(default=False, init=False)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set, init=False)

    @property
    def public_key(self) -> str:
        return b64(self._point)

    def new_key(self) -> str:
        """A fresh key pair (forgetting the old one and the ids seen with it)."""
        self._private = ec.generate_private_key(ec.SECP256R1())
        self._point = raw_point(self._private.public_key())
        self._seen.clear()
        return self.public_key

    async def attach(self, ws: Any) -> None:
        """A new server connection: a new key, announced to the server."""
        await ws.send(json.dumps({"type": "card_key", "public_key": self.new_key()}))

    def handle(self, ws: Any, message: dict[str, Any]) -> None:
        """Answer a ``card_read`` in the background: reading a card takes
        seconds, and print jobs must not wait for it."""
        task = asyncio.create_task(self._reply(ws, message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _reply(self, ws: Any, message: dict[str, Any]) -> None:
        if message.get("type") == "card_status":
            answer = await self.ready(message)
        else:
            answer = await self.answer(message)
        # A connection lost meanwhile loses the answer; the page's request
        # ends with the server's timeout and the citizen tries again.
        with contextlib.suppress(Exception):
            await ws.send(json.dumps(answer))

    def _status(self) -> None:
        if self.status is not None:
            self.status()
        elif self.read is None:
            reader_status(reader=self.reader)
        # else: a reader given as a function (tests) is always there

    async def ready(self, message: dict[str, Any]) -> dict[str, Any]:
        """The ``card_result`` for one ``card_status``: is a reader ready?"""
        base = {"type": "card_result", "relay": message.get("relay"),
                "request": message.get("request")}
        if self._busy:
            return {**base, "ready": True}  # reading a card: the reader is there
        try:
            await asyncio.to_thread(self._status)
        except CardError as exc:
            log.info("card reader not ready", extra={"outcome": exc.code})
            return {**base, "error": exc.code}
        except Exception as exc:
            log.error("card reader check failed", extra={"error": type(exc).__name__})
            return {**base, "error": "internal"}
        return {**base, "ready": True}

    def _read(self, pin: str) -> BasicFour:
        if self.read is not None:
            return self.read(pin)
        return read_basic_four(pin, reader=self.reader, wait_seconds=self.wait_seconds)

    async def answer(self, message: dict[str, Any]) -> dict[str, Any]:
        """The ``card_result`` for one ``card_read``."""
        request = message.get("request")
        base = {"type": "card_result", "relay": message.get("relay"), "request": request}

        def fail(code: str, **extra: Any) -> dict[str, Any]:
            log.info("card read refused", extra={"outcome": code})
            return {**base, "error": code, **extra}

        if not isinstance(request, str) or self._private is None:
            return fail("bad_request")
        try:
            page_point = unb64(message.get("page_public_key"))
            iv, ciphertext = unb64(message.get("iv")), unb64(message.get("ciphertext"))
            request_key, reply_key = derive_keys(self._private, page_point, page_point,
                                                 self._point)
        except (ValueError, binascii.Error):
            return fail("bad_request")
        try:
            body = json.loads(request_key.decrypt(iv, ciphertext, aad(request)))
        except (InvalidTag, ValueError):
            # Made for another key (this agent reconnected since the page
            # fetched it) or changed on the way.
            return fail("stale_key")
        if not isinstance(body, dict) or body.get("request") != request:
            return fail("bad_request")
        if request in self._seen:
            return fail("replayed")
        self._seen[request] = None
        while len(self._seen) > SEEN_LIMIT:
            self._seen.popitem(last=False)
        if body.get("consent") is not True:
            return fail("no_consent")
        pin = body.pop("pin", None)
        del body
        if not isinstance(pin, str):
            return fail("invalid_pin")
        if self._busy:
            return fail("busy")
        self._busy = True
        try:
            info = await asyncio.to_thread(self._read, pin)
        except CardError as exc:
            extra = {"tries_left": exc.tries_left} if hasattr(exc, "tries_left") else {}
            return fail(exc.code, **extra)
        except Exception as exc:
            # A bug or a PC/SC surprise: the type only (a message could
            # quote card bytes).
            log.error("card read failed", extra={"error": type(exc).__name__})
            return fail("internal")
        finally:
            self._busy = False
            del pin
        plain = json.dumps({"request": request, "card": info.as_json()},
                           ensure_ascii=False).encode()
        del info
        reply_iv = os.urandom(12)
        sealed = reply_key.encrypt(reply_iv, plain, aad(request))
        del plain
        log.info("card read", extra={"outcome": "ok"})
        return {**base, "iv": b64(reply_iv), "ciphertext": b64(sealed)}
