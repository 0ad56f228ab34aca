"""`madoguchi serve` as a newcomer meets it, run as a child process: a
clear message (no traceback) and a non-zero exit when the port is taken,
and, once it listens, the address and the pages to open."""

from __future__ import annotations

import asyncio
import socket
import subprocess
from pathlib import Path

import aiohttp
from redis.asyncio import Redis

from queue_server.engine import Engine
from tests.conftest import small_office
from tests.servers import MADOGUCHI, child_env, cli, free_port


async def test_port_taken_says_which_and_how_to_choose_another(
    redis_url: str, clean_tenant: str
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = await cli(redis_url, clean_tenant, "serve", "--port", str(port))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert f"--port {port + 1}" in result.stderr and "MADOGUCHI_PORT" in result.stderr


async def test_port_taken_through_the_environment_too(
    redis_url: str, clean_tenant: str, tmp_path: Path
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        proc = await asyncio.create_subprocess_exec(
            str(MADOGUCHI), "serve", cwd=str(tmp_path), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=child_env(redis_url, clean_tenant, MADOGUCHI_PORT=str(port)))
        _out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 1 and b"Traceback" not in err
    assert f"port {port} on 127.0.0.1 is already in use".encode() in err


async def test_prints_where_it_listens_and_the_pages(
    redis_url: str, redis: Redis, clean_tenant: str, tmp_path: Path
) -> None:
    await Engine(redis, clean_tenant).configure(small_office())
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = await asyncio.create_subprocess_exec(
        str(MADOGUCHI), "serve", "--port", str(port), cwd=str(tmp_path),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        env=child_env(redis_url, clean_tenant))
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        while not any("/kiosk/" in line for line in lines):
            line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
            assert line, f"serve ended: {lines}"
            lines.append(line.strip())
        assert lines[0].startswith(f"madoguchi: listening on {base}/")
        text = "\n".join(lines)
        links = [f"{base}/", f"{base}/login", f"{base}/book/testoffice",
                 f"{base}/display/testoffice", f"{base}/kiosk/testoffice"]
        assert all(link in text for link in links), text
        # The address it printed answers at once: the port was bound before.
        async with aiohttp.ClientSession() as session:
            for link in links:
                async with session.get(link) as resp:
                    assert resp.status == 200 and resp.content_type == "text/html", link
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 15)
