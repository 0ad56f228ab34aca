"""Hostile input (issue 10 §2): what a stranger can send must get a short
JSON 4xx, never a 500, a blocked process, a held connection or a secret
echoed back or logged."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from tests.servers import AppHarness

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
