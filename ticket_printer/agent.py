"""The kiosk agent (``madoguchi kiosk-agent``): runs on the kiosk PC next to
the printer, connects *out* to the server's ``/ws/kiosk-agent`` with the
kiosk's device token (so it works behind NAT), prints the jobs the server
sends and acknowledges each one.

Exactly once: the server keeps a job until it is acknowledged and the agent
keeps a log of the jobs it printed (``printed.json`` in its state folder),
written before the acknowledgement. A job re-sent after a lost
acknowledgement is acknowledged again without printing. A ticket whose
printing cannot be confirmed is reported failed, not retried: staff see it
and reprint, and the citizen already has the ticket on the kiosk screen.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import websockets

from .printing import PrintOptions, PrintResult, print_ticket, printer_status
from .status import PrinterState, PrinterStatus
from .ticket import TicketPrint

if TYPE_CHECKING:
    from checkin.card_agent import CardAgent

log = logging.getLogger("madoguchi.kiosk_agent")
DEDUP_SECONDS = 24 * 3600
STATUS_EVERY_SECONDS = 60.0
BACKOFF_FIRST, BACKOFF_MAX = 1.0, 30.0
# The server's printer states (queue_server/print_jobs.py STATES).
SERVER_STATE = {
    PrinterState.OK: "ok", PrinterState.PAPER_NEAR_END: "paper_near_end",
    PrinterState.PAPER_END: "paper_end", PrinterState.COVER_OPEN: "cover_open",
    PrinterState.ERROR: "error", PrinterState.OFFLINE: "offline",
    PrinterState.UNREACHABLE: "offline", PrinterState.UNKNOWN: "unknown",
}


def ws_url(server: str) -> str:
    base = server.rstrip("/")
    for http, ws in (("https://", "wss://"), ("http://", "ws://")):
        if base.startswith(http):
            base = ws + base[len(http):]
    if not base.startswith(("ws://", "wss://")):
        raise ValueError("--server must be an http(s):// or ws(s):// URL")
    return base + "/ws/kiosk-agent"


def ticket_from_job(payload: dict[str, Any], timezone: str = "Asia/Tokyo") -> TicketPrint:
    """The server's job payload (print_jobs.job_payload) as the printer's input."""
    issued = datetime.fromisoformat(payload["issued_at"])
    come_back = None
    if payload.get("come_back_by"):
        hour, minute = (int(x) for x in payload["come_back_by"].split(":"))
        come_back = issued.replace(hour=hour, minute=minute, second=0, microsecond=0)
    lang = payload.get("lang") or "ja"
    local = lang != "ja"
    return TicketPrint(
        office_name=payload["office"]["ja"], service_name=payload["service"]["ja"],
        number=payload["number"], ahead=int(payload.get("ahead") or 0), url=payload["url"],
        issued_at=issued, lang=lang, wait_minutes=payload.get("wait_minutes"),
        come_back_by=come_back, konbini=bool(payload.get("konbini")),
        footer=payload.get("footer") or "",
        office_name_local=payload["office"].get("local") if local else None,
        service_name_local=payload["service"].get("local") if local else None,
        timezone=timezone, wareki=bool(payload.get("wareki")),
    )


class PrintedLog:
    """Job ids printed in the last DEDUP_SECONDS, kept on disk (atomic
    rename), so a restarted agent still knows what it printed."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock
        try:
            self._ids: dict[str, float] = json.loads(path.read_text())
        except (OSError, ValueError):
            self._ids = {}

    def __contains__(self, job: str) -> bool:
        return job in self._ids

    def add(self, job: str) -> None:
        now = self.clock()
        self._ids = {j: t for j, t in self._ids.items() if now - t < DEDUP_SECONDS}
        self._ids[job] = now
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._ids))
        tmp.replace(self.path)


@dataclass
class KioskAgent:
    server: str
    token: str
    printer: str
    state_dir: Path
    options: PrintOptions = field(default_factory=PrintOptions)
    timezone: str = "Asia/Tokyo"
    status_every: float = STATUS_EVERY_SECONDS
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    # Every server hello, in order (a reconnect adds one): for monitoring.
    sessions: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    # The My Number card reader; None: this kiosk has none.
    card: CardAgent | None = None
    printed: PrintedLog = field(init=False)
    _last_state: str | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.printed = PrintedLog(self.state_dir / "printed.json")

    async def run(self, stop: asyncio.Event) -> None:
        """Stay connected until `stop` is set; reconnect with jittered back-off."""
        delay = BACKOFF_FIRST
        while not stop.is_set():
            try:
                headers = {"Authorization": f"Bearer {self.token}"}
                async with websockets.connect(ws_url(self.server), additional_headers=headers,
                                              open_timeout=10, ping_interval=20) as ws:
                    delay = BACKOFF_FIRST
                    await self._session(ws, stop)
            except websockets.InvalidStatus as exc:
                code = exc.response.status_code
                log.error("server refused the agent", extra={"status": code})
                if code in (401, 403):  # a revoked token does not heal by retrying fast
                    delay = BACKOFF_MAX
            except (OSError, websockets.WebSocketException, TimeoutError) as exc:
                log.warning("server connection lost", extra={"error": type(exc).__name__})
            finally:
                self.connected.clear()
            if stop.is_set():
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, BACKOFF_MAX)

    async def _session(self, ws: Any, stop: asyncio.Event) -> None:
        hello = json.loads(await ws.recv())
        if hello.get("type") != "hello":
            raise websockets.WebSocketException("no hello from the server")
        self.connected.set()
        self.sessions.put_nowait(hello)
        log.info("connected", extra={"kiosk": hello.get("kiosk")})
        await self._report(ws, await self._status(), force=True)
        if self.card is not None:  # a fresh card key per connection
            await self.card.attach(ws)
        ticker = asyncio.create_task(self._tick(ws))
        stopper = asyncio.create_task(stop.wait())
        try:
            while True:
                receive = asyncio.create_task(ws.recv())
                done, _ = await asyncio.wait({receive, stopper},
                                             return_when=asyncio.FIRST_COMPLETED)
                if stopper in done:
                    receive.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await receive
                    return
                message = json.loads(receive.result())
                if message.get("type") == "job":
                    await self._job(ws, message["job"])
                elif message.get("type") in ("card_read", "card_status") \
                        and self.card is not None:
                    self.card.handle(ws, message)  # answers in the background
        finally:
            for task in (ticker, stopper):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _tick(self, ws: Any) -> None:
        while True:
            await asyncio.sleep(self.status_every)
            await self._report(ws, await self._status())

    async def _status(self) -> PrinterStatus:
        return await asyncio.to_thread(printer_status, self.printer, self.options)

    async def _report(self, ws: Any, status: PrinterStatus, force: bool = False) -> None:
        state = SERVER_STATE[status.state]
        if force or state != self._last_state:
            await ws.send(json.dumps({"type": "status", "state": state,
                                      "detail": {"detail": status.detail}}))
            self._last_state = state

    async def _job(self, ws: Any, job: dict[str, Any]) -> None:
        job_id = job["id"]
        if job_id in self.printed:  # printed before the acknowledgement was lost
            await self._ack(ws, job_id, True, self._last_state or "ok", {"duplicate": True})
            return
        try:
            ticket = ticket_from_job(job["ticket"], self.timezone)
        except (KeyError, TypeError, ValueError) as exc:
            log.error("job could not be read", extra={"error": type(exc).__name__})
            await self._ack(ws, job_id, False, "error", {"error": "bad_job"})
            return
        result: PrintResult = await asyncio.to_thread(print_ticket, self.printer, ticket,
                                                      self.options)
        status = result.after or result.before
        if result.printed:
            self.printed.add(job_id)  # before the ack: a lost ack never reprints
        state = SERVER_STATE[status.state]
        self._last_state = state
        await self._ack(ws, job_id, result.printed, state,
                        {"outcome": result.outcome, "error": result.error})
        log.info("ticket printed" if result.printed else "ticket not printed",
                 extra={"outcome": result.outcome, "state": state})

    async def _ack(self, ws: Any, job: str, printed: bool, state: str,
                   detail: dict[str, Any]) -> None:
        await ws.send(json.dumps({"type": "ack", "job": job, "printed": printed,
                                  "state": state, "detail": detail}))
