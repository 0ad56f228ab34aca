"""Serving the app: aiohttp's server, with malformed requests answered as
JSON and nothing of them echoed or logged.

aiohttp's HTTP parser refuses a malformed request (a header line over its
limit, a bad request line) before any handler or middleware runs, and its
``RequestHandler.handle_error`` answers with the parser's message in a
text/plain 400 and logs it with the traceback: the message quotes the
offending line, which is often a session cookie or a bearer token. Here
that answer is JSON (431 for an over-long header, 400 otherwise) without
any part of the request, and the log line names only the kind of error.

The idle and header-read timeout is the connection's keep-alive timeout
(aiohttp closes a connection that has not sent a whole request head within
it, set in the app's handler_args); the body-read timeout is the
body_deadline middleware's. Both are settings (MADOGUCHI_HEADER_TIMEOUT_SECONDS,
MADOGUCHI_BODY_TIMEOUT_SECONDS)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest
from aiohttp.web_server import Server

from .errors import MadoguchiError

log = logging.getLogger("madoguchi.http")


def error_response(exc: BaseException | None, status: int) -> web.Response:
    """The JSON answer to a request the parser refused (or a failure outside
    the app's middleware); nothing of the request is in it."""
    if isinstance(exc, LineTooLong):
        error = MadoguchiError("headers_too_large")
    elif status == HTTPStatus.REQUEST_TIMEOUT:
        error = MadoguchiError("request_timeout")
    elif 400 <= status < 500:
        error = MadoguchiError("bad_request")
    else:
        error = MadoguchiError("internal")
    response = web.Response(text=json.dumps(error.body()), status=error.status,
                            content_type="application/json")
    response.force_close()
    return response


class BodyTimeout(Exception):
    """The request's body did not arrive in time."""


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def body_deadline(seconds: float) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Middleware: a request's body must have arrived `seconds` after its
    head. Past that, whatever reads it gets BodyTimeout, and the client a
    408 and a closed connection (a client announcing 60,000 bytes and
    sending 11 held a connection and a handler for minutes)."""

    def expire(content: Any) -> None:
        if not content.is_eof():
            content.set_exception(BodyTimeout())

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        content = request.content
        if content.is_eof() or request.headers.get("Upgrade"):
            return await handler(request)
        timer = asyncio.get_running_loop().call_later(seconds, expire, content)
        try:
            return await handler(request)
        except BodyTimeout:
            return error_response(None, HTTPStatus.REQUEST_TIMEOUT)
        finally:
            timer.cancel()

    return middleware


class _Handler(RequestHandler):
    """aiohttp's connection handler, answering its own errors as above."""

    def handle_error(self, request: BaseRequest, status: int = 500,
                     exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        if isinstance(exc, HttpProcessingError) or 400 <= status < 500:
            # The parser's message quotes the request: only its kind is logged.
            log.warning("malformed request refused",
                        extra={"error": type(exc).__name__ if exc else None, "status": status})
        else:
            log.error("unhandled error outside the app",
                      extra={"error": type(exc).__name__ if exc else None})
        if request.writer.output_size > 0:
            raise ConnectionError("Response is sent already, cannot send another response")
        return error_response(exc, status)


class _Server(Server):
    def __call__(self) -> RequestHandler:
        return _Handler(self, loop=self._loop, **self._kwargs)


class Runner(web.AppRunner):
    """An AppRunner whose connections are served by _Handler."""

    async def _make_server(self) -> Server:
        made = await super()._make_server()
        return _Server(made.request_handler, request_factory=made.request_factory,
                       handler_cancellation=made.handler_cancellation,
                       loop=asyncio.get_running_loop(), **made._kwargs)


async def start(app: web.Application, host: str, port: int, **kwargs: Any) -> Runner:
    """Set up `app` and listen on host:port; the caller cleans the runner up."""
    runner = Runner(app, **kwargs)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner


def run_app(app: web.Application, *, host: str, port: int, loop: asyncio.AbstractEventLoop,
            print: Callable[..., None] | None = None, **kwargs: Any) -> None:
    """Like aiohttp.web.run_app (same signals: SIGINT and SIGTERM stop it
    cleanly), with the server above."""
    async def serve() -> None:
        runner = await start(app, host, port, handle_signals=True, **kwargs)
        try:
            if print is not None:
                print(f"======== Running on http://{host}:{port} ========")
            await asyncio.Event().wait()  # until a signal raises GracefulExit
        finally:
            await runner.cleanup()

    asyncio.set_event_loop(loop)
    task = loop.create_task(serve())
    try:
        loop.run_until_complete(task)
    except (web.GracefulExit, KeyboardInterrupt):
        pass
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, web.GracefulExit):
                loop.run_until_complete(task)
        loop.run_until_complete(loop.shutdown_asyncgens())
        asyncio.set_event_loop(None)
        loop.close()
