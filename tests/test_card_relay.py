"""The My Number card relay end to end: the kiosk page's request on one
server process, the kiosk agent's websocket on another (same Redis and
tenant), relayed through Redis pub/sub. The agent is the real KioskAgent
with checkin/card_agent.py; only the card is a function (the PC/SC path has
its own tests in test_cardreader.py). The crypto is real on both sides: in
Python here, and checkin/static/kiosk/card.js in headless Chromium.

What must hold: the PIN and the card's attributes never appear in clear in
any Redis key, any pub/sub message or any log line."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from redis.asyncio import Redis

from checkin.card_agent import CardAgent, aad, b64, derive_keys, raw_point, unb64
from checkin.cardreader import BasicFour, LastTryProtected, PinBlocked, WrongPin
from queue_server import card_relay
from queue_server.auth import Tokens
from tests.browser import chromium, phone_page
from tests.conftest import small_office
from tests.fake_printer import FakePrinter
from tests.servers import AppHarness, app_harness, bearer
from ticket_printer.agent import KioskAgent
from ticket_printer.printing import PrintOptions

TIMEOUT = 10.0
PIN = "7392"
PERSON = BasicFour(name="鶴見\u3000柚葉", address="福岡県北九州市戸畑区千防一丁目１番１号",
                   birth_date="19760915", sex="1")
SECRETS = [PERSON.name, "鶴見", "柚葉", PERSON.address, "戸畑区", PERSON.birth_date,
           "1976-09-15"]


class FakeCard:
    """Behaves like checkin.cardreader.read_basic_four on one card."""

    def __init__(self, pin: str = PIN, tries: int = 3) -> None:
        self.pin, self.tries = pin, tries
        self.calls = 0
        self.gate: threading.Event | None = None  # set: the read may finish

    def __call__(self, pin: str) -> BasicFour:
        self.calls += 1
        if self.gate is not None:
            self.gate.wait(TIMEOUT)
        if self.tries == 0:
            raise PinBlocked()
        if self.tries == 1:
            raise LastTryProtected(1)
        if pin != self.pin:
            self.tries -= 1
            if self.tries == 0:
                raise PinBlocked()
            raise WrongPin(self.tries)
        self.tries = 3
        return PERSON


async def eventually(check: Callable[[], Awaitable[bool]], within: float = TIMEOUT) -> None:
    async def poll() -> None:
        while True:
            if await check():
                return
            await asyncio.sleep(0.02)  # polling server state, bounded by wait_for
    await asyncio.wait_for(poll(), within)


@pytest.fixture
async def agent_side(redis: Redis, api: AppHarness) -> AsyncIterator[AppHarness]:
    """A second server process on the same Redis and tenant: the agent's."""
    async with app_harness(redis, api.tenant, small_office()) as other:
        yield other


@pytest.fixture
async def kiosk(api: AppHarness) -> str:
    token, _ = await Tokens(api.redis, api.tenant).create("kiosk", api.office, "入口の発券機")
    return token


@contextlib.asynccontextmanager
async def agent_running(server: AppHarness, token: str, printer: FakePrinter, tmp_path: Path,
                        card: FakeCard | CardAgent) -> AsyncIterator[KioskAgent]:
    """A kiosk agent connected to `server`, reading cards with `card` (a
    fake card's read function, or a whole CardAgent such as the real
    pcscd reader's)."""
    base = str(server.client.make_url("/")).rstrip("/")
    agent = KioskAgent(base, token, printer.url, tmp_path / "agent",
                       options=PrintOptions(timeout=2.0), status_every=3600,
                       card=card if isinstance(card, CardAgent) else CardAgent(read=card))
    stop = asyncio.Event()
    task = asyncio.create_task(agent.run(stop))
    try:
        await asyncio.wait_for(agent.connected.wait(), TIMEOUT)
        assert agent.card is not None
        # The key reaches Redis just after the agent's hello.
        await eventually(lambda: key_is(server, token, agent.card.public_key))
        yield agent
    finally:
        stop.set()
        await asyncio.wait_for(task, TIMEOUT)


async def key_is(server: AppHarness, token: str, public_key: str) -> bool:
    status, body = await server.request("GET", "/api/v1/kiosk/card-key", headers=bearer(token))
    return status == 200 and body["public_key"] == public_key


class Page:
    """The kiosk page's half of the protocol, in Python (card.js does the
    same in the browser)."""

    def __init__(self, api: AppHarness, token: str) -> None:
        self.api, self.token = api, token

    async def seal(self, pin: str = PIN, consent: bool = True,
                   request: str | None = None) -> tuple[dict[str, Any], Any, str]:
        key = await self.api.ok("GET", "/api/v1/kiosk/card-key", headers=bearer(self.token))
        assert key["office"] == self.api.office
        agent_point = unb64(key["public_key"])
        page = ec.generate_private_key(ec.SECP256R1())
        page_point = raw_point(page.public_key())
        request_key, reply_key = derive_keys(page, agent_point, page_point, agent_point)
        request = request or secrets.token_urlsafe(18)
        iv = secrets.token_bytes(12)
        plain = json.dumps({"pin": pin, "consent": consent, "request": request}).encode()
        body = {"request": request, "page_public_key": b64(page_point), "iv": b64(iv),
                "ciphertext": b64(request_key.encrypt(iv, plain, aad(request)))}
        return body, reply_key, request

    async def post(self, body: dict[str, Any]) -> tuple[int, Any]:
        return await self.api.request("POST", "/api/v1/kiosk/card-read", json_body=body,
                                      headers=bearer(self.token))

    async def read(self, pin: str = PIN, **kwargs: Any) -> dict[str, Any]:
        body, reply_key, request = await self.seal(pin, **kwargs)
        status, answer = await self.post(body)
        assert status == 200, (status, answer)
        assert answer["request"] == request and set(answer) == {"request", "iv", "ciphertext"}
        plain = reply_key.decrypt(unb64(answer["iv"]), unb64(answer["ciphertext"]),
                                  aad(request))
        data = json.loads(plain)
        assert data["request"] == request
        return dict(data["card"])

    async def error(self, pin: str = PIN, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        body, _, _ = await self.seal(pin, **kwargs)
        status, answer = await self.post(body)
        return status, answer["error"]


class Wiretap:
    """Every pub/sub message of the tenant (PSUBSCRIBE), as the relay sees it."""

    def __init__(self, redis_url: str, tenant: str) -> None:
        self.client = Redis.from_url(redis_url)
        self.pattern = f"mg:{{{tenant}:*"
        self.messages: list[str] = []
        self.pubsub = self.client.pubsub()
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Wiretap:
        await self.pubsub.psubscribe(self.pattern)

        async def confirmed() -> None:  # from here on, every message is heard
            while True:
                message = await self.pubsub.get_message(timeout=TIMEOUT)
                if message is not None and message["type"] == "psubscribe":
                    return
        await asyncio.wait_for(confirmed(), TIMEOUT)
        self.task = asyncio.create_task(self._listen())
        return self

    async def _listen(self) -> None:
        while True:
            message = await self.pubsub.get_message(ignore_subscribe_messages=True,
                                                    timeout=TIMEOUT)
            if message is not None:
                self.messages.append(message["data"].decode())

    async def __aexit__(self, *exc: object) -> None:
        assert self.task is not None
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.pubsub.aclose()
        await self.client.aclose()


async def redis_contents(redis: Redis, tenant: str) -> list[str]:
    """Every key of the tenant with its value, as text."""
    out = []
    async for raw in redis.scan_iter(match=f"mg:{{{tenant}[:}}]*", count=1000):
        key = raw.decode()
        kind = (await redis.type(key)).decode()
        if kind == "string":
            value: Any = await redis.get(key)
        elif kind == "hash":
            value = await redis.hgetall(key)
        elif kind == "list":
            value = await redis.lrange(key, 0, -1)
        elif kind == "set":
            value = await redis.smembers(key)
        elif kind == "zset":
            value = await redis.zrange(key, 0, -1, withscores=True)
        elif kind == "stream":
            value = await redis.xrange(key)
        else:
            value = kind
        out.append(f"{key} {value!r} " + _utf8(value))
    return out


def _utf8(value: Any) -> str:
    """Byte strings in a value decoded, so Japanese text can be searched for."""
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, dict):
        return " ".join(_utf8(k) + " " + _utf8(v) for k, v in value.items())
    if isinstance(value, list | set | tuple):
        return " ".join(_utf8(v) for v in value)
    return str(value)


def assert_no_secrets(where: str, texts: list[str]) -> None:
    pin = re.compile(rf"(?<!\d){PIN}(?!\d)")
    for text in texts:
        assert not pin.search(text), f"the PIN in {where}: {text[:300]}"
        assert '"pin"' not in text, f"a clear request in {where}: {text[:300]}"
        for secret in SECRETS:
            assert secret not in text, f"card data in {where}: {text[:300]}"


def log_texts(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.getMessage()} {r.__dict__}" for r in caplog.records]


async def test_sealed_round_trip_across_processes_keeps_pin_and_data_secret(
    api: AppHarness, agent_side: AppHarness, kiosk: str, printer: FakePrinter, tmp_path: Path,
    redis_url: str, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    card = FakeCard()
    page = Page(api, kiosk)  # the page talks to one process, the agent to another
    async with agent_running(agent_side, kiosk, printer, tmp_path, card), \
            Wiretap(redis_url, api.tenant) as tap:
        assert await page.read() == {"name": "鶴見\u3000柚葉", "family_name": "鶴見",
                                     "given_name": "柚葉", "address": PERSON.address,
                                     "birth_date": "1976-09-15", "sex": "1"}
        status, error = await page.error("1111")
        assert (status, error["code"], error["details"]) == (422, "wrong_pin",
                                                             {"tries_left": 2})
        status, error = await page.error("1111")
        assert error["details"] == {"tries_left": 1}
        calls = card.calls
        status, error = await page.error()  # one try left: never spent
        assert (status, error["code"], error["details"]) == (
            422, "last_try_protected", {"tries_left": 1})
        assert card.calls == calls + 1 and card.tries == 1
        contents = await redis_contents(api.redis, api.tenant)
    # The relay did go through pub/sub (request and answer, five times).
    assert sum('"ciphertext"' in m for m in tap.messages) >= 4
    assert_no_secrets("pub/sub", tap.messages)
    assert_no_secrets("Redis", contents)
    assert any("cardkey" in line for line in contents)  # the key is there, and public
    assert_no_secrets("the logs", log_texts(caplog))


async def test_refusals_and_failures_of_the_relay(
    api: AppHarness, agent_side: AppHarness, kiosk: str, printer: FakePrinter, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    page = Page(api, kiosk)
    status, answer = await api.request("GET", "/api/v1/kiosk/card-key", headers=bearer(kiosk))
    assert (status, answer["error"]["code"]) == (503, "card_agent_offline")  # no agent yet
    card = FakeCard()
    async with agent_running(agent_side, kiosk, printer, tmp_path, card) as agent:
        # Only a kiosk token reads cards.
        for role in ("staff", "display"):
            status, _ = await api.request("GET", "/api/v1/kiosk/card-key", role=role)
            assert status == 403
        body, _, _ = await page.seal()
        status, _ = await api.request("POST", "/api/v1/kiosk/card-read", json_body=body,
                                      role="staff")
        assert status == 403
        status, answer = await page.post({**body, "iv": "not base64!"})
        assert (status, answer["error"]["code"]) == (422, "validation_failed")

        # No consent: the agent does not touch the card.
        status, error = await page.error(consent=False)
        assert (status, error["code"], card.calls) == (422, "no_consent", 0)
        # The same sealed request twice: answered once.
        body, _, _ = await page.seal()
        assert (await page.post(body))[0] == 200
        status, answer = await page.post(body)
        assert (status, answer["error"]["code"], card.calls) == (409, "replayed", 1)
        # Changed on the way (or made for an older key): it does not open.
        body, _, _ = await page.seal()
        sealed = bytearray(unb64(body["ciphertext"]))
        sealed[0] ^= 1
        status, answer = await page.post({**body, "ciphertext": b64(bytes(sealed))})
        assert (status, answer["error"]["code"], card.calls) == (409, "stale_key", 1)

        # A card that does not answer in time, and a second read meanwhile.
        monkeypatch.setattr(card_relay, "RELAY_SECONDS", 0.5)
        card.gate = threading.Event()
        try:
            status, error = await page.error()
            assert (status, error["code"]) == (504, "card_timeout")
            status, error = await page.error()
            assert (status, error["code"]) == (409, "busy")
        finally:
            card.gate.set()
        monkeypatch.setattr(card_relay, "RELAY_SECONDS", 30.0)
        card.gate = None
        # The blocked read finished; the reader is free again.
        await eventually(lambda: _reads(page))
        assert agent.card is not None
        channel = f"mg:{{{api.tenant}:{api.office}}}:card:"
        sealed_for_this_agent, _, _ = await page.seal()
    # The agent went away: the page hears so at once, not after 30 s (its
    # key went with it: not even the key is handed out).
    await eventually(lambda: _no_listener(api.redis, channel))
    await eventually(lambda: _key_gone(api, kiosk))
    status, answer = await page.post(sealed_for_this_agent)
    assert (status, answer["error"]["code"]) == (503, "card_agent_offline")
    # It came back with a new key: a request sealed for the old one does not
    # open ("stale_key": card.js fetches the new key and tries once more).
    async with agent_running(agent_side, kiosk, printer, tmp_path / "again", card):
        status, answer = await page.post(sealed_for_this_agent)
        assert (status, answer["error"]["code"]) == (409, "stale_key")


async def _key_gone(api: AppHarness, kiosk: str) -> bool:
    status, answer = await api.request("GET", "/api/v1/kiosk/card-key", headers=bearer(kiosk))
    return (status, answer["error"]["code"] if status != 200 else "") == (
        503, "card_agent_offline")


async def _reads(page: Page) -> bool:
    body, _, _ = await page.seal()
    status, _ = await page.post(body)
    return status == 200


async def _no_listener(redis: Redis, channel_prefix: str) -> bool:
    channels = await redis.pubsub_channels(channel_prefix + "*")
    counts = await redis.pubsub_numsub(*channels) if channels else []
    return all(n == 0 for _, n in counts)


READ_IN_PAGE = """
async ({token, office, pin}) => {
  const card = await import("/static/checkin/kiosk/card.js");
  try {
    return {ok: await card.readCard({office, token, pin, consent: true})};
  } catch (err) {
    return {error: err.code, triesLeft: err.triesLeft, name: err.name};
  }
}
"""


async def test_card_js_round_trip_in_chromium(
    api: AppHarness, agent_side: AppHarness, kiosk: str, printer: FakePrinter, tmp_path: Path,
    redis_url: str, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    card = FakeCard(tries=2)
    async with agent_running(agent_side, kiosk, printer, tmp_path, card), \
            Wiretap(redis_url, api.tenant) as tap, chromium() as browser, \
            phone_page(browser) as tab:
        await tab.goto(str(api.client.make_url("/healthz")))
        args = {"token": kiosk, "office": api.office, "pin": PIN}
        result = await tab.evaluate(READ_IN_PAGE, args)
        assert result == {"ok": {"name": "鶴見\u3000柚葉", "familyName": "鶴見",
                                 "givenName": "柚葉", "address": PERSON.address,
                                 "birthDate": "1976-09-15", "sex": "1"}}
        wrong = await tab.evaluate(READ_IN_PAGE, {**args, "pin": "0000"})
        assert wrong == {"error": "wrong_pin", "triesLeft": 2, "name": "CardError"}
        # Nothing goes out without consent or with a PIN that is not 4 digits.
        refused = await tab.evaluate("""async ({token}) => {
            const card = await import("/static/checkin/kiosk/card.js");
            const codes = [];
            for (const args of [{token, pin: "7392", consent: false},
                                {token, pin: "73a2", consent: true}]) {
              try { await card.readCard(args); } catch (err) { codes.push(err.code); }
            }
            return codes;
        }""", {"token": kiosk})
        assert refused == ["no_consent", "invalid_pin"]
        contents = await redis_contents(api.redis, api.tenant)
    assert card.calls == 2
    assert sum('"ciphertext"' in m for m in tap.messages) >= 3
    assert_no_secrets("pub/sub", tap.messages)
    assert_no_secrets("Redis", contents)
    assert_no_secrets("the logs", log_texts(caplog))


async def test_the_key_lives_while_the_agent_is_connected(
    api: AppHarness, agent_side: AppHarness, kiosk: str, printer: FakePrinter, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(card_relay, "KEY_TTL_SECONDS", 1)
    monkeypatch.setattr(card_relay, "KEY_REFRESH_SECONDS", 0.2)
    kiosk_id = (await Tokens(api.redis, api.tenant).authenticate(kiosk)).token_id
    key = f"mg:{{{api.tenant}:{api.office}}}:cardkey:{kiosk_id}"
    async with agent_running(agent_side, kiosk, printer, tmp_path, FakeCard()):
        assert 0 < await api.redis.pttl(key) <= 1000
        started = asyncio.get_running_loop().time()

        async def outlived_its_ttl() -> bool:
            elapsed = asyncio.get_running_loop().time() - started
            return elapsed > 1.5 and bool(await api.redis.exists(key))
        await eventually(outlived_its_ttl)  # refreshed by the agent's server process
    # Gone with the agent: no refresh, and the short TTL runs out.
    await eventually(lambda: _gone(api.redis, key))


async def test_the_key_goes_at_once_when_the_agent_disconnects(
    api: AppHarness, agent_side: AppHarness, kiosk: str, printer: FakePrinter, tmp_path: Path,
) -> None:
    """Not after its TTL (60 s): a kiosk whose agent went away says so at
    "I agree" rather than after the citizen typed the PIN."""
    assert card_relay.KEY_TTL_SECONDS >= 60
    kiosk_id = (await Tokens(api.redis, api.tenant).authenticate(kiosk)).token_id
    key = f"mg:{{{api.tenant}:{api.office}}}:cardkey:{kiosk_id}"
    async with agent_running(agent_side, kiosk, printer, tmp_path, FakeCard()):
        assert await api.redis.exists(key)
    await eventually(lambda: _gone(api.redis, key), within=TIMEOUT / 2)
    status, answer = await api.request("GET", "/api/v1/kiosk/card-ready",
                                       headers=bearer(kiosk))
    assert (status, answer["error"]["code"]) == (503, "card_agent_offline")
    # A new connection's key is its own: an old connection ending never drops it.
    async with agent_running(agent_side, kiosk, printer, tmp_path, FakeCard()) as agent:
        assert agent.card is not None
        assert await key_is(api, kiosk, agent.card.public_key)
        status, answer = await api.request("GET", "/api/v1/kiosk/card-ready",
                                           headers=bearer(kiosk))
        assert (status, answer) == (200, {"ready": True})


async def _gone(redis: Redis, key: str) -> bool:
    return not await redis.exists(key)
