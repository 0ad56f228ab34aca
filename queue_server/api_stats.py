"""Statistics, CSV export and the staffing planner over HTTP (issue 5)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from aiohttp import web

from . import stats
from .api import json_response, known_office, principal
from .auth import ALL_OFFICES
from .bookings import parse_date
from .clock import zone
from .context import ctx
from .errors import MadoguchiError

routes = web.RouteTableDef()
FORECAST_WEEKS = 4


def _range(request: web.Request, today: date) -> tuple[date, date]:
    start = parse_date(request.query["from"]) if "from" in request.query else today
    end = parse_date(request.query["to"]) if "to" in request.query else start
    stats.days(start, end)  # validates the span
    return start, end


def _numbers(text: str, name: str, *, integers: bool = False, limit: int = 24) -> list[float]:
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        raise MadoguchiError("validation_failed", f"{name}: comma-separated numbers") from exc
    if not values or len(values) > limit or any(v < 0 or v != v for v in values) or (
        integers and any(v != int(v) or v < 1 or v > 480 for v in values)
    ):
        raise MadoguchiError("validation_failed", f"{name}: 1–{limit} numbers ≥ 0")
    return values


async def _office_today(request: web.Request) -> tuple[str, str, date]:
    app, office = await known_office(request)
    (await principal(request)).require("ticket_admin", office)
    tz = (await app.engine.office(office)).timezone
    return office, tz, datetime.fromtimestamp(app.engine.clock(), zone(tz)).date()


@routes.get("/api/v1/offices/{office}/stats", name="stats")
async def office_stats(request: web.Request) -> web.Response:
    office, tz, today = await _office_today(request)
    start, end = _range(request, today)
    targets = [int(t) for t in _numbers(request.query.get("targets", "15,30"), "targets",
                                        integers=True, limit=4)]
    visits = await stats.visits(ctx(request).engine, office, start, end)
    return json_response({"office": office, "from": start.isoformat(), "to": end.isoformat(),
                          **stats.summary(visits, tz, targets)})


@routes.get("/api/v1/offices/{office}/stats.csv", name="stats_csv")
async def office_stats_csv(request: web.Request) -> web.Response:
    office, tz, today = await _office_today(request)
    start, end = _range(request, today)
    visits = await stats.visits(ctx(request).engine, office, start, end)
    return web.Response(
        text=stats.to_csv(visits, tz), content_type="text/csv", charset="utf-8",
        headers={"Content-Disposition":
                 f'attachment; filename="madoguchi-{office}-{start}-{end}.csv"'})


@routes.get("/api/v1/stats", name="city_stats")
async def city_stats(request: web.Request) -> web.Response:
    """Every office of the municipality (admin): totals per office and overall."""
    who = await principal(request)
    if who.office != ALL_OFFICES:
        raise MadoguchiError("forbidden", "City-wide statistics need an all-office account.")
    engine = ctx(request).engine
    today = datetime.fromtimestamp(engine.clock(), zone("Asia/Tokyo")).date()
    start, end = _range(request, today)
    offices, everything = [], []
    for office_id in await engine.office_ids():
        office = await engine.office(office_id)
        visits = await stats.visits(engine, office_id, start, end)
        everything += visits
        offices.append({"office": office_id, "names": office.names.as_dict(),
                        **stats.summary(visits, office.timezone)["totals"]})
    return json_response({"from": start.isoformat(), "to": end.isoformat(), "offices": offices,
                          "totals": stats.summary(everything, "Asia/Tokyo")["totals"]})


@routes.get("/api/v1/offices/{office}/staffing", name="staffing")
async def staffing(request: web.Request) -> web.Response:
    """Counters needed per hour (Erlang C) for a forecast of arrivals: given
    (`arrivals`, per hour from `first_hour`), or the average of the same
    weekday over the last four weeks."""
    office, tz, today = await _office_today(request)
    engine = ctx(request).engine
    config = await engine.office(office)
    service = request.query.get("service") or None
    if service is not None and config.service(service) is None:
        raise MadoguchiError("unknown_service")
    day = parse_date(request.query["date"]) if "date" in request.query else today
    try:
        share = float(request.query.get("target_share", "0.8"))
        minutes = float(request.query.get("target_minutes", "15"))
        first_hour = int(request.query.get("first_hour", "8"))
    except ValueError as exc:
        raise MadoguchiError("validation_failed", "target_share, target_minutes, first_hour "
                                                  "are numbers") from exc
    if "service_minutes" in request.query:
        (service_minutes,) = _numbers(request.query["service_minutes"], "service_minutes",
                                      limit=1)
    else:
        chosen = [config.service(service)] if service else config.services
        learned = [await engine.redis.hget(engine.keys(office).k(f"svc:{s.id}"), "avg_ms")
                   for s in chosen if s is not None]
        values = [int(v) / 60_000 for v in learned if v]
        service_minutes = sum(values) / len(values) if values else 10.0
    if "arrivals" in request.query:
        arrivals = _numbers(request.query["arrivals"], "arrivals")
        source = "given"
    else:
        history = await stats.visits(engine, office, day - timedelta(weeks=FORECAST_WEEKS),
                                     day - timedelta(days=1))
        arrivals = stats.forecast(history, tz, day.isoweekday(), service)
        first_hour = 0
        source = f"average of the last {FORECAST_WEEKS} {day:%A}s"
    if not 0 <= first_hour <= 23:
        raise MadoguchiError("validation_failed", "first_hour is 0–23")
    hours = stats.plan(arrivals, service_minutes, share, minutes, first_hour)
    return json_response({"office": office, "service": service, "date": day.isoformat(),
                          "service_minutes": round(service_minutes, 2), "target_share": share,
                          "target_minutes": minutes, "forecast": source, "hours": hours})
