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


class SimulatedClockRefused(ValueError):
    """MADOGUCHI_SIMULATED_CLOCK_FILE without MADOGUCHI_DEVELOPMENT=1."""


def file_clock(path: str) -> Clock:
    """Development only (bench/day_simulation.py): the time is the number of
    epoch seconds written in `path`, read at every call, so another process
    moves this server's clock. The writer replaces the file atomically
    (write a temporary file, then rename); a file that cannot be read is a
    hard error, never a silent fall back to the real time."""

    def now() -> float:
        with open(path, encoding="ascii") as f:
            return float(f.read())

    now()  # fail at start-up, not at the first request
    return now


def configured_clock(simulated_file: str, development: bool) -> Clock:
    """The server's clock: the real one, or, when the operator has asked for
    both a simulated-clock file and development mode, `file_clock`. A
    simulated clock on a production server would stamp every ticket and
    booking with a made-up time, so asking for it without development mode
    is refused."""
    if not simulated_file:
        return system_clock
    if not development:
        raise SimulatedClockRefused(
            "MADOGUCHI_SIMULATED_CLOCK_FILE is for simulations only and needs "
            "MADOGUCHI_DEVELOPMENT=1; never set either in production")
    return file_clock(simulated_file)
