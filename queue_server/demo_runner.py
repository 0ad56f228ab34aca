"""``madoguchi run-demo``: the whole demo in one command (what ``make run``
runs). It loads the demo data (``madoguchi demo``), then starts and
watches, as child processes:

- ``madoguchi serve`` (the web process),
- ``madoguchi demo-printer`` (a fake network receipt printer writing a PNG
  of each ticket to ``var/printed/``; needs the printer extra),
- ``madoguchi kiosk-agent`` for the demo kiosk of 小倉北区役所, printing on
  that printer with the demo's kiosk token (``var/demo-tokens.json``),

prints the links to open, and stops them all together: on Ctrl+C or
SIGTERM, or as soon as one of them ends. queue_server imports nothing from
ticket_printer: the printer and the agent are only commands here."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import sys
from pathlib import Path

from .cli import SERVE_READY_END
from .settings import Settings

DEMO_OFFICE = "kokurakita"
PRINTER_LISTENING = "demo printer listening on "
SERVE_LISTENING = re.compile(r"listening on (https?://\S+?)/?\s")
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


def command(*args: str) -> list[str]:
    """The `madoguchi` command of this very installation."""
    return [sys.executable, "-m", "queue_server.cli", *args]


async def spawn(*args: str, env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    # A session of its own: Ctrl+C in the terminal reaches run-demo only,
    # which then stops each child once (a second signal during a child's
    # clean-up would cut it short).
    return await asyncio.create_subprocess_exec(
        *command(*args), stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})}, start_new_session=True)


async def first_line(proc: asyncio.subprocess.Process, wanted: str | re.Pattern[str],
                     echo: bool) -> str | None:
    """Read `proc`'s output up to the line with `wanted` (echoing it when
    `echo`); None when the process ends first."""
    assert proc.stdout is not None
    while True:
        raw = await asyncio.wait_for(proc.stdout.readline(), START_TIMEOUT)
        if not raw:
            return None
        line = raw.decode(errors="replace")
        if echo:
            sys.stdout.write(line)
            sys.stdout.flush()
        found = wanted.search(line) if isinstance(wanted, re.Pattern) else wanted in line
        if found:
            return line


async def forward(proc: asyncio.subprocess.Process) -> None:
    assert proc.stdout is not None
    while raw := await proc.stdout.readline():
        sys.stdout.write(raw.decode(errors="replace"))
        sys.stdout.flush()


async def stop_all(procs: list[asyncio.subprocess.Process]) -> None:
    for proc in procs:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
    for proc in procs:
        try:
            await asyncio.wait_for(proc.wait(), STOP_TIMEOUT)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()


def links(base: str, tokens: dict[str, str], var_dir: Path, printing: bool) -> str:
    office = DEMO_OFFICE
    lines = [
        "",
        f"madoguchi demo: {base}/",
        f"  kiosk (発券機)        {base}/kiosk/{office}?token={tokens.get('kiosk', '')}",
        f"  lobby display (表示板) {base}/display/{office}?token={tokens.get('display', '')}",
        f"  booking (予約)        {base}/book/{office}",
        f"  staff login          {base}/login  (demo-admin; password in "
        f"{var_dir / 'demo-login.txt'})",
    ]
    if printing:
        lines.append(f"  printed tickets      {var_dir / 'printed'}/ (one PNG per ticket)")
    else:
        lines.append("  (no demo printer: pip install 'madoguchi[printer]' for one)")
    lines.append("Ctrl+C stops everything.")
    return "\n".join(lines)


async def supervise(settings: Settings, args: argparse.Namespace) -> int:
    var_dir = settings.var_dir
    tokens = json.loads((var_dir / "demo-tokens.json").read_text())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    procs: list[asyncio.subprocess.Process] = []
    names: dict[int, str] = {}  # pid -> command
    tasks: list[asyncio.Task[None]] = []
    try:
        printer = await spawn("demo-printer", "--port", str(args.printer_port),
                              "--out", str(var_dir / "printed"))
        procs.append(printer)
        names[printer.pid] = "demo-printer"
        line = await first_line(printer, PRINTER_LISTENING, echo=True)
        printer_url = line.split(PRINTER_LISTENING, 1)[1].split()[0] if line else None
        if printer_url is None:
            procs.remove(printer)
            print("madoguchi run-demo: the demo printer did not start; the kiosk will not "
                  "print", file=sys.stderr)
        serve = await spawn("serve", env={"MADOGUCHI_HOST": settings.host,
                                          "MADOGUCHI_PORT": str(settings.port)})
        procs.append(serve)
        names[serve.pid] = "serve"
        line = await first_line(serve, SERVE_LISTENING, echo=True)
        if line is None:  # e.g. the port is taken: serve said so on stderr
            await serve.wait()
            return serve.returncode or 1
        match = SERVE_LISTENING.search(line)
        assert match is not None
        base = match.group(1)
        await first_line(serve, SERVE_READY_END, echo=True)  # the rest of its links
        if printer_url is not None:
            agent = await spawn(
                "kiosk-agent", "--server", base, "--printer", printer_url,
                # The QR as part of the picture, so the PNG shows the whole ticket.
                "--image-qr", "--state-dir", str(var_dir / "kiosk-agent"),
                env={"MADOGUCHI_KIOSK_TOKEN": tokens["kiosk"]})
            procs.append(agent)
            names[agent.pid] = "kiosk-agent"
        print(links(base, tokens, var_dir, printer_url is not None), flush=True)
        tasks = [asyncio.create_task(forward(p)) for p in procs]
        waits = [asyncio.create_task(p.wait()) for p in procs]
        stopped = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([*waits, stopped], return_when=asyncio.FIRST_COMPLETED)
        for w in [*waits, stopped]:
            w.cancel()
        if stopped in done:
            return 0
        ended = next(p for p in procs if p.returncode is not None)
        print(f"madoguchi run-demo: {names[ended.pid]} ended ({ended.returncode}); "
              "stopping the others", file=sys.stderr)
        return ended.returncode or 1
    finally:
        await stop_all(procs)
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, STOP_TIMEOUT)


def run(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(supervise(settings, args))
