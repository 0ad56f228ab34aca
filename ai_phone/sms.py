"""Sends the SMS outbox through Twilio.

`SmsSender.run_once(office)` claims the office's due messages (leased: no
other sender can take them), renders each text from the catalogs, sends it
with the real `twilio` client and reports the outcome to the outbox: sent
(with Twilio's SID), retry after back-off (timeouts, 5xx, 429, network) or
failed for good (Twilio's 400: invalid or unreachable number). Nothing here
can block or undo a booking: the booking only ever wrote to the outbox.

Client choice: twilio's async client (`AsyncTwilioHttpClient` +
`create_async`) rather than the blocking client in a thread. A send that
hangs is cancelled cleanly by `asyncio.timeout`, while a blocked
`requests` call in `asyncio.to_thread` cannot be stopped and would hold a
pool thread. Note (twilio 9.13, checked): AsyncTwilioHttpClient ignores its
own `timeout` argument (it passes the per-call timeout, None, to aiohttp,
which means "no timeout"), so the timeout here is `asyncio.timeout` around
each call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import aiohttp
from redis.exceptions import RedisError
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from queue_server.errors import MadoguchiError
from queue_server.office_config import Office
from queue_server.sms_outbox import (
    LEASE_SECONDS,
    SmsMessage,
    SmsOutbox,
    normalise_lang,
    render,
)

log = logging.getLogger("madoguchi.sms")
# twilio's HTTP client logs every request at INFO: keep it quiet.
_twilio_http_log = logging.getLogger("madoguchi.sms.twilio_http")
_twilio_http_log.setLevel(logging.WARNING)

STATUS_PATH = "/twilio/sms-status"
OfficeLookup = Callable[[str], Awaitable[Office]]
Offices = Iterable[str] | Callable[[], Awaitable[Iterable[str]]]


def twilio_client(account_sid: str, auth_token: str, api_base: str = "") -> Client:
    """The real twilio client on its async HTTP client; `api_base` points it
    at another host (a local fake in tests) instead of https://api.twilio.com.
    Create it inside the event loop (the HTTP client opens an aiohttp session)."""
    http = AsyncTwilioHttpClient(logger=_twilio_http_log)
    client = Client(account_sid, auth_token, http_client=http)
    if api_base:
        client.api.base_url = api_base.rstrip("/")
    return client


@dataclass
class Outcome:
    sent: int = 0
    retry: int = 0
    failed: int = 0
    claimed: int = 0


class SmsSender:
    def __init__(
        self,
        outbox: SmsOutbox,
        client: Client,
        from_: str,
        public_base_url: str,
        *,
        office_lookup: OfficeLookup | None = None,
        batch: int = 10,
        timeout: float = 10.0,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        if lease_seconds <= timeout * 2:
            raise ValueError("the lease must outlast a send (timeout) comfortably")
        self.outbox = outbox
        self.client = client
        self.from_ = from_
        self.public_base_url = public_base_url.rstrip("/")
        self.office_lookup = office_lookup
        self.batch = batch
        self.timeout = timeout
        self.lease_seconds = lease_seconds
        self._stop = asyncio.Event()

    @property
    def status_callback(self) -> str:
        return self.public_base_url + STATUS_PATH

    async def close(self) -> None:
        http = self.client.http_client
        if isinstance(http, AsyncTwilioHttpClient):
            await http.close()

    # -- one round ------------------------------------------------------------

    async def run_once(self, office: str) -> Outcome:
        """Claim up to `batch` due messages of the office and send them."""
        # The office (names for the texts) first: once messages are claimed
        # nothing may fail before each one has its outcome recorded.
        config = await self._office(office)
        messages = await self.outbox.claim(office, self.batch, self.lease_seconds)
        outcome = Outcome(claimed=len(messages))
        if not messages:
            return outcome
        results = await asyncio.gather(*(self._send(m, config) for m in messages))
        for result in results:
            setattr(outcome, result, getattr(outcome, result) + 1)
        return outcome

    async def _office(self, office: str) -> Office | None:
        if self.office_lookup is None:
            return None
        try:
            return await self.office_lookup(office)
        except MadoguchiError:
            return None

    def text(self, message: SmsMessage, office: Office | None) -> str:
        params: dict[str, Any] = dict(message.params)
        lang = message.lang
        if office is not None:
            params.setdefault("office", office.names.get(lang))
            counter = office.counter(str(params.get("counter_id", "")))
            if counter is not None and "counter" not in params:
                params["counter"] = counter.names.get(lang)
            service = office.service(str(params.get("service_id", "")))
            if service is not None and "service" not in params:
                params["service"] = service.names.get(lang)
        else:
            params.setdefault("office", message.office)
        own = office.sms_template(message.kind, normalise_lang(lang)) if office else None
        return render(message.kind, lang, params, base_url=self.public_base_url, template=own)

    async def _send(self, message: SmsMessage, office: Office | None) -> str:
        office_id = message.office
        try:
            body = self.text(message, office)
        except Exception:
            # A broken catalog or parameters: retrying cannot help.
            log.exception("sms text could not be rendered", extra={"kind": message.kind})
            await self.outbox.failed_attempt(office_id, message.id, "render_error",
                                             message.attempt, permanent=True)
            return "failed"
        error, permanent = "", False
        try:
            async with asyncio.timeout(self.timeout):
                sent = await self.client.api.v2010.account.messages.create_async(
                    to=message.to, from_=self.from_, body=body,
                    status_callback=self.status_callback,
                )
        except TwilioRestException as exc:
            # 400: Twilio refuses this message for good (invalid or blocked
            # number). 401/403/404: our configuration; 429/5xx: Twilio's
            # trouble — both may heal, so retry. The message text of the
            # exception can quote the phone number: never log or store it.
            permanent = exc.status == 400
            error = f"twilio {exc.status}/{exc.code}" if exc.code else f"http {exc.status}"
            level = logging.ERROR if exc.status in (401, 403, 404) else logging.WARNING
            log.log(level, "sms send refused", extra={"status": exc.status, "code": exc.code})
        except TimeoutError:
            error = "timeout"
            log.warning("sms send timed out", extra={"timeout": self.timeout})
        except (aiohttp.ClientError, OSError) as exc:
            error = f"connection {type(exc).__name__}"
            log.warning("sms send failed", extra={"error": type(exc).__name__})
        except Exception as exc:
            error = f"error {type(exc).__name__}"
            log.exception("sms send failed unexpectedly")
        else:
            await self.outbox.sent(office_id, message.id, str(sent.sid), message.attempt)
            return "sent"
        view = await self.outbox.failed_attempt(office_id, message.id, error, message.attempt,
                                                permanent=permanent)
        return "failed" if view["state"] == "failed" else "retry"

    # -- the loop ---------------------------------------------------------------

    def stop(self) -> None:
        """Finish the current round, then leave run_forever."""
        self._stop.set()

    async def run_forever(self, offices: Offices, interval: float = 2.0) -> None:
        """Send every office's due messages every `interval` seconds. Any
        number of processes may run this on the same Redis: the leases keep
        each message with one sender."""
        while not self._stop.is_set():
            ids = await offices() if callable(offices) else offices
            for office in ids:
                if self._stop.is_set():
                    break
                try:
                    # Drain a backlog, a batch at a time (bounded per round).
                    for _ in range(20):
                        outcome = await self.run_once(office)
                        if outcome.claimed < self.batch or self._stop.is_set():
                            break
                except (RedisError, OSError) as exc:  # Redis away: next round
                    log.error("sms round failed", extra={"error": type(exc).__name__})
                except Exception:  # a bug: the trace in the log, go on next round
                    log.exception("sms round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), interval)
