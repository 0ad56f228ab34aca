"""Shared fixtures: real Redis (REDIS_URL, else an embedded redis-server),
an isolated tenant per test (so tests never see each other's keys and never
flush a shared database) and a clock the test moves by hand."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis

from queue_server.embedded_redis import EmbeddedRedis
from queue_server.engine import Engine
from queue_server.office_config import Office

# 2026-11-27 (a Friday) 10:00 in Kitakyushu.
START = datetime(2026, 11, 27, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo")).timestamp()


class ManualClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis")).start()
    yield server.url
    server.stop()


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def tenant() -> str:
    return "test" + secrets.token_hex(6)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


# Open at every moment of every day (00:00-24:00, no holidays, no 年末年始),
# as `madoguchi demo --always-open` makes the demo: kiosk and phone tickets
# are refused while an office is closed, and a test of the queue must pass
# at 01:00 and on a Sunday. Tests of opening hours give their own.
ALWAYS_OPEN: dict[str, Any] = {
    "weekly": {str(d): {"open": "00:00", "close": "24:00"} for d in range(1, 8)},
    "year_end_closure": False, "holiday_closure": False,
}
# The default office hours (weekdays 08:30-17:00, holidays closed).
WEEKDAY_HOURS: dict[str, Any] = {}


def small_office(office_id: str = "testoffice", *,
                 hours: dict[str, Any] | None = None) -> Office:
    """Three services, four counters with overlapping services; open at
    every hour unless `hours` says otherwise (WEEKDAY_HOURS: the default)."""
    svc = lambda sid, letter, minutes, **kw: {  # noqa: E731
        "id": sid, "names": {"ja": sid, "en": sid}, "letter": letter,
        "expected_minutes": minutes, **kw,
    }
    ctr = lambda cid, services, **kw: {  # noqa: E731
        "id": cid, "names": {"ja": f"{cid}番窓口", "en": f"Counter {cid}"}, "services": services,
        **kw,
    }
    return Office.model_validate(
        {
            "id": office_id,
            "names": {"ja": "テスト区役所", "en": "Test Ward Office"},
            "queue": {"max_recalls": 1, "rejoin_minutes": 10, "priority_minutes": 15},
            "hours": ALWAYS_OPEN if hours is None else hours,
            "services": [
                svc("shomei", "A", 5, max_wait_minutes=20, konbini=True),
                svc("ido", "B", 15, max_wait_minutes=30),
                svc("okuyami", "J", 60, walk_in=False),
            ],
            "counters": [
                ctr("1", ["shomei"]),
                ctr("2", ["shomei", "ido"]),
                ctr("3", ["ido", "shomei"]),
                ctr("4", ["ido", "shomei"], order="due"),
                ctr("5", ["okuyami"]),
            ],
        }
    )


@pytest.fixture
async def engine(redis: Redis, tenant: str, clock: ManualClock) -> Engine:
    eng = Engine(redis, tenant, clock=clock)
    await eng.configure(small_office())
    return eng


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """In CI nothing may be skipped: a skip (missing dependency) fails."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which is a failure: {report.longrepr}"


# --- The app in-process, `madoguchi serve` processes and tenant clean-up
# (API, OpenAPI, websocket, multi-process and CLI tests). Helpers live in
# tests/servers.py.
from tests.servers import (  # noqa: E402
    AppHarness,
    ServerFactory,
    ServerProcess,
    app_harness,
    delete_tenant,
)


@pytest.fixture
async def api(redis: Redis, tenant: str) -> AsyncIterator[AppHarness]:
    """create_app on the test Redis with small_office() configured (all
    counters closed), served in-process; the tenant's keys go afterwards."""
    async with app_harness(redis, tenant, small_office()) as harness:
        yield harness


@pytest.fixture
async def clean_tenant(redis: Redis, tenant: str) -> AsyncIterator[str]:
    """The test tenant, whose keys are deleted after the test."""
    yield tenant
    await delete_tenant(redis, tenant)


@pytest.fixture
async def servers(
    redis_url: str, clean_tenant: str, tmp_path: Path
) -> AsyncIterator[ServerFactory]:
    """Starts `madoguchi serve` processes on the test Redis and tenant;
    every one still running is stopped (SIGTERM, then waited for) afterwards."""
    started: list[ServerProcess] = []

    async def start(name: str = "web") -> ServerProcess:
        server = ServerProcess(redis_url, clean_tenant, tmp_path, name=f"{name}{len(started)}")
        started.append(server)
        return await server.start()

    yield start
    for server in started:
        await server.stop()



# -- shared devices of the kiosk and printer tests -------------------------------


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """A headless Chromium for the test (Debian's, driven by Playwright)."""
    from tests.browser import chromium

    async with chromium() as b:
        yield b


@pytest.fixture
def printer() -> Iterator[Any]:
    """The fake network receipt printer (TCP, answers status queries)."""
    from tests.fake_printer import FakePrinter

    with FakePrinter() as fake:
        yield fake
