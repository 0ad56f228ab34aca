"""A local stand-in for a browser vendor's push service (RFC 8030), on
127.0.0.1.

It holds subscribers whose keys the test makes (as a browser would: a P-256
key pair and a 16-byte auth secret), records every message POSTed to
`/push/<token>`, checks the VAPID `Authorization: vapid t=<JWT>,k=<key>`
header (ES256 signature verified with the key in `k`, audience, expiry) and
decrypts the aes128gcm body with the subscriber's private key, so a test
sees exactly what the browser's service worker would get.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import http_ece
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Subscriber:
    """One browser's subscription: its keys never leave the test."""

    token: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth: bytes = field(default_factory=lambda: secrets.token_bytes(16))

    @property
    def p256dh(self) -> str:
        return b64url(self.private_key.public_key().public_bytes(
            Encoding.X962, PublicFormat.UncompressedPoint))

    def json(self, lang: str | None = None) -> dict[str, Any]:
        """What the page POSTs (PushSubscription.toJSON() and the language)."""
        body: dict[str, Any] = {"endpoint": self.endpoint,
                                "keys": {"p256dh": self.p256dh, "auth": b64url(self.auth)}}
        if lang is not None:
            body["lang"] = lang
        return body


@dataclass
class Received:
    token: str
    headers: dict[str, str]
    body: bytes
    payload: dict[str, Any] | None = None  # decrypted JSON
    vapid_key: str = ""                   # the `k` of the Authorization header
    claims: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # anything a real service would refuse


def verify_vapid(header: str, audience: str) -> tuple[str, dict[str, Any], list[str]]:
    """(public key, JWT claims, problems) of an RFC 8292 Authorization header."""
    problems: list[str] = []
    scheme, _, rest = header.partition(" ")
    if scheme.lower() != "vapid":
        return "", {}, [f"scheme {scheme!r} is not vapid"]
    params = dict(part.strip().split("=", 1) for part in rest.split(",") if "=" in part)
    token, key = params.get("t", ""), params.get("k", "")
    try:
        head_b64, claims_b64, sig_b64 = token.split(".")
        head = json.loads(b64url_decode(head_b64))
        claims = json.loads(b64url_decode(claims_b64))
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(),
                                                              b64url_decode(key))
        raw = b64url_decode(sig_b64)
        signature = encode_dss_signature(int.from_bytes(raw[:32], "big"),
                                         int.from_bytes(raw[32:], "big"))
        public.verify(signature, f"{head_b64}.{claims_b64}".encode(),
                      ec.ECDSA(hashes.SHA256()))
    except (ValueError, InvalidSignature) as exc:
        return key, {}, [f"VAPID token does not verify: {type(exc).__name__}"]
    if head.get("alg") != "ES256":
        problems.append(f"alg {head.get('alg')!r}")
    if claims.get("aud") != audience:
        problems.append(f"aud {claims.get('aud')!r} != {audience!r}")
    exp = int(claims.get("exp", 0))
    if not time.time() < exp <= time.time() + 24 * 3600:
        problems.append(f"exp {exp} not within the next 24 hours")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https://")):
        problems.append(f"sub {claims.get('sub')!r}")
    return key, claims, problems


class FakePushService:
    """`async with FakePushService() as push:`; `push.subscriber()` makes a
    subscription; `await push.wait_for(n)` returns once n messages came."""

    def __init__(self) -> None:
        self.subscribers: dict[str, Subscriber] = {}
        self.received: list[Received] = []
        self.status: dict[str, int] = {}  # token -> status to answer (e.g. 410 Gone)
        self._changed = asyncio.Condition()
        app = web.Application()
        app.router.add_post("/push/{token}", self._push)
        self._server = TestServer(app, host="127.0.0.1")

    @property
    def base(self) -> str:
        return str(self._server.make_url("")).rstrip("/")

    async def __aenter__(self) -> FakePushService:
        await self._server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._server.close()

    def subscriber(self) -> Subscriber:
        token = secrets.token_urlsafe(24)
        sub = Subscriber(token, f"{self.base}/push/{token}")
        self.subscribers[token] = sub
        return sub

    def for_token(self, token: str) -> list[Received]:
        return [r for r in self.received if r.token == token]

    async def wait_for(self, count: int, within: float = 10.0) -> list[Received]:
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: len(self.received) >= count)
        return list(self.received)

    async def _push(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        body = await request.read()
        record = Received(token, dict(request.headers), body)
        sub = self.subscribers.get(token)
        if sub is None:
            record.problems.append("unknown subscription")
        else:
            key, claims, problems = verify_vapid(request.headers.get("Authorization", ""),
                                                 self.base)
            record.vapid_key, record.claims = key, claims
            record.problems.extend(problems)
            if request.headers.get("Content-Encoding") != "aes128gcm":
                record.problems.append("Content-Encoding is not aes128gcm")
            if not request.headers.get("TTL", "").isdigit():
                record.problems.append("no TTL header (RFC 8030 §5.2)")
            try:
                plain = http_ece.decrypt(body, private_key=sub.private_key,
                                         auth_secret=sub.auth, version="aes128gcm")
                record.payload = json.loads(plain)
            except Exception as exc:  # any failure is what the test must see
                record.problems.append(f"payload does not decrypt: {type(exc).__name__}")
        async with self._changed:
            self.received.append(record)
            self._changed.notify_all()
        status = self.status.get(token, 201 if sub is not None else 404)
        return web.Response(status=status)
