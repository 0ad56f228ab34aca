"""Announcements over HTTP, for the lobby display (DESIGN §11).

- ``GET /api/v1/offices/{office}/announcement?number=A-023&counter=3&recall=0``:
  the chime URL and, per language of the office's display settings (in the
  order they are spoken), the speech text and the URL of its audio, or null
  when there is none (the page then uses the browser's speech synthesis).
- ``GET /audio/{sha256}.wav``: a synthesised file; ``GET /audio/chime.wav``.

Audio is made (or taken from the cache) only for a number and counter among
the office's recent calls, so nobody can make the server synthesise texts
of their choosing; the texts themselves are public anyway. Synthesis is
time-boxed per request and runs in the worker process of `displays.tts`,
never on the event loop; any failure gives ``audio: null``, never a 500.

Plugged in through the ``madoguchi.web`` entry point
(``announcements = "displays.announce_web:setup"``).

Environment: ``MADOGUCHI_TTS_RATE`` (words per minute, default 130),
``MADOGUCHI_TTS_TIMEOUT`` (seconds one request waits for audio, default 10).
Files go to ``<MADOGUCHI_VAR_DIR>/announce-audio``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from queue_server import openapi
from queue_server.context import CONTEXT, ctx
from queue_server.errors import MadoguchiError
from queue_server.office_config import Office
from queue_server.pages import OFFICE_RE

from .announce_text import announcement, display_number, parse_number
from .tts import DEFAULT_RATE, Synthesizer, chime_wav

log = logging.getLogger("madoguchi.announce")

CHIME_URL = "/audio/chime.wav"
AUDIO_DIR = "announce-audio"
# The file name is its content's hash: it never changes, so caches may keep it.
IMMUTABLE = "public, max-age=31536000, immutable"
RECALL_VALUES = {"0": False, "false": False, "": False, "1": True, "true": True}


@dataclass
class AnnounceRuntime:
    synth: Synthesizer
    timeout: float  # seconds one request waits for its audio


ANNOUNCE = web.AppKey("madoguchi_announce", AnnounceRuntime)


def _float_env(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


def audio_url(key: str) -> str:
    return f"/audio/{key}.wav"


# -- the announcement --------------------------------------------------------------


async def _office(request: web.Request) -> Office:
    office_id = request.match_info["office"]
    if not OFFICE_RE.match(office_id):
        raise MadoguchiError("unknown_office")
    return await ctx(request).engine.office(office_id)


def _is_recent(status: dict[str, Any], number: str, counter_id: str) -> bool:
    return any(
        call.get("number") == number and (call.get("counter") or {}).get("id") == counter_id
        for call in status.get("recent_calls") or []
    )


async def _audio(runtime: AnnounceRuntime, texts: list[tuple[str, str]]) -> dict[str, str | None]:
    """lang -> audio URL for the texts, each None when not ready in time."""
    tasks = {lang: asyncio.ensure_future(runtime.synth.wav(text, lang)) for lang, text in texts}
    done, pending = await asyncio.wait(tasks.values(), timeout=runtime.timeout)
    for task in pending:
        # Stops only our waiting: the synthesis goes on into the cache.
        task.cancel()
    urls: dict[str, str | None] = {}
    for lang, task in tasks.items():
        path = None
        if task in done:
            if task.exception() is not None:
                log.warning("announcement audio failed",
                            extra={"lang": lang, "error": type(task.exception()).__name__})
            else:
                path = task.result()
        urls[lang] = audio_url(path.stem) if path is not None else None
    return urls


async def get_announcement(request: web.Request) -> web.Response:
    office = await _office(request)
    query = request.query
    try:
        letter, value = parse_number(query.get("number", ""))
    except ValueError as exc:
        raise MadoguchiError("bad_request", str(exc), field="number") from None
    if not any(s.letter == letter for s in office.services):
        raise MadoguchiError("unknown_service", f"no service of this office has the letter "
                             f"{letter}", field="number")
    counter_id = query.get("counter", "")
    if not counter_id:
        raise MadoguchiError("bad_request", "give the counter id", field="counter")
    counter = office.counter(counter_id)
    if counter is None:
        raise MadoguchiError("unknown_counter")
    recall = RECALL_VALUES.get(query.get("recall", "").lower())
    if recall is None:
        raise MadoguchiError("bad_request", "recall is 0 or 1", field="recall")

    number = display_number(letter, value)
    texts = [(lang, announcement(letter, value, counter, lang, recall))
             for lang in office.display.languages]
    status = await ctx(request).engine.status(office.id)
    if _is_recent(status, number, counter.id):
        urls = await _audio(request.app[ANNOUNCE], texts)
    else:
        urls = {}
    body = {
        "office": office.id,
        "number": number,
        "counter": counter.id,
        "recall": recall,
        "chime": CHIME_URL,
        "items": [{"lang": lang, "text": text, "audio": urls.get(lang)} for lang, text in texts],
    }
    # Whether audio is offered changes as calls are made: never cached.
    return web.json_response(body, dumps=_dumps, headers={"Cache-Control": "no-store"})


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


# -- audio files ----------------------------------------------------------------------


async def audio_file(request: web.Request) -> web.StreamResponse:
    path = request.app[ANNOUNCE].synth.cached(request.match_info["key"])
    if path is None:
        raise MadoguchiError("not_found")
    response = web.FileResponse(path)
    response.headers["Content-Type"] = "audio/wav"
    response.headers["Cache-Control"] = IMMUTABLE
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


async def chime(request: web.Request) -> web.Response:
    return web.Response(body=chime_wav(), content_type="audio/wav", headers={
        "Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"})


# -- set-up ---------------------------------------------------------------------------------


async def _runtime(app: web.Application) -> AsyncIterator[None]:
    settings = app[CONTEXT].settings
    # The worker starts on the first announcement, not here: a server whose
    # displays never ask for audio runs no synthesis process.
    synth = Synthesizer(settings.var_dir / AUDIO_DIR,
                        rate=int(_float_env("MADOGUCHI_TTS_RATE", DEFAULT_RATE)))
    app[ANNOUNCE] = AnnounceRuntime(synth, _float_env("MADOGUCHI_TTS_TIMEOUT", 10.0))
    yield
    await synth.close()


def setup(app: web.Application) -> None:
    chime_wav()  # ~0.1 s of arithmetic: here, not on the event loop of the first request
    app.router.add_get("/api/v1/offices/{office}/announcement", get_announcement,
                       name="announcement")
    app.router.add_get(CHIME_URL, chime, name="announcement_chime")
    app.router.add_get("/audio/{key:[0-9a-f]{64}}.wav", audio_file, name="announcement_audio")
    app.cleanup_ctx.append(_runtime)
    openapi.register({"/api/v1/offices/{office}/announcement": {"get": openapi.op(
        "Speech texts of a call per display language, with the chime and server audio "
        "(audio only for a recent call; null: use the browser's speech synthesis)",
        [openapi.param("office", desc="Office id, e.g. kokurakita"),
         openapi.param("number", "query", "Ticket number, e.g. A-023"),
         openapi.param("counter", "query", "Counter id"),
         openapi.param("recall", "query", "1 when the call is a recall", required=False)],
        {"200": "office, number, counter, recall, chime URL and items [{lang, text, audio}]"},
        errors=(400, 404))}})
