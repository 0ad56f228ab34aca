"""A whole office day, measured through the real server.

    python -m bench.day_simulation [--load 1.0] [--seed 1] [--close 17:00]

`madoguchi serve` runs as its own process (bench/server.py) with the
development-only simulated clock (MADOGUCHI_SIMULATED_CLOCK_FILE): this
simulator writes the time into the clock file before every request, so the
server lives through a day at 小倉北 (demo office `kokurakita`, 12 counters)
in a minute or two. Everything goes over HTTP with the device tokens an
office would use (kiosk, staff, display).

The day (event-driven, heapq):

* Demand from the seed's figures: Kitakyushu files ~1.1 M counter
  applications a year across 7 wards (~620 k of them certificates), on ~243
  opening days; one visit files ~1.7 applications (moving in also means
  health insurance, child allowance, ...), so an average ward sees
  1.1 M / 7 / 243 / 1.7 ≈ 380 visits a day. `--load 1.0` is that average
  day; the moving season (March) doubles to triples it (`--load 2.5`).
  Visits per service follow the application mix (certificates 56 %), per
  hour a typical morning-heavy profile; Poisson arrivals.
* Bookings made the evening before (20:00) for a share of the bookable
  services' demand; booked citizens check in at the kiosk 0-15 minutes
  before their slot (some late, some never).
* Walk-ins take a kiosk ticket. A ticket that would print
  「HH:MM頃にお戻りください」 (estimate ≥ the office's come_back_minutes, time =
  issue + 0.8 × estimate, as the printer does) makes most holders leave and
  come back at that time, as told.
* Remote joiners take today's queue from afar (POST …/queue) and arrive at the
  `come_back_by` they were given, then check in with the lobby code
  (POST /tickets/{id}/arrive).
* Some walk-ins give up and leave (no-shows).
* Service times are lognormal around each service's expected_minutes. A free
  counter calls next; a present citizen walks up (1 min), is served and the
  counter finishes. A citizen who is not there is recalled every 2 minutes
  (max_recalls), then marked no-show; if they come back within the rejoin
  window they rejoin, else they lost their turn.

Prints one JSON object: waits per issue hour and service (p50/p90), booked
citizens' lobby time (share called within 10 min of the later of check-in and
slot start), estimate MAE and under-estimate share per service (estimate =
the kiosk's answer at issue), citizens who lost their turn by following the
printed come-back time, counter utilisation, citizens never served.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import os
import random
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

from queue_server import calendar
from queue_server.demo_data import demo_offices

from .common import emit_json, percentile
from .server import BenchServer, bench_parser, machine

OFFICE = "kokurakita"
TZ = ZoneInfo("Asia/Tokyo")
YEARLY_APPLICATIONS = 1_100_000
WARDS = 7
OPENING_DAYS = 243
APPLICATIONS_PER_VISIT = 1.7
VISITS_PER_DAY = YEARLY_APPLICATIONS / WARDS / OPENING_DAYS / APPLICATIONS_PER_VISIT
# Share of visits per service: certificates are 620 k / 1.1 M of applications.
MIX = {"shomei": 0.47, "zei": 0.09, "ido": 0.12, "mynumber": 0.10, "koseki": 0.05,
       "kokuho": 0.08, "kosodate": 0.05, "kaigo": 0.04}
# Booked share of a bookable service's visits, and bereavement bookings a day.
BOOKED_SHARE = {"mynumber": 0.4, "kosodate": 0.3, "kaigo": 0.4}
OKUYAMI_PER_DAY = 2.0
# Relative arrivals per clock hour (8 is the half hour 8:30-9:00).
HOURLY = {8: 0.6, 9: 1.4, 10: 1.5, 11: 1.2, 12: 0.8, 13: 1.1, 14: 1.0, 15: 0.9, 16: 0.6}
SIGMA = 0.5  # lognormal spread of service times
REMOTE_SHARE = 0.08  # of walk-in visits, joining today's queue from afar
LEAVE_SHARE = 0.7  # of tickets with a come-back time, leaving and returning
GIVE_UP_SHARE = 0.03  # walk-ins who leave for good
BOOKING_NO_SHOW = 0.08
BOOKING_LATE = 0.1
WALK_UP_S = 60
RECALL_EVERY_S = 120
END_HOUR = 22  # counters stop calling then, whatever is left


@dataclass
class Citizen:
    n: int
    service: str
    kind: str  # walk_in | booked | remote
    arrive: float  # when they reach the office (remote: when they join)
    service_s: float
    ticket: str = ""
    issued: float = 0.0
    estimate_min: int | None = None
    come_back_at: float | None = None  # printed / given come-back time
    present: bool = False
    left_to_return: bool = False
    gives_up: bool = False
    slot: float | None = None
    checked_in: float | None = None
    booking_token: str = ""
    called: float | None = None
    noshow_at: float | None = None
    lost_turn: bool = False
    rejoined: bool = False
    returned_at: float | None = None
    served: bool = False
    called_while_away: bool = False
    phone: str = ""


@dataclass
class CounterState:
    id: str
    busy_s: float = 0.0
    current: Citizen | None = None
    since: float = 0.0
    recalls: int = 0
    idle: bool = True


@dataclass(order=True)
class Event:
    at: float
    seq: int
    kind: str = field(compare=False)
    payload: Any = field(compare=False, default=None)


def sim_day(today: date) -> date:
    """A Monday at least two weeks ahead of the real date that the demo
    office opens (booking keys expire on the engine's clock, so the day must
    not lie in the real past), at least 2 weeks out."""
    office = next(o for o in demo_offices() if o.id == OFFICE)
    d = today + timedelta(days=14 + (7 - today.weekday()) % 7)
    while not calendar.day(office, d).open:
        d += timedelta(days=7)
    return d


def at(d: date, hh: int, mm: int = 0) -> float:
    return datetime(d.year, d.month, d.day, hh, mm, tzinfo=TZ).timestamp()


def lognormal(rng: random.Random, mean_min: float) -> float:
    mu = math.log(mean_min) - SIGMA**2 / 2
    return rng.lognormvariate(mu, SIGMA) * 60


class Simulation:
    def __init__(self, server: BenchServer, clock_file: Path, load: float, seed: int,
                 close: tuple[int, int], day: date) -> None:
        self.srv = server
        self.clock_file = clock_file
        self.load = load
        self.rng = random.Random(seed)
        self.day = day
        self.open_at = at(day, 8, 30)
        self.close_at = at(day, *close)
        self.events: list[Event] = []
        self.seq = itertools.count()
        self.citizens: list[Citizen] = []
        self.by_ticket: dict[str, Citizen] = {}
        self.office = next(o for o in demo_offices() if o.id == OFFICE)
        self.counters = [CounterState(c.id) for c in self.office.counters]
        self.session: aiohttp.ClientSession | None = None
        self.tokens: dict[str, str] = {}
        self.errors: dict[str, int] = {}
        self.requests = 0

    # -- plumbing ----------------------------------------------------------

    def set_clock(self, now: float) -> None:
        tmp = self.clock_file.with_suffix(".tmp")
        tmp.write_text(repr(now))
        os.replace(tmp, self.clock_file)

    def push(self, when: float, kind: str, payload: Any = None) -> None:
        heapq.heappush(self.events, Event(when, next(self.seq), kind, payload))

    async def call(self, method: str, path: str, role: str | None = "staff",
                   body: Any = None, headers: dict[str, str] | None = None
                   ) -> tuple[int, Any]:
        assert self.session is not None
        h = dict(headers or {})
        if role:
            h["Authorization"] = f"Bearer {self.tokens[role]}"
        self.requests += 1
        async with self.session.request(method, self.srv.base_url + path, json=body,
                                        headers=h) as r:
            data = await r.json() if r.content_type == "application/json" else None
            if r.status >= 400:
                code = (data or {}).get("error", {}).get("code", str(r.status))
                self.errors[f"{path.split('/')[-1]}:{code}"] = (
                    self.errors.get(f"{path.split('/')[-1]}:{code}", 0) + 1)
            return r.status, data

    # -- set-up -------------------------------------------------------------

    async def configure(self) -> None:
        """Every simulated citizen comes from the simulator's one address:
        lift the per-address limit of today's queue (a real lobby has many)."""
        path = f"/api/v1/admin/offices/{OFFICE}/config"
        status, doc = await self.call("GET", path, "admin")
        config = doc["config"]
        config.setdefault("booking", {})["per_ip_per_hour"] = 10_000
        status, _ = await self.call("PUT", path, "admin", config,
                                    {"If-Match": f'"{doc["version"]}"'})
        if status >= 300:
            raise RuntimeError(f"config update failed: {status}")

    def plan(self) -> None:
        """Draw the day's citizens."""
        n = 0
        hours = sum(w * (0.5 if h == 8 else 1.0) for h, w in HOURLY.items())
        for sid, share in MIX.items():
            svc = self.office.service(sid)
            assert svc is not None
            per_day = VISITS_PER_DAY * self.load * share
            for hour, weight in HOURLY.items():
                start = at(self.day, hour, 30 if hour == 8 else 0)
                span = 1800 if hour == 8 else 3600
                rate = per_day * weight / hours / 3600  # per second
                t = start
                while True:
                    t += self.rng.expovariate(rate)
                    if t >= start + span or t >= self.close_at:
                        break
                    n += 1
                    booked = self.rng.random() < BOOKED_SHARE.get(sid, 0.0)
                    remote = not booked and self.rng.random() < REMOTE_SHARE
                    kind = "booked" if booked else "remote" if remote else "walk_in"
                    c = Citizen(n, sid, kind, t, lognormal(self.rng, svc.expected_minutes))
                    if kind == "remote":
                        c.arrive = max(self.open_at, t - self.rng.uniform(30, 60) * 60)
                    c.gives_up = kind == "walk_in" and self.rng.random() < GIVE_UP_SHARE
                    c.phone = f"090{10_000_000 + n:08d}"
                    self.citizens.append(c)
        okuyami = self.office.service("okuyami")
        assert okuyami is not None
        k = sum(1 for _ in range(100) if self.rng.random() < OKUYAMI_PER_DAY * self.load / 100)
        for _ in range(k):
            n += 1
            t = self.rng.uniform(self.open_at, self.close_at - 3600)
            self.citizens.append(Citizen(n, "okuyami", "booked", t,
                                         lognormal(self.rng, okuyami.expected_minutes),
                                         phone=f"090{10_000_000 + n:08d}"))

    async def book_evening_before(self) -> None:
        self.set_clock(at(self.day - timedelta(days=1), 20))
        free: dict[str, list[dict[str, Any]]] = {}
        for c in sorted((c for c in self.citizens if c.kind == "booked"), key=lambda c: c.arrive):
            if c.service not in free:
                _, data = await self.call(
                    "GET", f"/api/v1/offices/{OFFICE}/availability?service={c.service}"
                    f"&date={self.day.isoformat()}", None)
                free[c.service] = [s for s in data["slots"] if s["free"] > 0]
            wanted = c.arrive
            # The first slot with room starting at or after the wished time,
            # else the latest with room.
            slots = free[c.service]
            choice = next((s for s in slots if datetime.fromisoformat(s["start"]).timestamp()
                           >= wanted - 900 and s["free"] > 0), None)
            if choice is None:
                rest = [s for s in slots if s["free"] > 0]
                if not rest:
                    c.kind = "walk_in"  # fully booked: comes as a walk-in
                    continue
                choice = rest[-1]
            status, data = await self.call(
                "POST", f"/api/v1/offices/{OFFICE}/bookings", "kiosk",
                {"service": c.service, "slot": choice["start"], "phone": c.phone})
            choice["free"] -= 1
            if status != 201:
                c.kind = "walk_in"
                continue
            c.booking_token = data["token"]
            c.slot = datetime.fromisoformat(choice["start"]).timestamp()
            if self.rng.random() < BOOKING_NO_SHOW:
                c.arrive = math.inf
            elif self.rng.random() < BOOKING_LATE:
                c.arrive = c.slot + self.rng.uniform(0, 20) * 60
            else:
                c.arrive = c.slot - self.rng.uniform(0, 15) * 60

    # -- the day ------------------------------------------------------------

    async def run(self) -> dict[str, Any]:
        self.plan()
        async with aiohttp.ClientSession() as self.session:
            for role in ("kiosk", "staff", "display", "admin"):
                self.tokens[role] = self.srv.token(role)
            await self.configure()
            await self.book_evening_before()
            for c in self.citizens:
                if c.arrive != math.inf and not (c.kind == "walk_in" and c.service == "okuyami"):
                    self.push(c.arrive, "arrive", c)
            for t in range(int(self.open_at), int(at(self.day, END_HOUR)), 120):
                self.push(float(t), "poll")
            wall = time.perf_counter()
            while self.events:
                ev = heapq.heappop(self.events)
                if ev.at >= at(self.day, END_HOUR):
                    break
                self.set_clock(ev.at)
                await getattr(self, f"on_{ev.kind}")(ev.at, ev.payload)
                if ev.kind in ("arrive", "back", "poll", "free"):
                    await self.fill_counters(ev.at)
            wall = time.perf_counter() - wall
        return self.report(wall)

    async def on_arrive(self, now: float, c: Citizen) -> None:
        if c.kind == "booked":
            status, data = await self.call("POST", f"/api/v1/offices/{OFFICE}/check-in", "kiosk",
                                           {"booking_token": c.booking_token})
            if status != 201:
                c.kind = "walk_in"  # too late for the booking: queues as a walk-in
                await self.on_arrive(now, c)
                return
            c.checked_in, c.present = now, True
            self.issued(c, now, data)
            return
        if c.kind == "remote":
            status, data = await self.call("POST", f"/api/v1/offices/{OFFICE}/queue", None,
                                           {"service": c.service})
            if status != 201:
                return
            self.issued(c, now, data)
            back = data.get("come_back_by")
            c.come_back_at = (datetime.fromisoformat(back).timestamp() if back
                              else now + self.rng.uniform(20, 40) * 60)
            self.push(max(c.come_back_at, now + 600), "remote_arrive", c)
            return
        if now >= self.close_at:
            return
        status, data = await self.call("POST", f"/api/v1/offices/{OFFICE}/tickets", "kiosk",
                                       {"service": c.service})
        if status != 201:
            return
        self.issued(c, now, data)
        c.present = True
        wait = data.get("estimated_wait_minutes")
        if wait is not None and wait >= self.office.ticket.come_back_minutes:
            # What the printer prints (queue_server/print_jobs.py).
            c.come_back_at = now + int(wait * 0.8) * 60
            if self.rng.random() < LEAVE_SHARE:
                c.present, c.left_to_return = False, True
                self.push(c.come_back_at, "back", c)
        if c.gives_up:
            c.present = False

    def issued(self, c: Citizen, now: float, data: dict[str, Any]) -> None:
        c.ticket, c.issued = data["id"], now
        c.estimate_min = data.get("estimated_wait_minutes")
        self.by_ticket[c.ticket] = c

    async def on_remote_arrive(self, now: float, c: Citizen) -> None:
        _, code = await self.call("GET", f"/api/v1/offices/{OFFICE}/checkin-code", "display")
        status, _ = await self.call("POST", f"/api/v1/tickets/{c.ticket}/arrive", None,
                                    {"presence_code": code["code"]})
        c.present, c.returned_at = status < 300, now
        await self.fill_counters(now)

    async def on_back(self, now: float, c: Citizen) -> None:
        c.present, c.returned_at = True, now
        if c.noshow_at is not None and not c.served:
            status, _ = await self.call("POST", f"/api/v1/tickets/{c.ticket}/rejoin", None, {})
            if status < 300:
                c.rejoined = True
            else:
                c.lost_turn = True
        else:
            for k in self.counters:
                if k.current is c:
                    self.push(now + WALK_UP_S, "start", k)

    async def on_poll(self, now: float, _: Any) -> None:
        return None

    async def on_free(self, now: float, _: Any) -> None:
        return None

    async def fill_counters(self, now: float) -> None:
        for k in self.counters:
            if not k.idle:
                continue
            status, data = await self.call(
                "POST", f"/api/v1/offices/{OFFICE}/counters/{k.id}/call-next", "staff", {})
            if status != 200:
                continue
            c = self.by_ticket.get(data["id"])
            if c is None:
                continue
            k.idle, k.current, k.since, k.recalls = False, c, now, 0
            if c.called is None:
                c.called = now
            if c.present:
                self.push(now + WALK_UP_S, "start", k)
            else:
                c.called_while_away = True
                self.push(now + RECALL_EVERY_S, "recall", k)

    async def on_start(self, now: float, k: CounterState) -> None:
        c = k.current
        if c is None or c.served or not c.present:
            return
        c.served = True
        await self.call("POST", f"/api/v1/offices/{OFFICE}/counters/{k.id}/start", "staff",
                        {"ticket": c.ticket})
        self.push(now + c.service_s, "finish", k)

    async def on_finish(self, now: float, k: CounterState) -> None:
        c = k.current
        assert c is not None
        await self.call("POST", f"/api/v1/offices/{OFFICE}/counters/{k.id}/finish", "staff",
                        {"ticket": c.ticket})
        self.release(k, now)

    async def on_recall(self, now: float, k: CounterState) -> None:
        c = k.current
        if c is None or c.served or c.present:
            return
        if k.recalls < self.office.queue.max_recalls:
            k.recalls += 1
            await self.call("POST", f"/api/v1/offices/{OFFICE}/counters/{k.id}/recall", "staff",
                            {"ticket": c.ticket})
            self.push(now + RECALL_EVERY_S, "recall", k)
            return
        await self.call("POST", f"/api/v1/offices/{OFFICE}/counters/{k.id}/no-show", "staff",
                        {"ticket": c.ticket})
        c.noshow_at = now
        self.release(k, now)

    def release(self, k: CounterState, now: float) -> None:
        k.busy_s += now - k.since
        k.idle, k.current = True, None
        self.push(now, "free")

    # -- the answer ---------------------------------------------------------

    def report(self, wall: float) -> dict[str, Any]:
        def pct(values: list[float]) -> dict[str, Any]:
            v = sorted(values)
            return {"n": len(v), "p50": round(percentile(v, 50), 1) if v else None,
                    "p90": round(percentile(v, 90), 1) if v else None}

        with_ticket = [c for c in self.citizens if c.ticket]
        walk = [c for c in with_ticket if c.kind == "walk_in" and c.called is not None]
        waits_hour: dict[str, list[float]] = {}
        waits_service: dict[str, list[float]] = {}
        for c in walk:
            w = (c.called - c.issued) / 60  # type: ignore[operator]
            waits_hour.setdefault(f"{datetime.fromtimestamp(c.issued, TZ).hour:02d}", []).append(w)
            waits_service.setdefault(c.service, []).append(w)
        booked = [c for c in with_ticket if c.kind == "booked"]
        lobby = [((c.called or math.inf) - max(c.checked_in or 0, c.slot or 0)) / 60
                 for c in booked]
        within = [x for x in lobby if x <= 10]
        est: dict[str, dict[str, Any]] = {}
        errs_all: list[float] = []
        under_all = 0
        for sid in sorted({c.service for c in walk}):
            errs, under = [], 0
            for c in walk:
                if c.service != sid or c.estimate_min is None:
                    continue
                actual = (c.called - c.issued) / 60  # type: ignore[operator]
                errs.append(abs(actual - c.estimate_min))
                under += actual > c.estimate_min
            errs_all += errs
            under_all += under
            if errs:
                est[sid] = {"n": len(errs), "mae_min": round(sum(errs) / len(errs), 1),
                            "under_share": round(under / len(errs), 3)}
        told = [c for c in with_ticket if c.come_back_at is not None and c.kind == "walk_in"]
        left = [c for c in told if c.left_to_return]
        followed = left + [c for c in with_ticket if c.kind == "remote"]
        after_return = [((c.called or math.inf) - c.returned_at) / 60 for c in followed
                        if c.returned_at is not None and c.called is not None
                        and c.called >= c.returned_at]
        day_open = self.close_at - self.open_at
        last = max((c.called or 0) for c in with_ticket) if with_ticket else self.close_at
        return {
            "benchmark": "day_simulation",
            "office": OFFICE,
            "day": self.day.isoformat(),
            "load": self.load,
            "visits_per_day_at_load_1": round(VISITS_PER_DAY, 1),
            "citizens": len(self.citizens),
            "tickets": len(with_ticket),
            "by_kind": {k: sum(1 for c in with_ticket if c.kind == k)
                        for k in ("walk_in", "booked", "remote")},
            "last_call": datetime.fromtimestamp(last, TZ).strftime("%H:%M"),
            # Who took a ticket (or checked in) and wanted service but never got it.
            "never_served": sum(1 for c in with_ticket if not c.served and not c.gives_up),
            "walk_in_wait_min_by_issue_hour": {h: pct(v) for h, v in sorted(waits_hour.items())},
            "walk_in_wait_min_by_service": {s: pct(v) for s, v in sorted(waits_service.items())},
            "booked": {
                "n": len(booked),
                "called_within_10_min_share": round(len(within) / len(booked), 3)
                if booked else None,
                "lobby_min": pct([x for x in lobby if x != math.inf]),
                "never_called": sum(1 for x in lobby if x == math.inf),
            },
            "estimates": {
                "overall": {"n": len(errs_all),
                            "mae_min": round(sum(errs_all) / len(errs_all), 1)
                            if errs_all else None,
                            "under_share": round(under_all / len(errs_all), 3)
                            if errs_all else None},
                "by_service": est,
            },
            "come_back": {
                "printed": len(told),
                "left_and_returned_as_told": len(left),
                "remote_joiners": sum(1 for c in with_ticket if c.kind == "remote"),
                # Someone of the same service who took a ticket after them was
                # called before they arrived: their turn had passed (they are
                # then called first; the lobby's estimates never counted them).
                "remote_turn_passed_before_arrival": sum(
                    1 for c in with_ticket if c.kind == "remote" and c.returned_at is not None
                    and any(o.service == c.service and o.issued > c.issued
                            and o.called is not None and o.called < c.returned_at
                            for o in with_ticket)),
                "called_while_away": sum(1 for c in followed if c.called_while_away),
                "lost_turn_following_advice": sum(1 for c in followed if c.lost_turn),
                "rejoined_after_no_show": sum(1 for c in followed if c.rejoined),
                "wait_after_return_min": pct(after_return),
            },
            # Busy time (called to finished or no-show) over the opening hours:
            # above 1 when the counter worked on past closing.
            "counter_utilisation": {
                k.id: round(k.busy_s / day_open, 3) for k in self.counters},
            "counter_utilisation_mean": round(
                sum(k.busy_s for k in self.counters) / day_open / len(self.counters), 3),
            "counter_busy_minutes": {k.id: round(k.busy_s / 60) for k in self.counters},
            "http_requests": self.requests,
            "http_errors": self.errors,
            "wall_seconds": round(wall, 1),
        }


async def simulate(redis_url: str | None, load: float, seed: int,
                   close: tuple[int, int] = (17, 0)) -> dict[str, Any]:
    day = sim_day(date.today())
    with tempfile.TemporaryDirectory(prefix="madoguchi-daysim-") as tmp:
        clock_file = Path(tmp) / "clock"
        clock_file.write_text(repr(at(day - timedelta(days=1), 19)))
        env = {"MADOGUCHI_SIMULATED_CLOCK_FILE": str(clock_file), "MADOGUCHI_DEVELOPMENT": "1"}
        with BenchServer(redis_url, extra_env=env) as srv:
            sim = Simulation(srv, clock_file, load, seed, close, day)
            result = await sim.run()
            result["machine"] = machine()
            return result


def main() -> None:
    p = bench_parser("bench.day_simulation", __doc__)
    p.add_argument("--load", type=float, default=1.0,
                   help="demand as a multiple of the average day (March: 2-3)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--close", default="17:00", help="when arrivals stop (HH:MM)")
    args = p.parse_args()
    hh, mm = (int(x) for x in args.close.split(":"))
    emit_json(asyncio.run(simulate(args.redis_url, args.load, args.seed, (hh, mm))))


if __name__ == "__main__":
    main()
