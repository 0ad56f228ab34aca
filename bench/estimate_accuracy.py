"""How good are the engine's wait estimates? A discrete-event simulation of
office days drives the REAL engine (real Redis, real Lua scripts) on a
simulated clock, so a whole day runs in a few seconds.

    python -m bench.estimate_accuracy [--days 8] [--seed 1] [--safety-sd 0.5]

Two parts, one JSON object:

* office_day: 3 services, 5 counters with overlapping services, 8:30-17:00,
  Poisson arrivals per service, exponential (or lognormal) service times.
  Free counters call next, start at once and finish after the sampled
  service time. At each arrival the ticket's `estimated_wait_minutes` (what
  the kiosk prints) is recorded, and the actual wait is called_at -
  issued_at. Reports the mean absolute error, the share of under-estimates
  (actual > estimate: the harmful side, DESIGN §5) and the wait itself.
* mmc: one service, c counters serving only it, rho ~ 0.8, many thousands
  of arrivals in one long run; the simulated mean wait in queue W_q is
  compared to Erlang C (`estimates.erlang_c_mean_wait`).

The printed estimate is the engine's forecast (issue 11). Because counters
call whenever they are free, the estimates never change what happens; the
recorded inputs (people ahead, learned average, open capacity) let the same
run be re-scored with the former closed formula at several SAFETY_SD values
(`raw_ms_estimate`, `safety_sd_sweep`), a paired comparison on identical days.
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from redis.asyncio import Redis

from queue_server import estimates
from queue_server.engine import Engine
from queue_server.office_config import Office

from .common import (
    LoopChoice,
    add_common_args,
    bench_office,
    delete_tenant,
    emit_json,
    new_tenant,
    percentile,
    run_loop,
)

TZ = ZoneInfo("Asia/Tokyo")
# A Monday; later simulated days simply follow (the engine does not enforce
# opening hours, and the numbering resets per business day as it would).
FIRST_DAY = datetime(2026, 11, 30, tzinfo=TZ)
OPEN_MINUTES = 8 * 60 + 30
CLOSE_MINUTES = 17 * 60
DEFAULT_RATES = "shomei=20,ido=8,kokuho=3"  # arrivals per hour, ~83 % busy counters
DEFAULT_SWEEP = (0.0, 0.5, 1.0)
Dist = Literal["exp", "lognormal"]
Event = tuple[float, int, str, str]  # (at, tie-breaker, "arrival" | "finish", service | counter)


@dataclass
class SimClock:
    """The engine's clock: the simulation sets `now` before each operation."""

    now: float

    def __call__(self) -> float:
        return self.now


@dataclass
class Visit:
    service: str
    issued_ms: int
    estimate_min: int | None  # what the ticket shows
    ahead: int
    avg_ms: float
    capacity: float
    idle: int  # free open counters serving the service when the ticket was issued
    true_avg_ms: float  # the simulation's real mean service time of the service
    called_ms: int | None = None

    @property
    def wait_ms(self) -> int:
        assert self.called_ms is not None
        return self.called_ms - self.issued_ms


# The former closed formula of the engine's estimates (before the forecast,
# issue 11), re-scored beside the forecast: k people ahead, c counters,
# learned average avg: (k+1-idle)·avg/c plus `sd` standard deviations of
# that sum (sqrt(k+1-idle)·avg/c for exponential visits).
SAFETY_SD = 0.5


def formula_wait_ms(ahead: int, avg_ms: float, capacity: float, idle: int = 0,
                    sd: float = SAFETY_SD) -> int | None:
    if capacity <= 0 or avg_ms <= 0:
        return None
    departures = ahead + 1 - idle
    if departures <= 0:
        return 0
    mean = departures * avg_ms / capacity
    return int(mean + sd * math.sqrt(departures) * avg_ms / capacity)


def service_sampler(
    rng: random.Random, office: Office, dist: Dist, cv: float
) -> Callable[[str], float]:
    """Service time in seconds; the mean is the service's expected minutes,
    so the engine's prior is right and only its adaptation is tested."""
    means = {s.id: s.expected_minutes * 60 for s in office.services}
    sigma2 = math.log(1 + cv * cv)

    def sample(service: str) -> float:
        mean = means[service]
        if dist == "exp":
            return rng.expovariate(1 / mean)
        return rng.lognormvariate(math.log(mean) - sigma2 / 2, math.sqrt(sigma2))

    return sample


def ms_of(iso_value: str) -> int:
    return round(datetime.fromisoformat(iso_value).timestamp() * 1000)


@dataclass
class OfficeSim:
    """Event-driven office: arrivals per service and counter finishes, all
    counters open. One Redis round trip per engine call, so the number of
    arrivals bounds the wall time."""

    engine: Engine
    office: Office
    clock: SimClock
    rng: random.Random
    rates_per_s: dict[str, float]
    sample_service: Callable[[str], float]
    visits: dict[str, Visit] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # ticket ids by arrival
    # Wall-clock cap (time.perf_counter()): past it no new arrivals, the
    # people already waiting are still served, so the data stay consistent.
    deadline: float = math.inf
    capped: bool = False  # arrivals were cut by the deadline
    _seq: int = 0

    def __post_init__(self) -> None:
        # Open capacity per service the way the engine counts it (a counter
        # with n services gives each 1/n), for the raw-ms estimate.
        self.capacity: dict[str, float] = {}
        for c in self.office.counters:
            for s in c.services:
                self.capacity[s] = self.capacity.get(s, 0.0) + 1 / len(c.services)
        self.idle: set[str] = {c.id for c in self.office.counters}
        # service_sampler draws with these means.
        self.true_mean_ms = {s.id: s.expected_minutes * 60_000 for s in self.office.services}

    async def open_counters(self) -> None:
        for c in self.office.counters:
            await self.engine.set_counter_state(self.office.id, c.id, "open")

    def _push(self, heap: list[Event], at: float, kind: str, what: str) -> None:
        self._seq += 1  # tie-breaker keeps the heap order deterministic
        heapq.heappush(heap, (at, self._seq, kind, what))

    async def _call(self, heap: list[Event], counter: str) -> bool:
        called = await self.engine.call_next(self.office.id, counter)
        if called is None:
            self.idle.add(counter)
            return False
        self.idle.discard(counter)
        visit = self.visits[called["id"]]
        visit.called_ms = ms_of(called["called_at"])
        await self.engine.start(self.office.id, counter, called["id"])
        self._push(heap, self.clock.now + self.sample_service(visit.service), "finish", counter)
        return True

    async def _arrive(self, service: str) -> None:
        idle = sum(1 for c in self.office.counters if c.id in self.idle and service in c.services)
        t = await self.engine.issue_ticket(self.office.id, service)
        # The learned average the ticket view used (nothing ran in between on
        # the simulated clock), for the raw-ms estimate the minutes come from.
        svc_key = self.engine.keys(self.office.id).service(service)
        avg = await self.engine.redis.hget(svc_key, "avg_ms")
        self.visits[t["id"]] = Visit(
            service=service,
            issued_ms=ms_of(t["issued_at"]),
            estimate_min=t["estimated_wait_minutes"],
            ahead=t["ahead"],
            avg_ms=float(avg or 0),
            capacity=self.capacity.get(service, 0.0),
            idle=idle,
            true_avg_ms=self.true_mean_ms[service],
        )
        self.order.append(t["id"])

    async def run(self, start: float, until: float | None, max_arrivals: int | None) -> None:
        """Arrivals from `start` while before `until` and fewer than
        `max_arrivals` in total; then serve everyone still waiting."""
        heap: list[Event] = []
        for service, rate in self.rates_per_s.items():
            if rate > 0:
                self._push(heap, start + self.rng.expovariate(rate), "arrival", service)
        while heap:
            at, _, kind, what = heapq.heappop(heap)
            self.clock.now = at
            if kind == "arrival":
                if time.perf_counter() > self.deadline:
                    self.capped = True
                    continue
                if (until is not None and at >= until) or (
                    max_arrivals is not None and len(self.order) >= max_arrivals
                ):
                    continue  # this service's arrivals end
                await self._arrive(what)
                self._push(heap, at + self.rng.expovariate(self.rates_per_s[what]), "arrival", what)
                # A free counter serving the service calls at once (it can
                # only get this ticket: its queues were empty).
                for c in self.office.counters:
                    if c.id in self.idle and what in c.services:
                        await self._call(heap, c.id)
                        break
            else:
                await self.engine.finish(self.office.id, what)
                await self._call(heap, what)


def score(visits: Sequence[Visit], sd_values: Sequence[float],
          sd: float = SAFETY_SD) -> dict[str, Any]:
    """Error of the printed (whole-minute) estimate, the raw ms estimate, and
    the same run re-scored at other SAFETY_SD values."""
    served = [v for v in visits if v.called_ms is not None]
    waits_min = sorted(v.wait_ms / 60_000 for v in served)
    with_est = [v for v in served if v.estimate_min is not None]
    n = len(with_est)

    def errors(est_min: Callable[[Visit], float]) -> dict[str, Any]:
        if not n:
            return {"n": 0}
        diffs = [est_min(v) - v.wait_ms / 60_000 for v in with_est]
        abs_sorted = sorted(abs(d) for d in diffs)
        return {
            "mae_minutes": round(sum(abs_sorted) / n, 3),
            "p90_abs_error_minutes": round(percentile(abs_sorted, 90), 3),
            "bias_minutes": round(sum(diffs) / n, 3),  # > 0: estimates run long
            "under_share": round(sum(d < 0 for d in diffs) / n, 4),
            "mean_estimate_minutes": round(sum(est_min(v) for v in with_est) / n, 3),
        }

    def raw_ms(v: Visit, sd: float = sd) -> int | None:
        return formula_wait_ms(v.ahead, v.avg_ms, v.capacity, v.idle, sd)

    # What-ifs, not the engine, to show where the error comes from:
    # idle_blind: ignoring free counters (everyone waits for departures).
    # true_mean: the real mean service time instead of the learned average,
    # i.e. the error left if the adaptive average were noise-free.
    def idle_blind_ms(v: Visit, sd: float = sd) -> int | None:
        return formula_wait_ms(v.ahead, v.avg_ms, v.capacity, sd=sd)

    def true_mean_ms(v: Visit, sd: float = sd) -> int | None:
        return formula_wait_ms(v.ahead, v.true_avg_ms, v.capacity, v.idle, sd)

    variants: dict[str, Callable[[Visit, float], int | None]] = {
        "idle_blind": idle_blind_ms,
        "true_mean_service_time": true_mean_ms,
    }

    # The printed estimate is the forecast's (issue 11); the closed formula
    # (formula_wait_ms) is re-scored beside it: how often the two differ.
    mismatches = sum(estimates.minutes(raw_ms(v)) != v.estimate_min for v in with_est)

    def sweep(formula: Callable[[Visit, float], int | None]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for value in sd_values:
            printed = [estimates.minutes(formula(v, value)) or 0 for v in with_est]
            by_visit = dict(zip(map(id, with_est), printed, strict=True))
            out[str(value)] = errors(lambda v, m=by_visit: m[id(v)])
        return out

    return {
        "tickets": len(visits),
        "served": len(served),
        "no_estimate": len(served) - n,
        "zero_wait_share": (
            round(sum(v.called_ms == v.issued_ms for v in served) / len(served), 4)
            if served
            else None
        ),
        "mean_actual_wait_minutes": (
            round(sum(waits_min) / len(waits_min), 3) if waits_min else None
        ),
        "p90_actual_wait_minutes": round(percentile(waits_min, 90), 3) if waits_min else None,
        "estimate": errors(lambda v: v.estimate_min or 0),
        "raw_ms_estimate": errors(lambda v: (raw_ms(v) or 0) / 60_000),
        "old_formula_differs": mismatches,
        "safety_sd_sweep": sweep(raw_ms),
        "what_if_sweep": {name: sweep(f) for name, f in variants.items()},
    }


def parse_rates(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        out[name.strip()] = float(value)
    return out


def mmc_office(servers: int, service_minutes: float) -> Office:
    return Office.model_validate(
        {
            "id": "mmc",
            "names": {"ja": "M/M/c"},
            # The only service: the max-wait escalation cannot reorder it.
            "services": [
                {
                    "id": "mmc",
                    "names": {"ja": "mmc"},
                    "letter": "M",
                    "expected_minutes": service_minutes,
                    "max_wait_minutes": 600,
                }
            ],
            "counters": [
                {"id": str(i + 1), "names": {"ja": f"{i + 1}番窓口"}, "services": ["mmc"]}
                for i in range(servers)
            ],
        }
    )


async def start_sim(
    redis: Redis,
    tenant: str,
    office: Office,
    start: float,
    seed: int,
    rates_per_s: dict[str, float],
    dist: str,
    cv: float,
    deadline: float,
) -> OfficeSim:
    """A configured office on a simulated clock, every counter open."""
    clock = SimClock(start)
    engine = Engine(redis, tenant, clock=clock)
    await engine.configure(office)
    rng = random.Random(seed)
    sim = OfficeSim(
        engine, office, clock, rng, rates_per_s, service_sampler(rng, office, dist, cv),
        deadline=deadline,
    )
    await sim.open_counters()
    return sim


async def run_office_days(
    redis: Redis,
    tenant: str,
    *,
    days: int,
    day_minutes: float,
    rates_per_hour: dict[str, float],
    dist: Dist,
    cv: float,
    seed: int,
    sd_values: Sequence[float],
    sd: float,
    deadline: float,
) -> dict[str, Any]:
    office = bench_office()
    unknown = set(rates_per_hour) - {s.id for s in office.services}
    if unknown:
        raise ValueError(f"unknown services in --rates: {sorted(unknown)}")
    sim = await start_sim(
        redis, tenant, office, FIRST_DAY.timestamp() + OPEN_MINUTES * 60, seed,
        {k: v / 3600 for k, v in rates_per_hour.items()}, dist, cv, deadline,
    )
    days_run = 0
    for day in range(days):
        if time.perf_counter() > deadline:
            sim.capped = True
            break
        opens = FIRST_DAY.timestamp() + day * 86_400 + OPEN_MINUTES * 60
        await sim.run(opens, opens + day_minutes * 60, None)
        days_run += 1
    visits = [sim.visits[t] for t in sim.order]
    per_service = {
        s: {
            k: v
            for k, v in score([v for v in visits if v.service == s], ()).items()
            if not k.endswith("_sweep")
        }
        for s in rates_per_hour
    }
    return {
        "parameters": {
            "days": days,
            "days_run": days_run,  # fewer when the time cap hit
            "day_minutes": day_minutes,
            "rates_per_hour": rates_per_hour,
            "service_minutes": {s.id: s.expected_minutes for s in office.services},
            "counters": {c.id: c.services for c in office.counters},
            "service_time_distribution": dist,
            "lognormal_cv": cv if dist == "lognormal" else None,
        },
        "time_capped": sim.capped,
        **score(visits, sd_values, sd),
        "per_service": per_service,
    }


async def run_mmc(
    redis: Redis,
    tenant: str,
    *,
    servers: int,
    rho: float,
    service_minutes: float,
    arrivals: int,
    warmup: int,
    seed: int,
    sd_values: Sequence[float],
    sd: float,
    deadline: float,
    batches: int = 20,
) -> dict[str, Any]:
    mu = 1 / service_minutes  # per minute
    lam = rho * servers * mu
    office = mmc_office(servers, service_minutes)
    # Tickets still waiting at midnight are cancelled by the engine (a new
    # business day), so the whole run must fit in one day: start at 00:00 and
    # refuse parameters that would cross the next midnight.
    expected_minutes = arrivals / lam
    if expected_minutes > 23 * 60:
        raise ValueError(
            f"M/M/c run of {arrivals} arrivals lasts ~{expected_minutes / 60:.0f} simulated "
            "hours; use shorter --mmc-service-minutes (the check is scale-free)"
        )
    sim = await start_sim(
        redis, tenant, office, FIRST_DAY.timestamp(), seed, {"mmc": lam / 60}, "exp", 1.0,
        deadline,
    )
    clock = sim.clock
    # One long run with no closing time: the steady state Erlang C describes.
    await sim.run(clock.now, None, arrivals)
    visits = [sim.visits[t] for t in sim.order]
    # The run starts empty, which shortens the first waits: drop a warm-up.
    measured = visits[warmup:]
    if not measured:
        return {
            "error": "time cap hit before the warm-up ended",
            "arrivals_run": len(visits),
            "time_capped": True,
        }
    waits = [v.wait_ms / 60_000 for v in measured]
    wq_sim = sum(waits) / len(waits)
    wq_theory = estimates.erlang_c_mean_wait(servers, lam, mu)
    # Waits are autocorrelated; batch means give an honest standard error.
    size = len(waits) // batches
    means = [sum(waits[i * size : (i + 1) * size]) / size for i in range(batches)] if size else []
    se = (
        math.sqrt(sum((m - wq_sim) ** 2 for m in means) / (batches - 1) / batches)
        if len(means) > 1
        else math.nan
    )
    return {
        "parameters": {
            "servers": servers,
            "rho": rho,
            "lambda_per_minute": round(lam, 6),
            "mu_per_minute": round(mu, 6),
            "arrivals": arrivals,
            "arrivals_run": len(visits),  # fewer when the time cap hit
            "warmup": warmup,
        },
        "time_capped": sim.capped,
        "measured_tickets": len(measured),
        "wq_sim_minutes": round(wq_sim, 4),
        "wq_erlang_c_minutes": round(wq_theory, 4),
        "wq_rel_error": round((wq_sim - wq_theory) / wq_theory, 4),
        "wq_sim_ci95_half_width_minutes": round(1.96 * se, 4),
        "p_wait_sim": round(sum(w > 0 for w in waits) / len(waits), 4),
        "p_wait_erlang_c": round(estimates.erlang_c(servers, lam, mu), 4),
        "estimates": score(measured, sd_values, sd),
    }


async def run(
    redis_url: str,
    *,
    seed: int = 1,
    days: int = 8,
    day_minutes: float = CLOSE_MINUTES - OPEN_MINUTES,
    rates_per_hour: dict[str, float] | None = None,
    dist: Dist = "exp",
    cv: float = 0.75,
    sd: float | None = None,
    sd_values: Sequence[float] = DEFAULT_SWEEP,
    mmc_servers: int = 3,
    mmc_rho: float = 0.8,
    mmc_service_minutes: float = 0.2,
    mmc_arrivals: int = 10_000,
    mmc_warmup: int = 500,
    skip_mmc: bool = False,
    max_seconds: float = 60.0,
) -> dict[str, Any]:
    started = time.perf_counter()
    # One wall-clock budget for both parts; each engine call is a Redis
    # round trip (~9 per visit), so a loaded machine would otherwise drag on.
    deadline = started + max_seconds
    client = Redis.from_url(redis_url)
    # Separate tenants: the two parts share nothing, and each run is clean.
    tenants = [new_tenant(), new_tenant()]
    applied_sd = SAFETY_SD if sd is None else sd
    try:
        office = await run_office_days(
            client,
            tenants[0],
            days=days,
            day_minutes=day_minutes,
            rates_per_hour=rates_per_hour or parse_rates(DEFAULT_RATES),
            dist=dist,
            cv=cv,
            seed=seed,
            sd_values=sd_values,
            sd=applied_sd,
            deadline=deadline,
        )
        mmc = (
            None
            if skip_mmc
            else await run_mmc(
                client,
                tenants[1],
                servers=mmc_servers,
                rho=mmc_rho,
                service_minutes=mmc_service_minutes,
                arrivals=mmc_arrivals,
                warmup=mmc_warmup,
                seed=seed,
                sd_values=sd_values,
                sd=applied_sd,
                deadline=deadline,
            )
        )
    finally:
        for tenant in tenants:
            await delete_tenant(client, tenant)
        await client.aclose()
    return {
        "benchmark": "estimate_accuracy",
        "parameters": {
            "seed": seed,
            "safety_sd": applied_sd,
            "sweep": list(sd_values),
            "tenants": tenants,  # deleted at the end
            "max_seconds": max_seconds,
        },
        "stopped_by_time_cap": office["time_capped"] or bool(mmc and mmc["time_capped"]),
        "office_day": office,
        "mmc": mmc,
        "wall_seconds": round(time.perf_counter() - started, 2),
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(parser)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--days", type=int, default=8, help="simulated office days")
    parser.add_argument(
        "--day-minutes",
        type=float,
        default=CLOSE_MINUTES - OPEN_MINUTES,
        help="minutes from 8:30 during which tickets are issued (default: until 17:00)",
    )
    parser.add_argument("--rates", default=DEFAULT_RATES, help="arrivals/hour per service")
    parser.add_argument("--dist", choices=["exp", "lognormal"], default="exp")
    parser.add_argument("--cv", type=float, default=0.75, help="lognormal coefficient of variation")
    parser.add_argument(
        "--safety-sd",
        type=float,
        default=None,
        help="safety margin (standard deviations) of the former closed formula, "
        "scored beside the forecast",
    )
    parser.add_argument(
        "--sweep",
        default=",".join(str(v) for v in DEFAULT_SWEEP),
        help="SAFETY_SD values to re-score the same run with",
    )
    parser.add_argument("--mmc-servers", type=int, default=3)
    parser.add_argument("--mmc-rho", type=float, default=0.8)
    # Short visits keep 10,000 arrivals within one simulated day (see run_mmc).
    parser.add_argument("--mmc-service-minutes", type=float, default=0.2)
    parser.add_argument("--mmc-arrivals", type=int, default=10_000)
    parser.add_argument("--mmc-warmup", type=int, default=500)
    parser.add_argument("--skip-mmc", action="store_true")
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=60.0,
        help="wall-clock cap; past it no new arrivals (default %(default)s)",
    )
    parser.add_argument("--loop", choices=["auto", "asyncio", "uvloop"], default="auto")
    args = parser.parse_args(argv)
    if not 0 < args.mmc_rho < 1:
        parser.error("--mmc-rho must be in (0, 1)")
    if args.mmc_warmup >= args.mmc_arrivals:
        parser.error("--mmc-warmup must be below --mmc-arrivals")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    loop: LoopChoice = args.loop
    result, loop_name = run_loop(
        run(
            args.redis_url,
            seed=args.seed,
            days=args.days,
            day_minutes=args.day_minutes,
            rates_per_hour=parse_rates(args.rates),
            dist=args.dist,
            cv=args.cv,
            sd=args.safety_sd,
            sd_values=[float(v) for v in args.sweep.split(",") if v.strip()],
            mmc_servers=args.mmc_servers,
            mmc_rho=args.mmc_rho,
            mmc_service_minutes=args.mmc_service_minutes,
            mmc_arrivals=args.mmc_arrivals,
            mmc_warmup=args.mmc_warmup,
            skip_mmc=args.skip_mmc,
            max_seconds=args.max_seconds,
        ),
        loop,
    )
    result["parameters"]["event_loop"] = loop_name
    emit_json(result)
    return result


if __name__ == "__main__":
    main()
