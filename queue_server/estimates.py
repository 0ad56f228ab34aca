"""Wait estimates (pure functions; the engine feeds them from Redis).

Every live estimate now comes from the forecast (includes.lua `forecast`:
one forward simulation of the office's queues in call_next's own order);
`forecast_wait_ms` turns its answer into a wait. `wait_ms` below is the
former closed formula, kept for the benchmarks that compare against it.

With c counters busy on a service whose visits take `avg` on average, the
k-th person in line is called after k+1 departures, which arrive at rate
c/avg: mean (k+1)·avg/c. Under-estimates hurt citizens more than
over-estimates (they leave, come back late, miss the call), so the estimate
adds a safety margin of `SAFETY_SD` standard deviations of that sum
(sd = sqrt(k+1)·avg/c for exponential visits). bench/estimate_accuracy.py
measures the resulting error and the share of under-estimates.
"""

from __future__ import annotations

import math

SAFETY_SD = 0.5


def wait_ms(ahead: int, avg_ms: float, capacity: float, idle: int = 0) -> int | None:
    """Estimated wait in ms for someone with `ahead` people in front of them,
    or None when no counter serves the service now. `idle` open counters
    with nobody at them take the first people without any departure."""
    if capacity <= 0 or avg_ms <= 0:
        return None
    departures = ahead + 1 - idle
    if departures <= 0:
        return 0
    mean = departures * avg_ms / capacity
    sd = math.sqrt(departures) * avg_ms / capacity
    return int(mean + SAFETY_SD * sd)


def forecast_wait_ms(fc: dict | None, now_ms: float) -> int | None:
    """Wait in ms until the forecast's expected call, or None when no open
    counter will call the ticket."""
    if not fc:
        return None
    return max(0, int(fc["at"] - now_ms))


def minutes(ms: int | None) -> int | None:
    return None if ms is None else math.ceil(ms / 60_000)


def erlang_c(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Probability that an arrival waits in an M/M/c queue (Erlang C)."""
    a = arrival_rate / service_rate
    if a >= servers:
        return 1.0
    term, total = 1.0, 1.0  # running a^k/k!, sum for k < c
    for k in range(1, servers):
        term *= a / k
        total += term
    top = term * a / servers * servers / (servers - a)
    return top / (total + top)


def erlang_c_mean_wait(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Mean wait in queue W_q of an M/M/c queue (same time unit as the rates)."""
    a = arrival_rate / service_rate
    if a >= servers:
        return math.inf
    return erlang_c(servers, arrival_rate, service_rate) / (servers * service_rate - arrival_rate)
