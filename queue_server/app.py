"""The web process: aiohttp application, middlewares and the ops endpoints."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib.metadata import entry_points

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from . import (
    admin_pages,
    api,
    api_admin,
    api_bookings,
    api_printing,
    api_staff,
    api_stats,
    card_relay,
    dashboard_pages,
    http_server,
    idempotency,
    jobs,
    login_pages,
    openapi,
    redis_checks,
    sessions,
    staff_pages,
    start_pages,
    websockets,
)
from .auth import Tokens
from .bookings import Bookings
from .clock import Clock, system_clock
from .connections import connect
from .context import CONTEXT, AppContext, ctx
from .engine import Engine
from .errors import MadoguchiError
from .hub import Hub
from .metrics import Metrics
from .settings import Settings
from .sms_outbox import SmsLimits, SmsOutbox

log = logging.getLogger("madoguchi.http")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type",
}


def _error(exc: MadoguchiError) -> web.Response:
    response = web.Response(text=json.dumps(exc.body(), ensure_ascii=False), status=exc.status,
                            content_type="application/json")
    if "retry_after" in exc.details:  # a pause (429): when to try again, in seconds
        response.headers["Retry-After"] = str(int(exc.details["retry_after"]))
    return response


@web.middleware
async def errors_and_logs(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure becomes {"error": {code, message}}; every request is
    logged by route name (paths carry ticket ids, which are capabilities)."""
    started = time.perf_counter()
    route = request.match_info.route.name or "unmatched"
    current = idempotency.CURRENT.set(None)
    try:
        attempt = await idempotency.begin(
            request, request.cookies.get(sessions.cookie_name(ctx(request).settings)))
        idempotency.CURRENT.set(attempt)
        response = await handler(request)
        if attempt is not None and attempt.replayed:
            response.headers["Idempotent-Replayed"] = "true"
    except MadoguchiError as exc:
        response = _error(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = HTTP_CODES.get(exc.status, "bad_request")
        response = _error(MadoguchiError(code))
        response.set_status(exc.status)
        if "Allow" in exc.headers:  # 405 says which methods there are
            response.headers["Allow"] = exc.headers["Allow"]
    except (RedisError, OSError) as exc:
        log.error("data store unavailable", extra={"route": route, "error": type(exc).__name__})
        # A request that changes state may have reached Redis before the
        # failure (a time-out does not stop a queued script): the outcome is
        # unknown, and "try again" could do it twice.
        unknown = request.method not in sessions.SAFE_METHODS
        response = _error(MadoguchiError("outcome_unknown" if unknown else "unavailable"))
    except Exception:
        # A bug, not bad input: still a JSON error, and the trace in the log.
        log.exception("unhandled error", extra={"route": route})
        response = _error(MadoguchiError("internal"))
    finally:
        idempotency.CURRENT.reset(current)
    elapsed = time.perf_counter() - started
    ctx(request).metrics.requests.labels(request.method, route, str(response.status)).observe(
        elapsed)
    log.info("request", extra={"method": request.method, "route": route,
                                "status": response.status, "ms": round(elapsed * 1000, 2)})
    return response


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    try:
        await ctx(request).redis.ping()
    except (RedisError, OSError):
        return web.json_response({"status": "redis unreachable"}, status=503)
    # Still ready with warnings (Redis's persistence settings, checked at start).
    warnings = request.app.get(redis_checks.WARNINGS)
    return web.json_response({"status": "ready", **({"warnings": warnings} if warnings else {})})


async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(ctx(request).metrics.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(openapi.document())


def create_app(settings: Settings, redis: Redis | None = None,
               clock: Clock = system_clock) -> web.Application:
    """The web app. Without `redis` it connects on start-up (starting the
    embedded Redis when REDIS_URL is unset) and disconnects on clean-up.
    `clock`: the time the engine, bookings and SMS run on (tests move it)."""
    app = web.Application(
        middlewares=[errors_and_logs, http_server.body_deadline(settings.body_timeout_seconds)],
        client_max_size=settings.max_body_bytes,
        # Also the header-read timeout: a connection without a whole request
        # head in this time is closed (queue_server.http_server).
        handler_args={"keepalive_timeout": settings.header_timeout_seconds})

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        async with connect(settings, redis) as client:
            engine = Engine(client, settings.tenant, clock=clock,
                            stream_maxlen=settings.stream_maxlen)
            hub = Hub(client, lambda office: engine.keys(office).events)
            secret = await jobs.tenant_secret(client, settings.tenant, settings.secret_key)
            await redis_checks.check(app, client)
            # One outbox per process: bookings queue into it (when sending is
            # configured), the sender drains it, staff read its state.
            outbox = SmsOutbox(client, settings.tenant, clock, limits=SmsLimits(
                settings.sms_limit_phone_day, settings.sms_limit_office_day,
            ))
            bookings = Bookings(engine, secret, outbox if settings.sms_enabled else None)
            app[CONTEXT] = AppContext(settings, client, engine, Tokens(client, settings.tenant),
                                      hub, Metrics(), bookings, outbox)
            stop = asyncio.Event()
            periodic = asyncio.create_task(jobs.run_until(stop, engine, bookings))
            yield
            stop.set()
            await periodic
            await hub.close()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_routes(api.routes)
    app.router.add_routes(api_bookings.routes)
    app.router.add_routes(api_printing.routes)
    app.router.add_routes(card_relay.routes)  # /api/v1/kiosk/card-key, /card-read
    app.router.add_routes(api_stats.routes)
    app.router.add_routes(api_staff.routes)
    app.router.add_routes(api_admin.routes)
    websockets.setup(app)
    login_pages.setup(app, clock)  # /login, /logout, /account/password, /api/v1/session
    admin_pages.setup(app)  # /admin, /admin/offices/{office}, /admin/tokens, /admin/audit
    staff_pages.setup(app)  # /staff, /staff/{office}/config.json
    dashboard_pages.setup(app)  # /dashboard, /dashboard/stats, /dashboard/staffing
    start_pages.setup(app)  # / (people: the offices' pages; Accept JSON: the same as JSON)
    app.router.add_get("/api/v1/openapi.json", openapi_json, name="openapi")
    app.router.add_get("/healthz", healthz, name="healthz")
    app.router.add_get("/readyz", readyz, name="readyz")
    app.router.add_get("/metrics", metrics, name="metrics")
    # Parts that live in other packages (SMS webhooks, pages) plug in here,
    # so queue_server imports nothing from them.
    for entry in entry_points(group="madoguchi.web"):
        entry.load()(app)
    return app
