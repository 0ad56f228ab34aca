"""The `madoguchi` command, run as a child process against the test Redis
and tenant: demo data and device tokens."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from queue_server.cli import main as cli_main
from queue_server.engine import Engine
from tests.conftest import small_office
from tests.servers import AppHarness, app_harness, bearer, cli

WARDS = ["kokurakita", "kokuraminami", "moji", "tobata", "wakamatsu", "yahatahigashi",
         "yahatanishi"]


@pytest.fixture
async def demo(redis_url: str, redis: Redis, tenant: str) -> AsyncIterator[AppHarness]:
    """`madoguchi demo` loaded, and the app on the same tenant."""
    async with app_harness(redis, tenant) as harness:
        result = await cli(redis_url, tenant, "demo", "--always-open")  # at any hour
        assert result.returncode == 0, result.stderr
        assert "demo loaded: 7 offices" in result.stdout
        yield harness


async def test_demo_loads_seven_offices(demo: AppHarness) -> None:
    body = await demo.ok("GET", "/api/v1/offices")
    assert sorted(o["id"] for o in body["offices"]) == WARDS
    assert all(o["names"]["ja"].endswith("区役所") for o in body["offices"])
    # Counters open by default: the kiosk flow works at once.
    status = await demo.ok("GET", "/api/v1/offices/kokurakita/status")
    assert status["counters"] and all(c["state"] == "open" for c in status["counters"])


async def test_token_create_list_revoke(demo: AppHarness, redis_url: str, redis: Redis) -> None:
    tenant = demo.tenant
    created, admin = await asyncio.gather(
        cli(redis_url, tenant, "token", "create", "--role", "kiosk", "--office", "kokurakita",
            "--label", "door kiosk"),
        cli(redis_url, tenant, "token", "create", "--role", "admin"),  # all offices
    )
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("mg_") and "\n" not in token
    token_id = created.stderr.split("(id ", 1)[1].split(";", 1)[0]

    issue = "/api/v1/offices/kokurakita/tickets"
    service = (await demo.ok("GET", "/api/v1/offices/kokurakita/services"))["services"][0]
    ticket = await demo.ok("POST", issue, 201, json_body={"service": service["id"]},
                           headers=bearer(token))
    assert ticket["channel"] == "kiosk"
    # Scoped to its office and role.
    status, body = await demo.request("POST", "/api/v1/offices/moji/tickets",
                                      json_body={"service": service["id"]},
                                      headers=bearer(token))
    assert status == 403, body
    status, body = await demo.request("POST", "/api/v1/offices/kokurakita/counters/1/call-next",
                                      headers=bearer(token))
    assert status == 403, body
    # The admin token may act in any office.
    assert admin.returncode == 0, admin.stderr
    for office in ("moji", "tobata"):
        counter = (await demo.ok("GET", f"/api/v1/offices/{office}/status"))["counters"][0]
        status, _ = await demo.request(
            "POST", f"/api/v1/offices/{office}/counters/{counter['id']}/call-next",
            headers=bearer(admin.stdout.strip()))
        assert status == 204  # nobody waits there

    listed = await cli(redis_url, tenant, "token", "list")
    assert listed.returncode == 0, listed.stderr
    line = next(ln for ln in listed.stdout.splitlines() if ln.startswith(token_id))
    assert line.split()[1:4] == ["kiosk", "kokurakita", "door"]
    assert any(ln.split()[1:3] == ["admin", "*"] for ln in listed.stdout.splitlines())
    for secret in (token, admin.stdout.strip()):
        assert secret not in listed.stdout and secret[3:20] not in listed.stdout

    revoked = await cli(redis_url, tenant, "token", "revoke", token_id)
    assert revoked.returncode == 0, revoked.stderr
    # A server process that has not seen the token since refuses it at once
    # (processes that have cache it for at most auth.CACHE_SECONDS; see
    # tests/test_auth.py).
    async with app_harness(redis, tenant) as fresh:
        status, body = await fresh.request("POST", issue, json_body={"service": service["id"]},
                                           headers=bearer(token))
    assert status == 401 and body["error"]["code"] == "unauthorized"


async def test_token_create_refuses(redis_url: str, redis: Redis, clean_tenant: str,
                                    monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    await Engine(redis, clean_tenant).configure(small_office())
    refused = await asyncio.gather(
        cli(redis_url, clean_tenant, "token", "create", "--role", "staff"),  # no --office
        cli(redis_url, clean_tenant, "token", "create", "--role", "kiosk", "--office",
            "nowhere"),
    )
    for result in refused:
        assert result.returncode != 0, result
        assert not result.stdout.strip(), result.stdout  # no token printed
        assert result.stderr.strip()

    # More refusals, through the same entry point in-process (a subprocess
    # each costs a second of start-up).
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("MADOGUCHI_TENANT", clean_tenant)
    capsys.readouterr()
    for argv in (
        ["token", "create", "--role", "staff", "--office", "*"],  # only admin: all offices
        ["token", "create", "--role", "display", "--office", "nowhere"],
        ["token", "revoke", "0123456789abcdef"],
    ):
        assert await asyncio.to_thread(cli_main, argv) != 0, argv
        out = capsys.readouterr()
        assert not out.out.strip() and out.err.strip(), (argv, out)
    with pytest.raises(SystemExit) as exited:  # argparse: unknown role
        await asyncio.to_thread(cli_main, ["token", "create", "--role", "janitor"])
    assert exited.value.code != 0

    assert await asyncio.to_thread(cli_main, ["token", "list"]) == 0
    assert capsys.readouterr().out.strip() == ""  # nothing was created


async def test_demo_always_open_only_when_asked(redis_url: str, redis: Redis,
                                                clean_tenant: str) -> None:
    """`make run` loads the demo --always-open (a newcomer at 01:00 sees a
    working kiosk); without it the offices keep their real hours."""
    engine = Engine(redis, clean_tenant)
    result = await cli(redis_url, clean_tenant, "demo")
    assert result.returncode == 0 and "00:00-24:00" not in result.stdout
    office = await engine.office("kokurakita")
    assert office.hours.holiday_closure and office.hours.year_end_closure
    assert 7 not in office.hours.weekly  # closed on Sundays
    result = await cli(redis_url, clean_tenant, "demo", "--always-open")
    assert result.returncode == 0 and "00:00-24:00 every day" in result.stdout
    for office_id in await engine.office_ids():
        engine = Engine(redis, clean_tenant)  # no cached configuration
        hours = (await engine.office(office_id)).hours
        assert not hours.holiday_closure and not hours.year_end_closure and not hours.overrides
        assert {d: (h.open, h.close) for d, h in hours.weekly.items()} == {
            d: ("00:00", "24:00") for d in range(1, 8)}
