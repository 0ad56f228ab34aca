"""Hostile input (issue 10 §2): what a stranger can send must get a short
JSON 4xx, never a 500, a blocked process, a held connection or a secret
echoed back or logged."""

from __future__ import annotations

from typing import Any

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
