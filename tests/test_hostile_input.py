"""Hostile input (issue 10 §2): what a stranger can send must get a short
JSON 4xx, never a 500, a blocked process, a held connection or a secret
echoed back or logged."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from queue_server import http_server
from queue_server.app import create_app
from queue_server.settings import Settings
from tests.conftest import small_office
from tests.servers import AppHarness, ServerProcess, app_harness, free_port

# Every prefix a page package serves files under (queue_server.pages.add_static).
STATIC_PREFIXES = {"/static/queue", "/static/ticket", "/static/ticket-i18n", "/static/lobby",
                   "/static/checkin"}


def static_prefixes(site: AppHarness) -> set[str]:
    out = set()
    for resource in site.app.router.resources():
        info: dict[str, Any] = resource.get_info()
        formatter = info.get("formatter", "")
        if formatter.startswith("/static/") and formatter.endswith("/{path}"):
            out.add(formatter.removesuffix("/{path}"))
    return out


async def test_hostile_static_paths_are_404_on_every_prefix(api: AppHarness) -> None:
    prefixes = static_prefixes(api)
    assert STATIC_PREFIXES <= prefixes, prefixes
    for prefix in sorted(prefixes):
        for rest in ("%00.js", "app%00.js", "i18n/%00", "..%2f..%2f..%2fetc%2fpasswd",
                     "x" * 5000 + ".js", "nothing-here.js"):
            async with api.client.get(f"{prefix}/{rest}") as resp:
                assert resp.status == 404, (prefix, rest, resp.status, await resp.text())
                body = await resp.json()
                assert body["error"]["code"] == "not_found"


# --- who asks is checked before what they send -----------------------------------------

PATH_VALUES = {"counter": "1", "token": "x" * 40, "action": "recall", "token_id": "0" * 16}
# Routes a citizen may call without a token (a smartphone checking in with the
# lobby code): without one, they validate the body like any public route.
PUBLIC_TOO = {"/api/v1/offices/{office}/check-in"}
# Bodies a validator would refuse: not JSON at all, and JSON of the wrong shape.
BAD_BODIES = (b'{"role": ', b'{"role": 5, "office": [], "service": {}, "counter": 7}')
UNDERPRIVILEGED = ("display", "kiosk", "phone", "staff")


def secured_operations(site: AppHarness, ticket: str) -> list[tuple[str, str, bool, bool]]:
    """(method, path, public too, for a kiosk token of any office)."""
    from queue_server import openapi

    out = []
    for path, item in openapi.document()["paths"].items():
        for method, op in item.items():
            if method in ("post", "put", "patch", "delete", "get") and op.get("security"):
                values = {**PATH_VALUES, "office": site.office, "ticket_id": ticket}
                out.append((method.upper(), path.format(**values), path in PUBLIC_TOO,
                            path.startswith(("/api/v1/kiosk/", "/ws/kiosk-agent"))))
    return out


async def test_every_secured_route_checks_who_asks_before_the_body(api: AppHarness) -> None:
    """Without a token, or with a token of another office (any device or staff
    role), a bad body is 401/403, never 400/422: the answer says nothing about
    what the body should be to someone who may not send it."""
    ticket = (await api.issue())["id"]
    operations = secured_operations(api, ticket)
    assert ("POST", "/api/v1/admin/tokens", False, False) in operations
    wrong = []
    for method, path, public_too, any_kiosk in operations:
        for body in BAD_BODIES:
            headers = {"Content-Type": "application/json"}
            async with api.client.request(method, path, data=body, headers=headers) as resp:
                if resp.status != 401 and not public_too:
                    wrong.append((method, path, None, resp.status))
            for role in UNDERPRIVILEGED:
                if any_kiosk and role == "kiosk":
                    continue  # the kiosk's own office is the token's
                auth = await api.auth(role, "elsewhere")
                async with api.client.request(method, path, data=body,
                                              headers={**headers, **auth}) as resp:
                    if resp.status not in (401, 403):
                        wrong.append((method, path, role, resp.status))
    assert not wrong, "\n".join(map(str, sorted(set(wrong), key=str)))


async def test_staff_token_creating_a_token_is_403_whatever_the_body(api: AppHarness) -> None:
    for body in ({"role": "kiosk", "office": api.office}, {"role": 5}, {}):
        status, answer = await api.request("POST", "/api/v1/admin/tokens", role="staff",
                                           json_body=body)
        assert (status, answer["error"]["code"]) == (403, "forbidden"), (body, answer)


# --- configuration documents: nesting, size, and the event loop --------------------------

CONFIG = "/api/v1/admin/offices/{office}/config"


def nested_yaml_flow(size: int = 60_000) -> str:
    half = (size - 10) // 2
    return "services: " + "[" * half + "]" * half + "\n"


def nested_yaml_block(size: int = 60_000) -> str:
    lines, depth, total = [], 0, 0
    while total < size:
        line = "  " * depth + "a:\n"
        lines.append(line)
        total += len(line)
        depth += 1
    lines.append("  " * depth + "b: 1\n")
    return "".join(lines)


async def put_config(site: AppHarness, body: str, kind: str) -> tuple[int, Any]:
    headers = {**await site.auth("admin", "*"), "Content-Type": kind}
    async with site.client.put(CONFIG.format(office=site.office), data=body.encode(),
                               headers=headers) as resp:
        return resp.status, await resp.json()


async def test_deeply_nested_config_is_refused_with_a_4xx(api: AppHarness) -> None:
    for body in (nested_yaml_flow(), nested_yaml_block(), "a: " + "[" * 30 + "]" * 30):
        # A bound for the test only (before the fix: 38 s with the process blocked, then 500).
        status, answer = await asyncio.wait_for(put_config(api, body, "application/yaml"), 30)
        assert (status, answer["error"]["code"]) == (400, "invalid_yaml"), answer
        assert "nests deeper" in answer["error"]["message"], answer
        assert answer["error"]["details"]["line"] >= 1
    for nesting in (30, 30_000):
        body = '{"services": ' + "[" * nesting + "]" * nesting + "}"
        status, answer = await asyncio.wait_for(put_config(api, body, "application/json"), 30)
        assert (status, answer["error"]["code"]) == (400, "invalid_json"), answer
    # The office's own document still goes through both ways.
    async with api.client.get(CONFIG.format(office=api.office) + "?format=yaml",
                              headers=await api.auth("admin", "*")) as resp:
        exported = await resp.text()
    status, answer = await put_config(api, exported, "application/yaml")
    assert status == 200, answer


async def test_config_is_parsed_off_the_event_loop(api: AppHarness,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """While a document is being parsed, the process answers other requests:
    the parser is held until /healthz has been answered (if it ran on the
    event loop, /healthz could not be answered and the parser would give up)."""
    from queue_server import api_admin

    released = threading.Event()
    seen: dict[str, bool] = {}
    real = api_admin.load_yaml

    def held_load(text: str) -> Any:
        seen["released_by_healthz"] = released.wait(timeout=20)
        seen["on_loop_thread"] = threading.current_thread() is threading.main_thread()
        return real(text)

    monkeypatch.setattr(api_admin, "load_yaml", held_load)
    put = asyncio.create_task(put_config(api, nested_yaml_flow(), "application/yaml"))
    async with api.client.get("/healthz") as resp:
        assert resp.status == 200
    released.set()
    status, answer = await asyncio.wait_for(put, 30)
    assert seen == {"released_by_healthz": True, "on_loop_thread": False}
    assert (status, answer["error"]["code"]) == (400, "invalid_yaml")


# --- malformed requests: JSON answers, nothing of the request echoed or logged -----------

SECRET = "S3CRETmg_" + "k" * 24  # what a session id or token looks like in a header


async def raw_exchange(port: int, data: bytes) -> bytes:
    """Send `data` on a fresh connection; everything the server answers
    until it closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 30)  # a bound for the test only
    finally:
        writer.close()


def split_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    return int(lines[0].split()[1]), headers, body


HOSTILE_HEADS = {
    "long cookie": (b"GET /healthz HTTP/1.1\r\nHost: x\r\nCookie: mg_session="
                    + SECRET.encode() * 400 + b"\r\n\r\n"),
    "long bearer": (b"POST /api/v1/offices/x/tickets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                    + SECRET.encode() * 400 + b"\r\nContent-Length: 0\r\n\r\n"),
    "long request line": b"GET /t/" + SECRET.encode() * 400 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "long header name": b"GET / HTTP/1.1\r\nHost: x\r\nX-" + SECRET.encode() * 400 + b": 1\r\n\r\n",
    "bad header": b"GET / HTTP/1.1\r\nHost: x\r\nCookie" + SECRET.encode() + b"\r\n\r\n",
}


def assert_clean_refusal(raw: bytes, case: str) -> None:
    status, headers, body = split_response(raw)
    assert status in (400, 431), (case, raw[:300])
    assert headers["content-type"].startswith("application/json"), (case, headers)
    error = json.loads(body)["error"]
    assert error["code"] in ("bad_request", "headers_too_large") and error["message"], error
    assert SECRET[:12].encode() not in raw, (case, raw[:500])


async def test_malformed_requests_get_json_and_nothing_is_echoed_or_logged(
        redis: Redis, clean_tenant: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    app = create_app(Settings(tenant=clean_tenant), redis=redis)
    port = free_port()
    runner = await http_server.start(app, "127.0.0.1", port)
    try:
        for case, data in HOSTILE_HEADS.items():
            assert_clean_refusal(await raw_exchange(port, data), case)
        # Requests with headers under the limit are served as before.
        status, _, body = split_response(await raw_exchange(
            port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nCookie: a="
            + b"b" * 4000 + b"\r\n\r\n"))
        assert (status, json.loads(body)) == (200, {"status": "ok"})
    finally:
        await runner.cleanup()
    formatter = logging.Formatter()
    logged = "\n".join(formatter.format(r) + repr(r.__dict__) for r in caplog.records)
    assert SECRET[:12] not in logged
    assert any(r.getMessage() == "malformed request refused" for r in caplog.records)


async def test_madoguchi_serve_refuses_long_headers_without_echo_or_log(
        redis_url: str, clean_tenant: str, tmp_path: Path) -> None:
    """The same through `madoguchi serve` (its own runner), its log included."""
    server = ServerProcess(redis_url, clean_tenant, tmp_path)
    server.env["MADOGUCHI_LOG_LEVEL"] = "DEBUG"
    await server.start()
    try:
        for case in ("long cookie", "long bearer"):
            assert_clean_refusal(await raw_exchange(server.port, HOSTILE_HEADS[case]), case)
    finally:
        assert await server.stop() == 0
    log = server.log()
    assert "malformed request refused" in log and SECRET[:12] not in log


# --- slow clients: read timeouts for the head and the body -------------------------------

@pytest.fixture
async def impatient(redis: Redis, tenant: str) -> AsyncIterator[AppHarness]:
    settings = Settings(tenant=tenant, header_timeout_seconds=0.5, body_timeout_seconds=0.5)
    async with app_harness(redis, tenant, small_office(), settings=settings) as harness:
        yield harness


async def test_a_body_that_does_not_arrive_is_answered_408(impatient: AppHarness) -> None:
    """Content-Length 60000 and 11 bytes sent: 408 and a closed connection
    once the body timeout has passed, not a connection held for minutes."""
    auth = (await impatient.auth("kiosk"))["Authorization"]
    for path in (impatient.path("/tickets"), "/api/v1/offices/testoffice/bookings", "/login"):
        head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n"
                "Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n")
        raw = await raw_exchange(impatient.client.port, head.encode() + b'{"service":')
        status, headers, body = split_response(raw)
        assert status == 408, (path, raw[:300])
        assert json.loads(body)["error"]["code"] == "request_timeout"
        assert headers.get("connection", "").lower() == "close"


async def test_a_head_that_does_not_arrive_closes_the_connection(
        impatient: AppHarness) -> None:
    for partial in (b"", b"GET /healthz HTTP/1.1\r\nHost: x\r\n", b"GET /heal"):
        # raw_exchange returns when the server closes the connection.
        assert await raw_exchange(impatient.client.port, partial) == b""


async def test_the_timeouts_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MADOGUCHI_HEADER_TIMEOUT_SECONDS", "7.5")
    monkeypatch.setenv("MADOGUCHI_BODY_TIMEOUT_SECONDS", "12")
    settings = Settings.from_env()
    assert (settings.header_timeout_seconds, settings.body_timeout_seconds) == (7.5, 12.0)
    assert (Settings().header_timeout_seconds, Settings().body_timeout_seconds) == (60.0, 60.0)
