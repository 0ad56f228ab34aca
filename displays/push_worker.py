"""Delivers Web Push messages when a ticket is called or recalled.

Every web process runs a worker, and each event must be pushed once: the
workers read each office's event stream through one Redis consumer group
(XREADGROUP hands every entry to one consumer; XACK after delivery). An
entry left unacknowledged by a process that died is claimed by another
after CLAIM_IDLE_MS (XAUTOCLAIM), so a crash can at worst push twice, never
lose the call silently.

A ticket that ends (done, cancelled) has its subscriptions deleted: the
endpoint is a capability to reach that phone and is kept no longer than
needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections import deque
from typing import Any

import aiohttp
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from queue_server.engine import Engine
from queue_server.errors import MadoguchiError
from queue_server.events import Event, decode

from .webpush import GONE, Sender, Subscriber, Subscriptions, describe_failure, payload

log = logging.getLogger(__name__)

GROUP = "push"
# Well under redis-py's socket timeout (5 s by default since redis-py 6),
# which would otherwise cut a blocked read short as an error.
BLOCK_MS = 2_000
COUNT = 50
CLAIM_IDLE_MS = 60_000
CLAIM_EVERY_SECONDS = 30.0
OFFICES_EVERY_SECONDS = 30.0
RETRY_SECONDS = 1.0
CONCURRENT_SENDS = 32
CALLS = {"ticket.called": "called", "ticket.recalled": "recalled"}
ENDS = {"ticket.done", "ticket.cancelled"}


def consumer_name() -> str:
    # Unique per worker (two apps can share one process in tests).
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


class PushWorker:
    def __init__(self, redis: Redis, engine: Engine, subscriptions: Subscriptions,
                 sender: Sender) -> None:
        self.redis = redis
        self.engine = engine
        self.subscriptions = subscriptions
        self.sender = sender
        self.consumer = consumer_name()
        self._limit = asyncio.Semaphore(CONCURRENT_SENDS)
        self._inflight: set[asyncio.Task[None]] = set()
        self.delivered = 0  # pushes accepted by a push service
        # Entries this worker finished (acknowledged), newest last, and a
        # flag raised at each: what tests wait on instead of sleeping.
        self.handled: deque[str] = deque(maxlen=1000)
        self.progress = asyncio.Event()

    async def join(self) -> None:
        """Create the consumer group of every office now, before the app
        serves requests: a call made right after start-up is then pushed
        (a group created later starts after it)."""
        try:
            for office in await self.engine.office_ids():
                await self._join(self.engine.keys(office).events)
        except (RedisError, OSError) as exc:
            log.warning("push worker: groups not created yet: %s", describe_failure(exc))

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set: one reader per office (each office stream
        lives in its own Cluster slot), new offices picked up as they come."""
        readers: dict[str, asyncio.Task[None]] = {}
        try:
            while not stop.is_set():
                try:
                    for office in await self.engine.office_ids():
                        if office not in readers:
                            readers[office] = asyncio.create_task(self._read(office, stop))
                except (RedisError, OSError) as exc:
                    log.warning("push worker: office list unavailable: %s",
                                describe_failure(exc))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), OFFICES_EVERY_SECONDS)
        finally:
            if not stop.is_set():  # cancelled rather than stopped
                for reader in readers.values():
                    reader.cancel()
            await asyncio.gather(*readers.values(), return_exceptions=True)
            if self._inflight:
                await asyncio.gather(*self._inflight, return_exceptions=True)
            for office in readers:
                await self._leave(office)

    # -- reading ------------------------------------------------------------------

    async def _read(self, office: str, stop: asyncio.Event) -> None:
        stream = self.engine.keys(office).events
        joined = False
        next_claim = 0.0
        stopping = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                try:
                    if not joined:
                        await self._join(stream)
                        joined = True
                    if time.monotonic() >= next_claim:
                        await self._reclaim(office, stream)
                        next_claim = time.monotonic() + CLAIM_EVERY_SECONDS
                    reply = await self._next(stream, stopping)
                except ResponseError as exc:
                    if "NOGROUP" in str(exc):  # the stream was deleted: join again
                        joined = False
                        continue
                    log.warning("push worker for %s: %s", office, describe_failure(exc))
                    await _pause(stop)
                    continue
                except (RedisError, OSError) as exc:
                    log.warning("push worker for %s lost Redis: %s", office,
                                describe_failure(exc))
                    await _pause(stop)
                    continue
                for _stream, entries in reply or []:
                    for entry_id, fields in entries:
                        self._start(office, stream, entry_id, fields)
        finally:
            stopping.cancel()

    async def _next(self, stream: str, stopping: asyncio.Task[Any]) -> Any:
        """XREADGROUP, given up at once when the worker stops (rather than
        holding shutdown for up to BLOCK_MS)."""
        read = asyncio.create_task(self.redis.xreadgroup(
            GROUP, self.consumer, {stream: ">"}, count=COUNT, block=BLOCK_MS))
        await asyncio.wait({read, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if read.done():
            return read.result()
        read.cancel()
        try:
            # Entries read anyway (a cancel that came too late) stay pending
            # and are claimed by another worker after CLAIM_IDLE_MS.
            return await read
        except asyncio.CancelledError:
            if not stopping.done():
                raise
            return None

    async def _join(self, stream: str) -> None:
        try:
            # At "$": a new group pushes calls from now on, not the day's history.
            await self.redis.xgroup_create(stream, GROUP, id="$", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _reclaim(self, office: str, stream: str) -> None:
        """Entries another worker read but never acknowledged (it died)."""
        start = "0-0"
        for _ in range(10):  # bounded: the rest wait for the next round
            reply = await self.redis.xautoclaim(stream, GROUP, self.consumer, CLAIM_IDLE_MS,
                                                start_id=start, count=COUNT)
            start, entries = _s(reply[0]), reply[1]
            for entry_id, fields in entries:
                self._start(office, stream, entry_id, fields)
            if start == "0-0":
                return

    async def _leave(self, office: str) -> None:
        """Remove this worker's consumer from the group if it holds nothing
        (DELCONSUMER drops its pending entries, which others must claim)."""
        stream = self.engine.keys(office).events
        with contextlib.suppress(RedisError, OSError):
            pending = await self.redis.xpending_range(stream, GROUP, "-", "+", 1,
                                                      consumername=self.consumer)
            if not pending:
                await self.redis.xgroup_delconsumer(stream, GROUP, self.consumer)

    # -- handling ---------------------------------------------------------------

    def _start(self, office: str, stream: str, entry_id: Any, fields: Any) -> None:
        task = asyncio.create_task(self._handle(office, stream, entry_id, fields))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _handle(self, office: str, stream: str, entry_id: Any, fields: Any) -> None:
        try:
            if fields:  # an entry trimmed from the stream comes back without fields
                event = decode(entry_id, fields)
                if event.ticket_id and event.type in CALLS:
                    async with self._limit:
                        await self._notify(event)
                elif event.ticket_id and event.type in ENDS:
                    await self.subscriptions.drop_ticket(event.ticket_id)
            await self.redis.xack(stream, GROUP, entry_id)
            self.handled.append(_s(entry_id))
            self.progress.set()
        except (RedisError, OSError) as exc:
            # Left pending: claimed again after CLAIM_IDLE_MS.
            log.warning("push for %s not finished: %s", office, describe_failure(exc))
        except Exception:
            # A bug must not stall the stream: log it and move on.
            log.exception("push for %s failed", office)
            with contextlib.suppress(RedisError, OSError):
                await self.redis.xack(stream, GROUP, entry_id)

    async def _notify(self, event: Event) -> None:
        subs = await self.subscriptions.of_ticket(event.ticket_id)
        if not subs:
            return
        number = str((event.data.get("ticket") or {}).get("number") or "")
        counter_ref = event.data.get("counter") or {}
        names = await self._counter_names(event.data.get("office", ""), counter_ref)
        await asyncio.gather(*(
            self._send(event, sub, number, names.get(sub.lang) or counter_ref.get("name") or "")
            for sub in subs
        ))

    async def _counter_names(self, office: str, counter_ref: dict[str, Any]) -> dict[str, str]:
        """The counter's name in every language of the office configuration."""
        try:
            config = await self.engine.office(office)
        except (MadoguchiError, RedisError, OSError):
            return {}  # names are a nicety: the event carries the Japanese one
        counter = config.counter(str(counter_ref.get("id", "")))
        if counter is None:
            return {}
        names = counter.names
        return {lang: names.get(lang) for lang in ("ja", "en", "ko", "zh-Hans", "vi", "ja-easy")}

    async def _send(self, event: Event, sub: Subscriber, number: str, counter: str) -> None:
        data = payload(CALLS[event.type], number, counter, sub.lang, f"/t/{event.ticket_id}")
        try:
            status = await self.sender.send(sub, data)
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            log.warning("push not delivered: %s", describe_failure(exc),
                        extra={"office": event.data.get("office")})
            return
        if status in GONE:
            await self.subscriptions.remove(event.ticket_id, sub.field)
        elif 200 <= status < 300:
            self.delivered += 1
        else:
            log.warning("push service answered %s", status,
                        extra={"office": event.data.get("office")})


async def _pause(stop: asyncio.Event) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), RETRY_SECONDS)


def _s(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
