"""Statistics and the staffing planner (issue 5), from the anonymous visit
records the engine keeps per office and business day (``st:<day>``: one
record per ticket, rewritten at each of its events by includes.lua
``stat()``). The records hold no ticket id and no personal data, so they
outlive the retention purge.

Definitions (also shown to managers):
- wait: from when the citizen could be called — the later of due_at (slot
  start for a booking) and arrival (a remote ticket) — to the first call;
- service level T: share of called tickets whose wait was at most T minutes;
- service time: from the start of service (or the call when "start" was not
  pressed) to done;
- p90: the nearest-rank 90th percentile.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from .clock import zone
from .engine import Engine
from .errors import MadoguchiError
from .estimates import erlang_c

MAX_DAYS = 366
DEFAULT_TARGETS = (15, 30)
CHANNELS = ("kiosk", "phone", "online", "staff")


@dataclass(frozen=True)
class Visit:
    day: date
    service: str  # where the citizen queued
    final_service: str  # where they were served (after transfers)
    channel: str
    priority: bool
    booked: bool
    issued: float
    due: float
    arrived: float | None
    called: float | None
    serving: float | None
    ended: float | None
    outcome: str  # waiting | remote | called | serving | parked | done | no_show | cancelled
    counter: str
    recalls: int

    @property
    def wait_minutes(self) -> float | None:
        if self.called is None:
            return None
        # Records written before check-ins stored their arrival: a booking's
        # ticket is issued at its check-in, so issued is the arrival there.
        start = max(self.due, self.arrived if self.arrived is not None else self.issued)
        return max(0.0, (self.called - start) / 60)

    @property
    def service_minutes(self) -> float | None:
        if self.outcome != "done" or self.ended is None:
            return None
        start = self.serving or self.called
        return None if start is None else max(0.0, (self.ended - start) / 60)


def _visit(day: date, raw: bytes | str) -> Visit:
    r = json.loads(raw)
    ms = lambda k: None if r.get(k) is None else r[k] / 1000  # noqa: E731
    return Visit(
        day=day, service=r["s"], final_service=r.get("fs") or r["s"], channel=r.get("ch", ""),
        priority=bool(r.get("p")), booked=bool(r.get("b")), issued=ms("i") or 0.0,
        due=ms("d") or ms("i") or 0.0, arrived=ms("a"), called=ms("c"), serving=ms("sv"),
        ended=ms("e"), outcome=r.get("o", ""), counter=r.get("ctr") or "",
        recalls=int(r.get("r") or 0),
    )


def days(start: date, end: date) -> list[date]:
    if end < start or (end - start).days >= MAX_DAYS:
        raise MadoguchiError("invalid_date", f"Give from ≤ to, at most {MAX_DAYS} days.")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


async def visits(engine: Engine, office_id: str, start: date, end: date) -> list[Visit]:
    await engine.office(office_id)  # unknown_office
    keys = engine.keys(office_id)
    span = days(start, end)
    async with engine.redis.pipeline(transaction=False) as pipe:
        for d in span:
            pipe.hvals(keys.k(f"st:{d:%Y%m%d}"))
        results = await pipe.execute()
    return [_visit(d, raw) for d, values in zip(span, results, strict=True) for raw in values]


def p90(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _group(items: Iterable[Visit], targets: Sequence[int]) -> dict[str, Any]:
    items = list(items)
    waits = [w for v in items if (w := v.wait_minutes) is not None]
    service = [s for v in items if (s := v.service_minutes) is not None]
    return {
        "arrivals": len(items),
        "called": len(waits),
        "served": sum(v.outcome == "done" for v in items),
        "no_shows": sum(v.outcome == "no_show" for v in items),
        "cancelled": sum(v.outcome == "cancelled" for v in items),
        "avg_wait_minutes": _r(_mean(waits)),
        "p90_wait_minutes": _r(p90(waits)),
        "service_level": {str(t): (round(sum(w <= t for w in waits) / len(waits), 3)
                                   if waits else None) for t in targets},
        "avg_service_minutes": _r(_mean(service)),
    }


def summary(items: Sequence[Visit], timezone: str,
            targets: Sequence[int] = DEFAULT_TARGETS) -> dict[str, Any]:
    """Totals, per hour of the day (by arrival in the queue), per service,
    per counter and the channel mix."""
    tz = zone(timezone)
    by_hour: dict[int, list[Visit]] = defaultdict(list)
    by_service: dict[str, list[Visit]] = defaultdict(list)
    by_counter: dict[str, list[Visit]] = defaultdict(list)
    for v in items:
        by_hour[datetime.fromtimestamp(v.issued, tz).hour].append(v)
        by_service[v.service].append(v)
        if v.counter and v.outcome == "done":
            by_counter[v.counter].append(v)
    channels = Counter(v.channel for v in items)
    return {
        "targets_minutes": list(targets),
        "totals": _group(items, targets),
        "by_hour": [{"hour": h, **_group(by_hour[h], targets)} for h in sorted(by_hour)],
        "by_service": [{"service": s, **_group(vs, targets)}
                       for s, vs in sorted(by_service.items())],
        "by_counter": [{"counter": c, "served": len(vs),
                        "avg_service_minutes": _r(_mean(
                            [m for v in vs if (m := v.service_minutes) is not None]))}
                       for c, vs in sorted(by_counter.items())],
        "channels": {ch: channels.get(ch, 0) for ch in (*CHANNELS, *sorted(
            set(channels) - set(CHANNELS)))},
        "booked": sum(v.booked for v in items),
    }


CSV_COLUMNS = ("date", "hour", "service", "arrivals", "called", "served", "no_shows",
               "cancelled", "avg_wait_minutes", "p90_wait_minutes", "avg_service_minutes")


def to_csv(items: Sequence[Visit], timezone: str,
           targets: Sequence[int] = DEFAULT_TARGETS) -> str:
    """One row per day, hour and service, for a spreadsheet (UTF-8 with BOM:
    Excel in Japanese Windows opens it correctly)."""
    tz = zone(timezone)
    groups: dict[tuple[date, int, str], list[Visit]] = defaultdict(list)
    for v in items:
        groups[(v.day, datetime.fromtimestamp(v.issued, tz).hour, v.service)].append(v)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*CSV_COLUMNS, *(f"service_level_{t}min" for t in targets)])
    for (d, hour, service), vs in sorted(groups.items()):
        g = _group(vs, targets)
        writer.writerow([d.isoformat(), hour, service, *(
            "" if g[c] is None else g[c] for c in CSV_COLUMNS[3:]),
            *("" if g["service_level"][str(t)] is None else g["service_level"][str(t)]
              for t in targets)])
    return "\ufeff" + out.getvalue()


# -- the staffing planner (Erlang C) ------------------------------------------


def service_level(counters: int, arrivals_per_hour: float, service_minutes: float,
                  target_minutes: float) -> tuple[float, float, float]:
    """(probability of waiting, share served within the target, mean wait in
    minutes) of an M/M/c queue; an overloaded queue gives (1, 0, inf)."""
    if arrivals_per_hour <= 0:
        return 0.0, 1.0, 0.0
    mu = 60 / service_minutes  # per counter per hour
    load = arrivals_per_hour / mu
    if counters <= load:
        return 1.0, 0.0, math.inf
    pw = erlang_c(counters, arrivals_per_hour, mu)
    sl = 1 - pw * math.exp(-(counters - load) * target_minutes / service_minutes)
    asa = pw * service_minutes / (counters - load)
    return pw, sl, asa


def plan(arrivals_per_hour: Sequence[float], service_minutes: float, target_share: float,
         target_minutes: float, first_hour: int = 8, max_counters: int = 100
         ) -> list[dict[str, Any]]:
    """Per hour: the fewest counters that serve `target_share` of arrivals
    within `target_minutes`, with the service level and mean wait they give."""
    if service_minutes <= 0 or not 0 < target_share < 1 or target_minutes < 0:
        raise MadoguchiError("validation_failed", "service_minutes > 0, 0 < target_share < 1")
    out = []
    for i, lam in enumerate(arrivals_per_hour):
        if lam < 0:
            raise MadoguchiError("validation_failed", "arrivals must not be negative")
        n = 0 if lam == 0 else max(1, math.floor(lam * service_minutes / 60) + 1)
        while lam > 0 and n <= max_counters:
            _, sl, _ = service_level(n, lam, service_minutes, target_minutes)
            if sl >= target_share:
                break
            n += 1
        pw, sl, asa = service_level(n, lam, service_minutes, target_minutes)
        out.append({"hour": first_hour + i, "arrivals": lam,
                    "erlangs": round(lam * service_minutes / 60, 3), "counters": n,
                    "p_wait": round(pw, 4), "service_level": round(sl, 4),
                    "mean_wait_minutes": None if math.isinf(asa) else round(asa, 2)})
    return out


def forecast(items: Sequence[Visit], timezone: str, weekday: int, service: str | None
             ) -> list[float]:
    """Arrivals per hour (0–23) on `weekday` (ISO), averaged over the days of
    that weekday in `items` — the planner's default forecast."""
    tz = zone(timezone)
    per_day: dict[date, list[int]] = {}
    for v in items:
        if v.day.isoweekday() != weekday or (service and v.service != service):
            continue
        hours = per_day.setdefault(v.day, [0] * 24)
        hours[datetime.fromtimestamp(v.issued, tz).hour] += 1
    if not per_day:
        return [0.0] * 24
    return [round(sum(h[i] for h in per_day.values()) / len(per_day), 2) for i in range(24)]
