"""The kiosk agent end to end: the app served on a real socket, the agent
connected over /ws/kiosk-agent with its kiosk token, a fake TCP printer
answering status queries; each ticket is printed exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from queue_server.auth import Tokens
from queue_server.engine import Engine
from tests.conftest import small_office
from tests.escpos_decode import decode
from tests.fake_printer import OK, PAPER_END, FakePrinter
from tests.servers import MADOGUCHI, AppHarness, bearer, child_env, cli
from ticket_printer.agent import KioskAgent, PrintedLog, ws_url
from ticket_printer.printing import PrintOptions

TIMEOUT = 10.0


@contextlib.asynccontextmanager
async def running(agent: KioskAgent) -> AsyncIterator[asyncio.Event]:
    stop = asyncio.Event()
    task = asyncio.create_task(agent.run(stop))
    try:
        await asyncio.wait_for(agent.connected.wait(), TIMEOUT)
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, TIMEOUT)


async def issue_and_print(api: AppHarness, token: str) -> dict[str, Any]:
    ticket = await api.ok("POST", api.path("/tickets"), 201, headers=bearer(token),
                          json_body={"service": "shomei", "lang": "ko"})
    await api.ok("POST", f"/api/v1/tickets/{ticket['id']}/print", 202, headers=bearer(token))
    return ticket


async def printer_row(api: AppHarness, state: str) -> dict[str, Any]:
    """The staff view of the (only) printer once it reports `state`."""
    async def poll() -> dict[str, Any]:
        while True:
            (row,) = (await api.ok("GET", api.path("/printers"), role="staff"))["printers"]
            if row["state"] == state and row["pending"] == 0:
                return row
            await asyncio.sleep(0.02)  # polling the API, not timing: bounded by wait_for
    return await asyncio.wait_for(poll(), TIMEOUT)


@pytest.fixture
async def kiosk_token(api: AppHarness) -> str:
    token, _ = await Tokens(api.redis, api.tenant).create("kiosk", api.office, "入口の発券機")
    return token


def make_agent(api: AppHarness, token: str, printer: FakePrinter, tmp_path: Path) -> KioskAgent:
    base = str(api.client.make_url("/")).rstrip("/")
    return KioskAgent(base, token, printer.url, tmp_path / "agent",
                      options=PrintOptions(timeout=2.0), status_every=3600)


def rasters(job: bytes) -> int:
    return sum(c.name == "raster" for c in decode(job))


async def test_ticket_is_printed_once_and_staff_see_the_printer(
    api: AppHarness, kiosk_token: str, tmp_path: Path
) -> None:
    with FakePrinter(OK) as printer:
        agent = make_agent(api, kiosk_token, printer, tmp_path)
        async with running(agent):
            ticket = await issue_and_print(api, kiosk_token)
            # The status check on connect, then the ticket.
            jobs = await asyncio.to_thread(printer.wait_jobs, 2)
            assert rasters(jobs[-1]) >= 1
            row = await printer_row(api, "ok")
            assert row["label"] == "入口の発券機" and row["failed"] == []
            # Asked again (a double tap): nothing more is printed.
            again = await api.ok("POST", f"/api/v1/tickets/{ticket['id']}/print", 202,
                                 headers=bearer(kiosk_token))
            assert again["queued"] is False
        assert sum(rasters(j) >= 1 for j in printer.jobs) == 1
        assert ticket["id"] in PrintedLog(tmp_path / "agent" / "printed.json")


async def test_jobs_wait_for_the_agent_and_a_lost_ack_does_not_reprint(
    api: AppHarness, kiosk_token: str, tmp_path: Path
) -> None:
    with FakePrinter(OK) as printer:
        ticket = await issue_and_print(api, kiosk_token)  # the agent is not running yet
        # As if the agent had printed it and died before its ack reached the server.
        PrintedLog(tmp_path / "agent" / "printed.json").add(ticket["id"])
        agent = make_agent(api, kiosk_token, printer, tmp_path)
        async with running(agent):
            await printer_row(api, "ok")  # acknowledged, nothing pending
            second = await issue_and_print(api, kiosk_token)
            await asyncio.to_thread(printer.wait_jobs, 2)
            await printer_row(api, "ok")
        printed = [j for j in printer.jobs if rasters(j)]
        assert len(printed) == 1  # only the second ticket
        assert second["id"] in agent.printed


async def test_paper_end_is_reported_and_the_ticket_can_be_reprinted(
    api: AppHarness, kiosk_token: str, tmp_path: Path
) -> None:
    with FakePrinter(PAPER_END) as printer:
        agent = make_agent(api, kiosk_token, printer, tmp_path)
        async with running(agent):
            ticket = await issue_and_print(api, kiosk_token)
            row = await printer_row(api, "paper_end")
            assert row["failed"] == [{"ticket": ticket["id"], "number": ticket["number"]}]
            assert not any(rasters(j) for j in printer.jobs)  # nothing sent to an empty printer
            printer.status = dict(OK)  # staff changed the roll
            await api.ok("POST", f"/api/v1/tickets/{ticket['id']}/print", 202, role="staff",
                         json_body={"kiosk": row["kiosk"]})
            row = await printer_row(api, "ok")
            assert row["failed"] == []
        assert sum(1 for j in printer.jobs if rasters(j)) == 1


async def test_agent_reconnects_after_the_server_drops_it(
    api: AppHarness, kiosk_token: str, tmp_path: Path
) -> None:
    with FakePrinter(OK) as printer:
        agent = make_agent(api, kiosk_token, printer, tmp_path)
        async with running(agent):
            from queue_server.websockets import OPEN_SOCKETS

            first = await asyncio.wait_for(agent.sessions.get(), TIMEOUT)
            for ws in list(api.app[OPEN_SOCKETS]):  # the server side goes away
                await ws.close()
            again = await asyncio.wait_for(agent.sessions.get(), TIMEOUT)  # back by itself
            assert again == first
            await issue_and_print(api, kiosk_token)
            await printer_row(api, "ok")
        assert sum(1 for j in printer.jobs if rasters(j)) == 1


def test_server_url_forms() -> None:
    assert ws_url("https://madoguchi.city.example.jp/") == (
        "wss://madoguchi.city.example.jp/ws/kiosk-agent")
    assert ws_url("http://127.0.0.1:8080") == "ws://127.0.0.1:8080/ws/kiosk-agent"
    with pytest.raises(ValueError):
        ws_url("ftp://x")


async def test_the_kiosk_agent_command_prints_from_a_server_process(
    servers: Any, redis_url: str, clean_tenant: str, tmp_path: Path
) -> None:
    """`madoguchi serve` and `madoguchi kiosk-agent` as real processes."""
    server = await servers()
    redis = Redis.from_url(redis_url)
    try:
        await Engine(redis, clean_tenant).configure(small_office())
    finally:
        await redis.aclose()
    made = await cli(redis_url, clean_tenant, "token", "create", "--role", "kiosk",
                     "--office", "testoffice", "--label", "door")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().splitlines()[-1]
    with FakePrinter(OK) as printer:
        env = {**child_env(redis_url, clean_tenant, MADOGUCHI_LOG_LEVEL="INFO"),
               "MADOGUCHI_KIOSK_TOKEN": token}
        agent = await asyncio.create_subprocess_exec(
            str(MADOGUCHI), "kiosk-agent", "--server", server.base, "--printer", printer.url,
            "--state-dir", str(tmp_path / "agent"), env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            async with aiohttp.ClientSession() as http:
                async with http.post(f"{server.base}/api/v1/offices/testoffice/tickets",
                                     json={"service": "shomei"}, headers=bearer(token)) as r:
                    ticket = await r.json()
                async with http.post(f"{server.base}/api/v1/tickets/{ticket['id']}/print",
                                     headers=bearer(token)) as r:
                    assert r.status == 202
            jobs = await asyncio.to_thread(printer.wait_jobs, 2, 20)
            assert any(rasters(j) for j in jobs)
        finally:
            if agent.returncode is None:
                os.kill(agent.pid, signal.SIGTERM)
            _, err = await asyncio.wait_for(agent.communicate(), TIMEOUT)
        assert agent.returncode == 0, err.decode()[-2000:]
        assert token not in err.decode()  # the token is never logged
    # The agent's own logging, in the project's JSON lines (python-escpos's
    # basicConfig on import once swallowed every INFO line).
    lines = [json.loads(line) for line in err.decode().splitlines() if line.strip()]
    said = {(line["level"], line["logger"], line["message"]) for line in lines}
    assert ("INFO", "madoguchi.kiosk_agent", "connected") in said, lines
    assert ("INFO", "madoguchi.kiosk_agent", "ticket printed") in said, lines
    printed = next(line for line in lines if line["message"] == "ticket printed")
    assert printed["outcome"] and printed["state"]  # the fields travel with the line
    assert ticket["id"] not in err.decode() and ticket["number"] not in err.decode()


async def test_agent_killed_mid_job_prints_the_ticket_exactly_once(
    servers: Any, redis_url: str, clean_tenant: str, tmp_path: Path
) -> None:
    """SIGKILL while the agent waits on the printer (it sent a status query
    the printer does not answer): the job is not acknowledged, so the
    restarted agent gets it again and prints it once."""
    server = await servers()
    redis = Redis.from_url(redis_url)
    try:
        await Engine(redis, clean_tenant).configure(small_office())
    finally:
        await redis.aclose()
    made = await cli(redis_url, clean_tenant, "token", "create", "--role", "kiosk",
                     "--office", "testoffice")
    token = made.stdout.strip().splitlines()[-1]
    env = {**child_env(redis_url, clean_tenant), "MADOGUCHI_KIOSK_TOKEN": token}

    async def start_agent(printer: FakePrinter) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            str(MADOGUCHI), "kiosk-agent", "--server", server.base, "--printer", printer.url,
            "--state-dir", str(tmp_path / "agent"), env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    with FakePrinter(OK) as printer:
        agent = await start_agent(printer)
        try:
            await asyncio.to_thread(printer.wait_queries, 4)  # connected: status checked
            printer.mode = "silent"  # the next ticket hangs on its status query
            async with aiohttp.ClientSession() as http:
                async with http.post(f"{server.base}/api/v1/offices/testoffice/tickets",
                                     json={"service": "shomei"}, headers=bearer(token)) as r:
                    ticket = await r.json()
                async with http.post(f"{server.base}/api/v1/tickets/{ticket['id']}/print",
                                     headers=bearer(token)) as r:
                    assert r.status == 202
            await asyncio.to_thread(printer.wait_queries, 5)  # mid-job
            agent.kill()
            await agent.wait()
            assert not any(rasters(j) for j in printer.jobs)
            printer.mode = "answer"
            agent = await start_agent(printer)
            await asyncio.to_thread(printer.wait_jobs, len(printer.jobs) + 2, 20)
            # Acknowledged now (staff see no job waiting): nothing more will come.
            made = await cli(redis_url, clean_tenant, "token", "create", "--role", "staff",
                             "--office", "testoffice")
            staff = bearer(made.stdout.strip().splitlines()[-1])

            async def acknowledged() -> None:
                async with aiohttp.ClientSession() as http:
                    while True:
                        async with http.get(
                                f"{server.base}/api/v1/offices/testoffice/printers",
                                headers=staff) as r:
                            (row,) = (await r.json())["printers"]
                        if row["pending"] == 0 and row["state"] == "ok":
                            return
                        await asyncio.sleep(0.05)  # polling the API, bounded by wait_for

            await asyncio.wait_for(acknowledged(), TIMEOUT)
        finally:
            if agent.returncode is None:
                agent.terminate()
                await agent.wait()
    assert sum(1 for j in printer.jobs if rasters(j)) == 1
