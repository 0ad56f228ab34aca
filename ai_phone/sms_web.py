"""Twilio's SMS webhooks and the SMS sender of the web process.

Plugged into `queue_server.app.create_app` through the entry point group
``madoguchi.web`` (``sms = "ai_phone.sms_web:setup"``), so queue_server
imports nothing from ai_phone.

- ``POST /twilio/sms-status``: delivery reports (MessageSid, MessageStatus).
- ``POST /twilio/sms-inbound``: replies. キャンセル / CANCEL / 취소 / 取消 /
  HỦY cancels the sender's booking through the handler that bookings
  registers with `set_inbound_cancel_handler`; the answer is TwiML.

Both check ``X-Twilio-Signature`` against the URL rebuilt from the
configured public base URL (behind a TLS proxy the app sees another URL
than the one Twilio signed) and refuse anything else with 403.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from ai_phone.sms import STATUS_PATH, SmsSender, twilio_client
from queue_server.context import CONTEXT, ctx
from queue_server.errors import MadoguchiError
from queue_server.phones import parse_japanese_phone
from queue_server.sms_outbox import SmsOutbox, normalise_lang, render

log = logging.getLogger("madoguchi.sms")
INBOUND_PATH = "/twilio/sms-inbound"

# A whole reply that means "cancel my booking", after NFKC (half-width kana,
# full-width letters), case folding and trimming of spaces and punctuation,
# with the language to answer in when the booking does not say.
CANCEL_WORDS: dict[str, str] = {
    "キャンセル": "ja", "きゃんせる": "ja", "取り消し": "ja", "取消し": "ja", "とりけし": "ja",
    "cancel": "en",
    "취소": "ko",
    "取消": "zh-Hans",
    "hủy": "vi", "huỷ": "vi", "huy": "vi",
}
_TRIM = re.compile(r"^[\s\W_]+|[\s\W_]+$")


def cancel_word_lang(body: str) -> str | None:
    """The language of a cancel keyword, or None when the text is not one."""
    text = unicodedata.normalize("NFKC", body or "").casefold()
    text = unicodedata.normalize("NFC", _TRIM.sub("", text))
    return CANCEL_WORDS.get(text)


@dataclass
class CancelResult:
    """What the booking side did with an SMS cancel: how many bookings it
    cancelled, their language and parameters for the reply (e.g. slot)."""

    cancelled: int
    lang: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


# handler(app, phone_e164) -> CancelResult | int | None
CancelHandler = Callable[[web.Application, str], Awaitable["CancelResult | int | None"]]
_cancel_handler: CancelHandler | None = None


def set_inbound_cancel_handler(handler: CancelHandler | None) -> None:
    """Bookings registers here what an SMS cancel does: called with the app
    and the sender's number (E.164); returns what it cancelled."""
    global _cancel_handler
    _cancel_handler = handler


@dataclass
class SmsRuntime:
    outbox: SmsOutbox
    sender: SmsSender | None  # None: sending is off in this process
    task: asyncio.Task[None] | None = None  # the sender's loop


SMS = web.AppKey("madoguchi_sms", SmsRuntime)


def sms(app: web.Application) -> SmsRuntime:
    return app[SMS]


# -- signatures ---------------------------------------------------------------


async def signed_form(request: web.Request) -> MultiDictProxy[Any]:
    """The POSTed form, if Twilio signed it; else 403 invalid_signature."""
    settings = ctx(request).settings
    signature = request.headers.get("X-Twilio-Signature", "")
    form = await request.post()
    url = settings.public_base_url + request.raw_path
    token = settings.twilio_auth_token
    if not token or not signature or not RequestValidator(token).validate(url, form, signature):
        log.warning("twilio webhook with a bad signature",
                    extra={"route": request.match_info.route.name})
        raise MadoguchiError("invalid_signature")
    return form


# -- handlers ---------------------------------------------------------------------


async def sms_status(request: web.Request) -> web.Response:
    form = await signed_form(request)
    sid = str(form.get("MessageSid") or form.get("SmsSid") or "")
    status = str(form.get("MessageStatus") or form.get("SmsStatus") or "")
    if not sid or not status:
        raise MadoguchiError("bad_request")
    await sms(request.app).outbox.status_callback(sid, status, str(form.get("ErrorCode") or ""))
    return web.Response(status=204)


def twiml(text: str | None) -> web.Response:
    reply = MessagingResponse()
    if text:
        reply.message(text)
    return web.Response(text=str(reply), content_type="application/xml", charset="utf-8")


async def sms_inbound(request: web.Request) -> web.Response:
    form = await signed_form(request)
    lang = cancel_word_lang(str(form.get("Body") or ""))
    if lang is None:
        return twiml(None)
    try:
        phone = parse_japanese_phone(str(form.get("From") or ""))
    except MadoguchiError:
        return twiml(None)
    handler = _cancel_handler
    if handler is None:
        return twiml(render("inbound_unavailable", lang, {}))
    try:
        result = await handler(request.app, phone)
    except MadoguchiError:
        result = None
    except Exception:
        log.exception("sms cancel handler failed")
        return twiml(render("inbound_unavailable", lang, {}))
    if isinstance(result, int):
        result = CancelResult(result)
    if result is None or result.cancelled <= 0:
        return twiml(render("inbound_nothing", lang, {}))
    return twiml(render("inbound_cancelled", normalise_lang(result.lang or lang), result.params))


# -- set-up ---------------------------------------------------------------------------


async def _runtime(app: web.Application) -> AsyncIterator[None]:
    c = app[CONTEXT]
    s = c.settings
    outbox = c.sms
    sender: SmsSender | None = None
    task: asyncio.Task[None] | None = None
    if s.sms_enabled:
        client = twilio_client(s.twilio_account_sid, s.twilio_auth_token, s.twilio_api_base)
        sender = SmsSender(outbox, client, s.twilio_from, s.public_base_url,
                           office_lookup=c.engine.office)
        task = asyncio.create_task(
            sender.run_forever(c.engine.office_ids, interval=s.sms_poll_ms / 1000))
        log.info("sms sending on", extra={"api": s.twilio_api_base or "twilio"})
    else:
        log.info("sms sending off: set MADOGUCHI_TWILIO_ACCOUNT_SID, MADOGUCHI_TWILIO_AUTH_TOKEN"
                 " and MADOGUCHI_TWILIO_FROM to send SMS")
    app[SMS] = SmsRuntime(outbox, sender, task)
    yield
    if sender is not None and task is not None:
        # Let a round in progress finish (a send is bounded by its timeout),
        # so no message is left leased; cancel only if it overstays.
        sender.stop()
        try:
            await asyncio.wait_for(asyncio.shield(task), sender.timeout + 5)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await sender.close()


async def cancel_next_booking(app: web.Application, phone: str) -> CancelResult:
    """The default SMS-cancel: the sender's next booking, in any office."""
    booking = await app[CONTEXT].bookings.cancel_next_by_phone(phone)
    if booking is None:
        return CancelResult(0)
    return CancelResult(1, booking["lang"], {"slot": booking["slot_start"]})


def setup(app: web.Application) -> None:
    if _cancel_handler is None:
        set_inbound_cancel_handler(cancel_next_booking)
    app.router.add_post(STATUS_PATH, sms_status, name="twilio_sms_status")
    app.router.add_post(INBOUND_PATH, sms_inbound, name="twilio_sms_inbound")
    app.cleanup_ctx.append(_runtime)
