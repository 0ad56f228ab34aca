"""Wait estimates (pure functions; the engine feeds them from Redis).

Every live estimate comes from the forecast (includes.lua `forecast`: one
forward simulation of the office's queues in call_next's own order);
`forecast_wait_ms` turns its answer into a wait. The former closed formula
lives on in bench/estimate_accuracy.py, which scores it beside the forecast.
Erlang C serves the staffing planner.
"""

from __future__ import annotations

import math


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
