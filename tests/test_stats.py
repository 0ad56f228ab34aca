"""Statistics from the engine's anonymous visit records, the CSV export and
the Erlang C staffing planner, against published values."""

from __future__ import annotations

import csv
import io
import math
from datetime import date

import pytest
from redis.asyncio import Redis

from queue_server import stats
from queue_server.auth import ALL_OFFICES, Tokens
from queue_server.engine import Engine
from queue_server.errors import MadoguchiError
from tests.conftest import START, ManualClock, small_office
from tests.servers import app_harness, bearer

OFFICE = "testoffice"
DAY = date(2026, 11, 27)


# -- Erlang C against published numbers ------------------------------------------


def test_erlang_c_matches_the_published_worked_example() -> None:
    """Call Centre Helper, "Erlang C Formula – Made Simple with an Easy Worked
    Example": 100 calls in 30 minutes, 180 s handling time (10 Erlangs),
    target 80 % answered within 20 s. Published: probability of waiting 68.2 %
    (11 agents), 44.9 % (12), 28.5 % (13), 17.4 % (14); with 13 agents 79.6 %
    within 20 s and an average wait of 17.1 s, with 14 agents 88.8 % and 7.8 s
    — so 14 agents reach the target."""
    for agents, pw in ((11, 0.682), (12, 0.449), (13, 0.285), (14, 0.174)):
        assert round(stats.service_level(agents, 200, 3, 20 / 60)[0], 3) == pw
    for agents, (sl, asa_seconds) in ((13, (0.796, 17.1)), (14, (0.888, 7.8))):
        _, got_sl, got_asa = stats.service_level(agents, 200, 3, 20 / 60)
        assert (round(got_sl, 3), round(got_asa * 60, 1)) == (sl, asa_seconds)
    (hour,) = stats.plan([200], 3, 0.8, 20 / 60, first_hour=9)
    assert (hour["hour"], hour["erlangs"], hour["counters"]) == (9, 10.0, 14)


def test_erlang_c_edge_cases() -> None:
    # One counter: the probability of waiting is the utilisation (M/M/1).
    pw, _, wait = stats.service_level(1, 6, 5, 10)  # 6/h × 5 min = 0.5
    assert pw == pytest.approx(0.5) and wait == pytest.approx(5.0)  # ρ/(1−ρ) × 5 min
    assert stats.service_level(2, 30, 5, 15) == (1.0, 0.0, math.inf)  # 2.5 Erlangs on 2
    # By hand: 30/h × 5 min = 2.5 Erlangs. On 3 counters Pw = 15.625 / (6.625 +
    # 15.625) = 0.7022 and the share within 5 min is 1 − 0.7022·e^(−0.5) = 0.574;
    # on 4 it is above 0.99. 6/h: one counter gives 1 − 0.5·e^(−0.5) = 0.697.
    pw, sl, _ = stats.service_level(3, 30, 5, 5)
    assert (round(pw, 4), round(sl, 3)) == (0.7022, 0.574)
    hours = stats.plan([0, 6, 30], 5, 0.8, 5, first_hour=8)
    assert [(h["hour"], h["counters"]) for h in hours] == [(8, 0), (9, 2), (10, 4)]
    assert all(h["service_level"] >= 0.8 for h in hours)
    with pytest.raises(MadoguchiError):
        stats.plan([10], 5, 1.5, 15)


# -- statistics from real engine activity ---------------------------------------------


@pytest.fixture
async def day_of_work(redis: Redis, clean_tenant: str) -> tuple[Engine, ManualClock]:
    """A short morning at the test office (10:00 JST on), all times known."""
    clock = ManualClock(START)
    engine = Engine(redis, clean_tenant, clock=clock)
    await engine.configure(small_office())
    await engine.set_counter_state(OFFICE, "1", "open")
    a = await engine.issue_ticket(OFFICE, "shomei")  # 10:00 kiosk
    clock.advance(60)
    b = await engine.issue_ticket(OFFICE, "shomei", channel="phone")  # 10:01
    clock.advance(60)
    c = await engine.issue_ticket(OFFICE, "shomei", channel="staff")  # 10:02
    d = await engine.issue_ticket(OFFICE, "shomei", channel="online")  # 10:02
    clock.advance(8 * 60)  # 10:10 call A: waited 10 min
    assert (await engine.call_next(OFFICE, "1"))["id"] == a["id"]  # type: ignore[index]
    await engine.start(OFFICE, "1", None)
    clock.advance(4 * 60)  # 10:14 call B (finishes A: 4 min served): waited 13
    assert (await engine.call_next(OFFICE, "1"))["id"] == b["id"]  # type: ignore[index]
    clock.advance(60)
    await engine.recall(OFFICE, "1", None)
    clock.advance(60)
    await engine.no_show(OFFICE, "1", None)  # 10:16
    await engine.cancel(d["id"])  # gave up
    clock.advance(44 * 60)  # 11:00 call C: waited 58 min
    assert (await engine.call_next(OFFICE, "1"))["id"] == c["id"]  # type: ignore[index]
    clock.advance(6 * 60)
    await engine.finish(OFFICE, "1", None)  # 6 min served (from the call)
    await engine.issue_ticket(OFFICE, "ido")  # 11:06, still waiting
    return engine, clock


async def test_summary_of_a_morning(day_of_work: tuple[Engine, ManualClock]) -> None:
    engine, _ = day_of_work
    visits = await stats.visits(engine, OFFICE, DAY, DAY)
    s = stats.summary(visits, "Asia/Tokyo", (15, 30))
    t = s["totals"]
    assert (t["arrivals"], t["called"], t["served"], t["no_shows"], t["cancelled"]) == (
        5, 3, 2, 1, 1)
    assert t["avg_wait_minutes"] == round((10 + 13 + 58) / 3, 1)
    assert t["p90_wait_minutes"] == 58.0
    assert t["service_level"] == {"15": round(2 / 3, 3), "30": round(2 / 3, 3)}
    assert t["avg_service_minutes"] == 5.0  # (4 + 6) / 2
    assert s["channels"] == {"kiosk": 2, "phone": 1, "online": 1, "staff": 1}
    assert [(h["hour"], h["arrivals"]) for h in s["by_hour"]] == [(10, 4), (11, 1)]
    assert [(x["service"], x["arrivals"]) for x in s["by_service"]] == [("ido", 1),
                                                                        ("shomei", 4)]
    assert s["by_counter"] == [{"counter": "1", "served": 2, "avg_service_minutes": 5.0}]
    # Anonymous: no ticket id, no number in the records.
    raw = await engine.redis.hgetall(engine.keys(OFFICE).k("st:20261127"))
    assert len(raw) == 5 and not any(b"." in v and b"testoffice." in v for v in raw.values())


async def test_csv_export(day_of_work: tuple[Engine, ManualClock]) -> None:
    engine, _ = day_of_work
    text = stats.to_csv(await stats.visits(engine, OFFICE, DAY, DAY), "Asia/Tokyo")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert [(r["hour"], r["service"], r["arrivals"], r["served"]) for r in rows] == [
        ("10", "shomei", "4", "2"), ("11", "ido", "1", "0")]
    assert rows[0]["service_level_15min"] == "0.667" and rows[1]["avg_wait_minutes"] == ""


async def test_stats_api(redis: Redis, tenant: str) -> None:
    clock = ManualClock(START)
    async with app_harness(redis, tenant, small_office(), clock=clock) as api:
        await api.ok("POST", api.path("/counters/1/open"), role="staff")
        first = await api.issue()
        clock.advance(300)
        await api.issue(role="staff")
        clock.advance(300)
        called = await api.act("1", "call-next")
        assert called["id"] == first["id"]
        body = await api.ok("GET", api.path(f"/stats?from={DAY}&to={DAY}&targets=5,10"),
                            role="staff")
        assert body["totals"]["arrivals"] == 2 and body["totals"]["avg_wait_minutes"] == 10.0
        assert body["totals"]["service_level"] == {"5": 0.0, "10": 1.0}
        async with api.client.get(api.path(f"/stats.csv?from={DAY}"),
                                  headers=await api.auth("staff")) as resp:
            assert resp.status == 200 and resp.content_type == "text/csv"
            assert "attachment" in resp.headers["Content-Disposition"]
        for role, query in (("kiosk", ""), ("display", ""), ("staff", "?from=2026-13-01"),
                            ("staff", f"?from={DAY}&to=2026-11-01"),
                            ("staff", "?targets=abc")):
            status, err = await api.request("GET", api.path(f"/stats{query}"), role=role)
            assert status in (403, 422) and "error" in err, (role, query)
        status, _ = await api.request("GET", f"/api/v1/stats?from={DAY}", role="staff")
        assert status == 403
        city_admin, _ = await Tokens(redis, tenant).create("admin", ALL_OFFICES)
        city = await api.ok("GET", f"/api/v1/stats?from={DAY}", headers=bearer(city_admin))
        assert [o["office"] for o in city["offices"]] == [OFFICE]
        assert city["totals"]["arrivals"] == 2

        plan = await api.ok("GET", api.path(
            "/staffing?arrivals=6,30&first_hour=9&service_minutes=5&target_minutes=5"),
            role="staff")
        assert [(h["hour"], h["counters"]) for h in plan["hours"]] == [(9, 2), (10, 4)]
        # Without arrivals: the average of the same weekday over four weeks.
        clock.advance(7 * 86400)
        plan = await api.ok("GET", api.path("/staffing?service=shomei"), role="staff")
        assert plan["hours"][10]["arrivals"] == 2.0 and plan["forecast"].startswith("average")
        for query in ("arrivals=-1", "arrivals=x", "service=nope", "target_share=2"):
            status, err = await api.request("GET", api.path(f"/staffing?{query}"),
                                            role="staff")
            assert status in (404, 422), (query, status, err)
