"""`madoguchi run-demo` (what `make run` runs), as a child process: the demo
data, the web process, the demo printer and the demo kiosk's agent come up
together; a kiosk ticket sent to print comes out as a PNG in var/printed/;
SIGTERM (or one of them failing) stops them all."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import signal
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from PIL import Image

from tests.servers import MADOGUCHI, child_env, free_port

READY = "Ctrl+C stops everything."
PRINTED = "demo printer printed "


class Demo:
    def __init__(self, proc: asyncio.subprocess.Process, cwd: Path, port: int) -> None:
        self.proc, self.cwd, self.port = proc, cwd, port
        self.base = f"http://127.0.0.1:{port}"
        self.lines: list[str] = []

    async def line_with(self, text: str, within: float = 60) -> str:
        assert self.proc.stdout is not None
        while True:
            raw = await asyncio.wait_for(self.proc.stdout.readline(), within)
            assert raw, f"run-demo ended ({self.proc.returncode}):\n" + "\n".join(self.lines)
            line = raw.decode().rstrip("\n")
            self.lines.append(line)
            if text in line:
                return line


async def start(redis_url: str, tenant: str, cwd: Path, port: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        str(MADOGUCHI), "run-demo", "--always-open", "--port", str(port), cwd=str(cwd),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        env=child_env(redis_url, tenant))


@pytest.fixture
async def demo(redis_url: str, clean_tenant: str, tmp_path: Path) -> AsyncIterator[Demo]:
    port = free_port()
    proc = await start(redis_url, clean_tenant, tmp_path, port)
    try:
        yield Demo(proc, tmp_path, port)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), 60)


def refuses(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


async def test_kiosk_ticket_prints_as_a_png_then_all_stop(demo: Demo) -> None:
    printer_line = await demo.line_with("demo printer listening on tcp://127.0.0.1:")
    printer_port = int(printer_line.split("tcp://127.0.0.1:", 1)[1].split()[0])
    await demo.line_with(READY)
    text = "\n".join(demo.lines)
    tokens = json.loads((demo.cwd / "var" / "demo-tokens.json").read_text())
    assert f"{demo.base}/kiosk/kokurakita?token={tokens['kiosk']}" in text
    assert f"{demo.base}/display/kokurakita?token={tokens['display']}" in text
    assert f"{demo.base}/book/kokurakita" in text and f"{demo.base}/login" in text
    kiosk = {"Authorization": f"Bearer {tokens['kiosk']}"}
    async with aiohttp.ClientSession(demo.base) as http:
        # --always-open: the kiosk issues at any hour.
        async with http.get("/api/v1/offices/kokurakita/services") as resp:
            services = await resp.json()
        assert services["open_now"] is True
        service = next(s["id"] for s in services["services"] if s["walk_in"])
        async with http.post("/api/v1/offices/kokurakita/tickets", json={"service": service},
                             headers=kiosk) as resp:
            assert resp.status == 201, await resp.text()
            ticket = await resp.json()
        async with http.post(f"/api/v1/tickets/{ticket['id']}/print", json={},
                             headers=kiosk) as resp:
            assert resp.status == 202, await resp.text()
    # The demo printer says what it printed (no polling of the folder).
    line = await demo.line_with(PRINTED)
    png = Path(line.split(PRINTED, 1)[1].strip())
    png = png if png.is_absolute() else demo.cwd / png
    assert png.parent == demo.cwd / "var" / "printed"
    image = Image.open(io.BytesIO(png.read_bytes()))
    assert image.format == "PNG" and image.width == 512 and image.height > 400
    # The ticket reached the server as printed (the kiosk's answer).
    async with aiohttp.ClientSession(demo.base) as http:
        async with http.get(f"/api/v1/tickets/{ticket['id']}") as resp:
            assert resp.status == 200
    # SIGTERM stops all of them.
    demo.proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(demo.proc.wait(), 60) == 0
    assert refuses(demo.port) and refuses(printer_port)


async def test_a_taken_port_stops_the_demo(redis_url: str, clean_tenant: str,
                                           tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        proc = await start(redis_url, clean_tenant, tmp_path, port)
        demo = Demo(proc, tmp_path, port)
        printer_line = await demo.line_with("demo printer listening on tcp://127.0.0.1:")
        printer_port = int(printer_line.split("tcp://127.0.0.1:", 1)[1].split()[0])
        with contextlib.suppress(AssertionError):
            await demo.line_with(READY)  # never comes: serve could not listen
        assert await asyncio.wait_for(proc.wait(), 60) == 1
    assert refuses(printer_port)
