"""Web Push for the smartphone ticket page: VAPID keys, subscriptions and
sending (RFC 8030 push protocol, RFC 8291 aes128gcm payload encryption,
RFC 8292 VAPID).

- The VAPID key pair is made on the first start of any process and kept in
  Redis under the tenant (`mg:{tenant}:vapid`, SET NX: every process of the
  tenant signs with the same key, so subscriptions made through one process
  are good for all). The private key never leaves the server; browsers get
  the public key (`GET /api/v1/push/vapid-public-key`).
- Subscriptions are kept per ticket in the ticket's office slot
  (`mg:{tenant:office}:push:<ticket id>`, a hash keyed by a digest of the
  endpoint), at most MAX_PER_TICKET, expiring with the ticket (two days at
  most). An endpoint URL is a capability (whoever has it can push to that
  browser): it is never logged.
- Sending encrypts with pywebpush's encoder, signs with py_vapid and posts
  with aiohttp: nothing blocks the event loop, redirects are not followed and
  each send has a total timeout.

Which push services a subscription may name is an allow-list: the server
posts to the endpoint it is given, so an open list would let anyone make the
server send requests into the city's network. MADOGUCHI_PUSH_HOSTS adds
hosts (`.example.org` = any host under it); a loopback host there is also
allowed over plain http, which is how the tests point a browser's
subscription at their local fake push service.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid import Vapid02
from pydantic import Field, field_validator
from pywebpush import WebPusher
from redis.asyncio import Redis

from queue_server.api_models import Body, Lang
from queue_server.errors import MadoguchiError
from queue_server.keys import OfficeKeys

log = logging.getLogger(__name__)

MAX_PER_TICKET = 3  # a phone or two and a re-subscription, not a broadcast list
SUBSCRIPTION_TTL_SECONDS = 2 * 24 * 3600
SEND_TIMEOUT_SECONDS = 10.0
# A call is news for a few minutes: after that the citizen has been recalled
# or marked absent, and a late "go to counter 3" would mislead.
PUSH_TTL_SECONDS = 5 * 60
# One topic: a recall replaces a call the push service still holds (RFC 8030 §5.4).
TOPIC = "madoguchi-call"
GONE = (404, 410)  # the subscription has expired or was withdrawn (RFC 8030 §7.3)
WELL_KNOWN_HOSTS = (
    "fcm.googleapis.com",            # Chrome, Edge on Android, Samsung Internet, Opera
    "android.googleapis.com",
    ".push.services.mozilla.com",    # Firefox
    ".notify.windows.com",           # Edge on Windows
    ".push.apple.com",               # Safari (macOS, iOS 16.4+ home-screen apps)
)
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
B64URL = r"^[A-Za-z0-9_-]+={0,2}$"
I18N = Path(__file__).resolve().parent / "static" / "i18n"


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# -- VAPID ---------------------------------------------------------------------


@dataclass(frozen=True)
class VapidKeys:
    signer: Vapid02
    public_key: str  # base64url of the uncompressed P-256 point (applicationServerKey)


def vapid_key(tenant: str) -> str:
    return f"mg:{{{tenant}}}:vapid"


def _new_key_pair() -> str:
    private = ec.generate_private_key(ec.SECP256R1())
    raw = private.private_numbers().private_value.to_bytes(32, "big")
    return json.dumps({"private": b64url(raw), "created": int(time.time())})


async def load_vapid(redis: Redis, tenant: str) -> VapidKeys:
    """The tenant's key pair, made now if no process has made one yet."""
    key = vapid_key(tenant)
    raw = await redis.get(key)
    if raw is None:
        # SET NX: of several processes starting at once, one pair wins and
        # every process reads that one back.
        await redis.set(key, _new_key_pair(), nx=True)
        raw = await redis.get(key)
    if raw is None:
        raise RuntimeError("the VAPID key could not be stored in Redis")
    signer = Vapid02.from_raw(json.loads(raw)["private"].encode())
    public = signer.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return VapidKeys(signer, b64url(public))


# -- which endpoints are allowed -------------------------------------------------


@dataclass(frozen=True)
class EndpointPolicy:
    hosts: tuple[str, ...] = WELL_KNOWN_HOSTS

    @classmethod
    def from_env(cls) -> EndpointPolicy:
        extra = [h.strip().lower() for h in os.environ.get("MADOGUCHI_PUSH_HOSTS", "").split(",")]
        return cls(WELL_KNOWN_HOSTS + tuple(h for h in extra if h))

    def _listed(self, host: str) -> bool:
        return any(host == h or (h.startswith(".") and host.endswith(h)) for h in self.hosts)

    def problem(self, endpoint: str) -> str | None:
        """Why `endpoint` may not be used, or None."""
        parts = urlsplit(endpoint)
        host = (parts.hostname or "").lower()
        if not self._listed(host):
            return "not a known push service"
        if parts.scheme == "https":
            return None
        if parts.scheme == "http" and host in LOOPBACK:
            return None  # a listed local push service (tests, development)
        return "the endpoint must be an https URL"


# -- subscriptions ---------------------------------------------------------------


class PushKeys(Body):
    p256dh: str = Field(pattern=B64URL, min_length=86, max_length=88,
                        description="The browser's P-256 public key, base64url (65 bytes)")
    auth: str = Field(pattern=B64URL, min_length=22, max_length=24,
                      description="The 16-byte authentication secret, base64url")

    @field_validator("p256dh")
    @classmethod
    def _point(cls, value: str) -> str:
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(value))
        except (ValueError, binascii.Error) as exc:
            raise ValueError("not an uncompressed P-256 public key") from exc
        return value

    @field_validator("auth")
    @classmethod
    def _secret(cls, value: str) -> str:
        try:
            ok = len(b64url_decode(value)) == 16
        except (ValueError, binascii.Error):
            ok = False
        if not ok:
            raise ValueError("not a 16-byte secret")
        return value


class PushSubscription(Body):
    """What `PushSubscription.toJSON()` gives (without expirationTime), and
    the language for the notification's text."""

    endpoint: str = Field(min_length=12, max_length=1024,
                          description="The push service URL (https)")
    keys: PushKeys
    lang: Lang = "ja"

    @field_validator("endpoint")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("not an absolute http(s) URL")
        if parts.username is not None or parts.password is not None or parts.fragment:
            raise ValueError("the URL may not carry credentials or a fragment")
        if any(c.isspace() or ord(c) < 0x21 or ord(c) > 0x7E for c in value):
            raise ValueError("the URL must be plain ASCII without spaces")
        return value


@dataclass(frozen=True)
class Subscriber:
    field: str
    endpoint: str
    p256dh: str
    auth: str
    lang: str


def push_key(tenant: str, ticket_id: str) -> str:
    office = ticket_id.partition(".")[0]
    return OfficeKeys(tenant, office).k(f"push:{ticket_id}")


# One atomic step: the ticket must exist and be live; the subscription is
# stored (replacing the same endpoint's), the oldest beyond the limit go,
# and the set expires with the ticket.
_STORE = """
local state = redis.call("HGET", KEYS[1], "state")
if not state then return "unknown_ticket" end
if state == "done" or state == "cancelled" then return "already_finished" end
redis.call("HSET", KEYS[2], ARGV[1], ARGV[2])
local limit = tonumber(ARGV[3])
while redis.call("HLEN", KEYS[2]) > limit do
  local flat = redis.call("HGETALL", KEYS[2])
  local oldest, oldest_at = nil, nil
  for i = 1, #flat, 2 do
    local at = tonumber(cjson.decode(flat[i + 1])["at"]) or 0
    if flat[i] ~= ARGV[1] and (oldest_at == nil or at < oldest_at) then
      oldest, oldest_at = flat[i], at
    end
  end
  redis.call("HDEL", KEYS[2], oldest)
end
local ttl = tonumber(ARGV[4])
local left = redis.call("PTTL", KEYS[1])
if left > 0 and left < ttl then ttl = left end
redis.call("PEXPIRE", KEYS[2], ttl)
return "ok"
"""


class Subscriptions:
    def __init__(self, redis: Redis, tenant: str) -> None:
        self.redis = redis
        self.tenant = tenant
        self._store = redis.register_script(_STORE)

    async def add(self, ticket_id: str, sub: PushSubscription) -> None:
        office = ticket_id.partition(".")[0]
        keys = OfficeKeys(self.tenant, office)
        field = hashlib.sha256(sub.endpoint.encode()).hexdigest()[:32]
        value = json.dumps({"endpoint": sub.endpoint, "p256dh": sub.keys.p256dh,
                            "auth": sub.keys.auth, "lang": sub.lang,
                            "at": int(time.time() * 1000)})
        result = await self._store(
            keys=[keys.ticket(ticket_id), push_key(self.tenant, ticket_id)],
            args=[field, value, MAX_PER_TICKET, SUBSCRIPTION_TTL_SECONDS * 1000],
        )
        code = result.decode() if isinstance(result, bytes) else str(result)
        if code != "ok":
            raise MadoguchiError(code)

    async def of_ticket(self, ticket_id: str) -> list[Subscriber]:
        raw = await self.redis.hgetall(push_key(self.tenant, ticket_id))
        out = []
        for field, value in raw.items():
            try:
                data = json.loads(value)
                out.append(Subscriber(_s(field), data["endpoint"], data["p256dh"],
                                      data["auth"], data.get("lang") or "ja"))
            except (ValueError, KeyError, TypeError):
                await self.redis.hdel(push_key(self.tenant, ticket_id), field)
        return out

    async def remove(self, ticket_id: str, field: str) -> None:
        await self.redis.hdel(push_key(self.tenant, ticket_id), field)

    async def drop_ticket(self, ticket_id: str) -> None:
        await self.redis.delete(push_key(self.tenant, ticket_id))


def _s(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


# -- the notification's text -----------------------------------------------------------


@cache
def _catalog(lang: str) -> dict[str, str]:
    path = I18N / f"ticket.{lang}.json"
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def text(lang: str, key: str, **params: str) -> str:
    template = _catalog(lang).get(key) or _catalog("ja").get(key) or key
    for name, value in params.items():
        template = template.replace("{" + name + "}", value)
    return template


def payload(kind: str, number: str, counter: str, lang: str, path: str) -> bytes:
    """The message for the service worker (encrypted end to end: the push
    service sees none of it). The number and counter only: no personal data."""
    title_key = "push.title_recalled" if kind == "recalled" else "push.title_called"
    return json.dumps({
        "v": 1,
        "kind": kind,
        "number": number,
        "counter": counter,
        "lang": lang,
        "title": text(lang, title_key, number=number, counter=counter),
        "body": text(lang, "push.body", number=number, counter=counter),
        "path": path,
    }, ensure_ascii=False).encode()


# -- sending --------------------------------------------------------------------------


class Sender:
    """Posts encrypted, VAPID-signed messages to push services."""

    def __init__(self, vapid: VapidKeys, subject: str, session: aiohttp.ClientSession,
                 timeout: float = SEND_TIMEOUT_SECONDS) -> None:
        self.vapid = vapid
        self.subject = subject
        self.session = session
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    def _request(self, sub: Subscriber, data: bytes) -> tuple[bytes, dict[str, str]]:
        pusher = WebPusher({"endpoint": sub.endpoint,
                            "keys": {"p256dh": sub.p256dh, "auth": sub.auth}})
        body = pusher.encode(data, "aes128gcm")["body"]
        parts = urlsplit(sub.endpoint)
        headers = dict(self.vapid.signer.sign({
            "sub": self.subject,
            "aud": f"{parts.scheme}://{parts.netloc}",
            # RFC 8292 §2: at most 24 hours ahead.
            "exp": int(time.time()) + 12 * 3600,
        }))
        headers.update({
            "TTL": str(PUSH_TTL_SECONDS),
            "Urgency": "high",
            "Topic": TOPIC,
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
        })
        return body, headers

    async def send(self, sub: Subscriber, data: bytes) -> int:
        """The push service's HTTP status (201 = accepted); raises
        aiohttp.ClientError / TimeoutError when it could not be reached."""
        body, headers = self._request(sub, data)
        async with self.session.post(sub.endpoint, data=body, headers=headers,
                                     allow_redirects=False, timeout=self.timeout) as resp:
            await resp.content.read(4096)  # a short look is enough; the rest is dropped
            return resp.status


def vapid_subject(public_base_url: str) -> str:
    """The contact for push services (RFC 8292 §2.1): MADOGUCHI_VAPID_SUBJECT
    (mailto: or https:), else the public https site, else a placeholder
    (Apple refuses the placeholder: set the variable in production)."""
    configured = os.environ.get("MADOGUCHI_VAPID_SUBJECT", "").strip()
    if configured:
        return configured
    parts = urlsplit(public_base_url)
    if parts.scheme == "https" and parts.hostname and "." in parts.hostname and not parts.port:
        return f"https://{parts.hostname}"
    return "mailto:webpush@madoguchi.invalid"


def describe_failure(exc: BaseException) -> str:
    """A log-safe description: the exception's class only (aiohttp's messages
    carry the URL, which is a capability)."""
    return type(exc).__name__
