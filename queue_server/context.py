"""What every handler of one server process shares."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from redis.asyncio import Redis

from .auth import Tokens
from .bookings import Bookings
from .engine import Engine
from .hub import Hub
from .metrics import Metrics
from .settings import Settings
from .sms_outbox import SmsOutbox


@dataclass
class AppContext:
    settings: Settings
    redis: Redis
    engine: Engine
    tokens: Tokens
    hub: Hub
    metrics: Metrics
    bookings: Bookings
    sms: SmsOutbox


CONTEXT = web.AppKey("madoguchi", AppContext)


def ctx(request: web.Request) -> AppContext:
    return request.app[CONTEXT]
