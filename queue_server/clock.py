"""Time in the office's zone. The engine takes a clock so simulations and
tests can run a whole office day in seconds."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

Clock = Callable[[], float]  # seconds since the epoch


def system_clock() -> float:
    return time.time()


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local(ts: float, tz: str) -> datetime:
    return datetime.fromtimestamp(ts, zone(tz))


def business_day(ts: float, tz: str) -> str:
    return local(ts, tz).strftime("%Y%m%d")


def iso(ts: float, tz: str) -> str:
    return local(ts, tz).isoformat(timespec="milliseconds")


def iso_ms(ms: int | str | None, tz: str) -> str | None:
    if ms in (None, ""):
        return None
    return iso(int(ms) / 1000, tz)


def day_start_ts(ts: float, tz: str) -> float:
    """Epoch seconds of midnight starting the business day that holds `ts`."""
    return local(ts, tz).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
