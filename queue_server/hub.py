"""Per-process fan-out of office events to websockets.

Each server process tails each office's stream once (XREAD BLOCK) while it
has clients for that office, and hands every event to its local
subscribers. Several processes on one Redis each tail independently, so a
display connected anywhere sees every event."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from redis.asyncio import Redis
from redis.exceptions import RedisError

from .events import Event, decode, last_id

log = logging.getLogger(__name__)
# Below redis-py's 5 s socket timeout, or a quiet office's XREAD times out.
BLOCK_MS = 2_000
RETRY_SECONDS = 1.0
QUEUE_LIMIT = 10_000


@dataclass(eq=False)
class Subscription:
    office: str
    queue: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    overflowed: bool = False
    # Set by a socket that is caught up: writes the event at once, in the
    # hub's loop, instead of waking the socket's own task (a third of the
    # fan-out cost with 1,000 displays). Returns False when it cannot (slow
    # client, closing): the event then goes through the queue, in order.
    fast: Callable[[Event], bool] | None = None

    def deliver(self, event: Event) -> None:
        if self.fast is not None:
            if self.queue.empty() and self.fast(event):
                return
            self.fast = None
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            # A client this far behind gets dropped and resumes with `since`.
            self.overflowed = True


@dataclass
class _Tail:
    task: asyncio.Task[None]
    ready: asyncio.Event
    subscribers: set[Subscription]


class Hub:
    def __init__(self, redis: Redis, stream_key: Callable[[str], str]) -> None:
        self.redis = redis
        self.stream_key = stream_key
        self._tails: dict[str, _Tail] = {}

    async def subscribe(self, office: str) -> Subscription:
        """Subscribe; returns once the tail is positioned, so any event added
        after this call is delivered (callers replay older ones with XRANGE)."""
        sub = Subscription(office)
        tail = self._tails.get(office)
        if tail is None:
            ready = asyncio.Event()
            tail = _Tail(asyncio.create_task(self._run(office, ready)), ready, set())
            self._tails[office] = tail
        tail.subscribers.add(sub)
        await tail.ready.wait()
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        tail = self._tails.get(sub.office)
        if tail is None:
            return
        tail.subscribers.discard(sub)
        if not tail.subscribers:
            tail.task.cancel()
            del self._tails[sub.office]

    def subscriber_count(self) -> int:
        return sum(len(t.subscribers) for t in self._tails.values())

    async def close(self) -> None:
        for tail in self._tails.values():
            tail.task.cancel()
        for tail in self._tails.values():
            with contextlib.suppress(asyncio.CancelledError):
                await tail.task
        self._tails.clear()

    async def _run(self, office: str, ready: asyncio.Event) -> None:
        stream = self.stream_key(office)
        position: str | None = None
        while True:
            try:
                if position is None:
                    position = await last_id(self.redis, stream)
                    ready.set()
                reply = await self.redis.xread({stream: position}, count=500, block=BLOCK_MS)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("event tail for %s lost Redis: %s", office, type(exc).__name__)
                ready.set()  # subscribers learn of the outage from their own calls
                await asyncio.sleep(RETRY_SECONDS)
                continue
            for _stream, entries in reply or []:
                tail = self._tails.get(office)
                for entry_id, fields in entries:
                    event = decode(entry_id, fields)
                    position = event.id
                    for sub in list(tail.subscribers if tail else ()):
                        sub.deliver(event)
