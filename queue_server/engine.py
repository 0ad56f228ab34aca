"""The queue engine: every state change is one Lua script (one atomic Redis
operation that also appends its event), so any number of processes share
one truth. Used as a library by the API, the phone line and the kiosk."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from redis.asyncio import Redis

from . import estimates, idempotency
from .clock import Clock, business_day, day_start_ts, iso, iso_ms, local, system_clock
from .errors import MadoguchiError
from .keys import OfficeKeys, offices_key
from .office_config import Office
from .scripts import Scripts

Channel = Literal["kiosk", "phone", "online", "staff"]
CounterState = Literal["open", "paused", "closed"]
CONFIG_CACHE_SECONDS = 2.0
TICKET_TTL_SECONDS = 7 * 24 * 3600


def new_ticket_id(office: str) -> str:
    # The office travels in the id so a lookup goes straight to the office's
    # slot; the 128 random bits are the capability.
    return f"{office}.{secrets.token_urlsafe(16)}"


def office_of_ticket(ticket_id: str) -> str:
    office, sep, rand = ticket_id.partition(".")
    if not sep or len(rand) < 22:
        raise MadoguchiError("unknown_ticket")
    return office


@dataclass
class _Cached:
    office: Office
    loaded: float


class Engine:
    def __init__(
        self,
        redis: Redis,
        tenant: str,
        clock: Clock = system_clock,
        stream_maxlen: int = 10_000,
    ) -> None:
        self.redis = redis
        self.tenant = tenant
        self.clock = clock
        self.stream_maxlen = stream_maxlen
        self.scripts = Scripts(redis)
        self._offices: dict[str, _Cached] = {}

    def keys(self, office: str) -> OfficeKeys:
        return OfficeKeys(self.tenant, office)

    # -- configuration -------------------------------------------------

    async def configure(self, office: Office) -> int:
        """Store an office's configuration (validated) in one atomic step."""
        mirror = {
            "services": [
                {
                    "id": s.id,
                    "letter": s.letter,
                    "name": s.names.ja,
                    "walk_in": "1" if s.walk_in else "0",
                    "max_wait_ms": s.max_wait_minutes * 60_000,
                    "expected_ms": int(s.expected_minutes * 60_000),
                    "early_call": office.booking.early_call,
                }
                for s in office.services
            ],
            "counters": [
                {"id": c.id, "name": c.names.ja, "services": ",".join(c.services), "order": c.order}
                for c in office.counters
            ],
            # The forecast's "today" starts at local midnight (zone offset now).
            "utc_offset_ms": int(
                (local(self.clock(), office.timezone).utcoffset() or timedelta()).total_seconds()
                * 1000),
        }
        # None is kept: for some settings it means something (reminder_time:
        # None = no reminder SMS), and dropping it would restore the default.
        doc = office.model_dump_json(by_alias=True)
        result = await self.run_script(office, "apply_config", doc, json.dumps(mirror))
        await self.redis.sadd(offices_key(self.tenant), office.id)
        self._offices[office.id] = _Cached(office, time.monotonic())
        return int(result["version"])

    async def office(self, office_id: str) -> Office:
        cached = self._offices.get(office_id)
        if cached and time.monotonic() - cached.loaded < CONFIG_CACHE_SECONDS:
            return cached.office
        raw = await self.redis.get(self.keys(office_id).config)
        if raw is None:
            self._offices.pop(office_id, None)
            raise MadoguchiError("unknown_office")
        office = Office.model_validate_json(raw)
        self._offices[office_id] = _Cached(office, time.monotonic())
        return office

    async def office_ids(self) -> list[str]:
        ids = await self.redis.smembers(offices_key(self.tenant))
        return sorted(i.decode() if isinstance(i, bytes) else i for i in ids)

    # -- plumbing ------------------------------------------------------

    async def run_script(self, office: Office, script: str, *args: Any) -> dict[str, Any]:
        now = self.clock()
        keys = self.keys(office.id)
        base = [keys.prefix, office.id, int(now * 1000), iso(now, office.timezone),
                self.stream_maxlen]
        # A request's Idempotency-Key goes with the script that makes its
        # change: the script keeps the key and the outcome with the change.
        attempt = idempotency.claim(script)
        extra_keys: list[str] = []
        extra_args: list[Any] = []
        if attempt is not None:
            extra_keys = [keys.k(attempt.key_suffix)]
            extra_args = [attempt.fingerprint, idempotency.KEEP_SECONDS]
        result = await self.scripts.run(script, [keys.events, *extra_keys],
                                        [*base, *args, *extra_args])
        if result.pop("replayed", False) and attempt is not None:
            attempt.replayed = True
        if "error" in result and attempt is not None:
            # A refusal changed and stored nothing: the key goes with the
            # request's next try of a change (a booking whose code was taken).
            attempt.used = False
        if "error" in result:
            code = result.pop("error")
            result.pop("ok", None)
            raise MadoguchiError(code, **result)
        return result

    # -- tickets -------------------------------------------------------

    async def issue_ticket(
        self,
        office_id: str,
        service: str,
        *,
        channel: Channel = "kiosk",
        lang: str = "ja",
        priority: bool = False,
        remote: bool = False,
        due_at: float | None = None,
        walk_in: bool = True,
        phone: str = "",
        hold: bool = False,
    ) -> dict[str, Any]:
        """`phone` (E.164, remote tickets only): where "near" / "come now"
        SMS go; kept only while the ticket is remote. `hold`: a ticket whose
        forecast wait reaches the office's ticket.come_back_minutes is held
        (state "held", issue 11): told a come-back time (`come_back_by`), not
        called before it is back (POST /tickets/{id}/arrive)."""
        office = await self.office(office_id)
        now = self.clock()
        view = await self.run_script(
            office,
            "issue_ticket",
            new_ticket_id(office.id),
            service,
            channel,
            business_day(now, office.timezone),
            "1" if priority else "0",
            office.queue.priority_minutes * 60_000,
            lang,
            "remote" if remote else "waiting",
            "" if due_at is None else int(due_at * 1000),
            TICKET_TTL_SECONDS,
            "1" if walk_in else "0",
            phone if remote else "",
            office.ticket.come_back_minutes * 60_000 if hold and not remote else "",
        )
        return self.ticket_dict(office, view)

    async def call_next(self, office_id: str, counter: str) -> dict[str, Any] | None:
        office = await self.office(office_id)
        day_start = day_start_ts(self.clock(), office.timezone)
        view = await self.run_script(office, "call_next", counter, int(day_start * 1000))
        if not view.get("ticket"):
            return None
        return self.ticket_dict(office, view)

    async def _counter_action(
        self, office_id: str, script: str, counter: str, expect: str | None, *extra: Any
    ) -> dict[str, Any]:
        office = await self.office(office_id)
        view = await self.run_script(office, script, counter, expect or "", *extra)
        return self.ticket_dict(office, view)

    async def recall(self, office_id: str, counter: str, expect: str | None = None) -> dict:
        return await self._counter_action(office_id, "recall", counter, expect)

    async def start(self, office_id: str, counter: str, expect: str | None = None) -> dict:
        return await self._counter_action(office_id, "start", counter, expect)

    async def finish(self, office_id: str, counter: str, expect: str | None = None) -> dict:
        return await self._counter_action(office_id, "finish", counter, expect)

    async def no_show(self, office_id: str, counter: str, expect: str | None = None) -> dict:
        office = await self.office(office_id)
        return await self._counter_action(
            office_id, "no_show", counter, expect, office.queue.max_recalls
        )

    async def park(self, office_id: str, counter: str, expect: str | None = None) -> dict:
        return await self._counter_action(office_id, "park", counter, expect)

    async def transfer(
        self,
        office_id: str,
        counter: str,
        *,
        service: str | None = None,
        to_counter: str | None = None,
        expect: str | None = None,
    ) -> dict[str, Any]:
        return await self._counter_action(
            office_id, "transfer", counter, expect, service or "", to_counter or ""
        )

    async def _ticket_action(self, ticket_id: str, script: str, *extra: Any) -> dict[str, Any]:
        office = await self.office(office_of_ticket(ticket_id))
        return self.ticket_dict(office, await self.run_script(office, script, ticket_id, *extra))

    async def resume(self, ticket_id: str, counter: str | None = None) -> dict[str, Any]:
        return await self._ticket_action(ticket_id, "resume", counter or "")

    async def rejoin(self, ticket_id: str) -> dict[str, Any]:
        office = await self.office(office_of_ticket(ticket_id))
        return await self._ticket_action(ticket_id, "rejoin", office.queue.rejoin_minutes * 60_000)

    async def cancel(self, ticket_id: str) -> dict[str, Any]:
        return await self._ticket_action(ticket_id, "cancel")

    async def set_counter_state(
        self, office_id: str, counter: str, state: CounterState
    ) -> dict[str, Any]:
        office = await self.office(office_id)
        result = await self.run_script(office, "set_counter_state", counter, state)
        return {"counter": counter, "state": result["state"], "previous": result["previous"]}

    # -- reads ---------------------------------------------------------

    async def ticket(self, ticket_id: str) -> dict[str, Any]:
        """The ticket as its holder sees it: state, people ahead, estimate,
        counter when called. No personal data."""
        office = await self.office(office_of_ticket(ticket_id))
        return self.ticket_dict(office, await self.run_script(office, "ticket_view", ticket_id))

    async def forecast(self, office_id: str, services: tuple[str, ...] = ()) -> dict[str, Any]:
        """The office's forecast (forecast.lua): {ticket id: {at, low (ms),
        counter, seq}}, plus "+<service>" for a walk-in joining now."""
        office = await self.office(office_id)
        result = await self.run_script(office, "forecast", ",".join(services))
        return result["forecast"] or {}

    @staticmethod
    def ticket_dict(office: Office, view: dict[str, Any]) -> dict[str, Any]:
        t = view["ticket"]
        tz = office.timezone
        ahead = view["ahead"]
        fc = view.get("forecast") or None
        wait = estimates.forecast_wait_ms(fc, view.get("now", 0))
        if wait is not None and view.get("until_due_ms"):
            wait = max(wait, int(view["until_due_ms"]))
        return {
            "id": t["id"],
            "office": t["office"],
            "number": t["number"],
            "service": t["service"],
            "channel": t["channel"],
            "state": t["state"],
            "priority": t["priority"] == "1",
            "lang": t["lang"],
            "due_at": iso_ms(t["due"], tz),
            "issued_at": iso_ms(t["issued_at"], tz),
            "called_at": iso_ms(t.get("called_at"), tz),
            "serving_at": iso_ms(t.get("serving_at"), tz),
            "done_at": iso_ms(t.get("done_at"), tz),
            "recalls": int(t.get("recalls") or 0),
            "ahead": ahead,
            "estimated_wait_minutes": estimates.minutes(wait),
            # The forecast's expected call and its low quantile (issue 11).
            "expected_call_at": iso_ms(fc["at"], tz) if fc else None,
            "call_low_at": iso_ms(fc["low"], tz) if fc else None,
            # Away (remote, held): when to be back — never past, on the safe
            # side of the forecast; the ticket is not called before.
            "come_back_by": (
                iso_ms(t.get("back_at"), tz) if t["state"] in ("remote", "held") else None
            ),
            "counter": view["counter"],
            "target_counter": t.get("target") or None,
            "last_event": view["last_event"],
        }

    async def status(self, office_id: str) -> dict[str, Any]:
        """The live board: public, no ticket ids, no personal data."""
        office = await self.office(office_id)
        raw = await self.run_script(office, "office_status")
        tz = office.timezone
        order = {c.id: i for i, c in enumerate(office.counters)}
        # Lua's cjson writes an empty list as {}: normalise.
        counters = sorted(raw["counters"] or [], key=lambda c: order.get(c["id"], len(order)))
        for c in counters:
            if c["ticket"]:
                c["ticket"]["since"] = iso_ms(c["ticket"]["since"], tz)
        services = []
        now_ms = self.clock() * 1000
        for s in office.services:
            live = raw["services"].get(s.id, {})
            waiting = live.get("waiting", 0)
            oldest = live.get("oldest_due")
            fc = live.get("forecast") or None
            wait = estimates.forecast_wait_ms(fc, now_ms)
            services.append(
                {
                    "id": s.id,
                    "letter": s.letter,
                    "names": s.names.as_dict(),
                    "waiting": waiting,
                    "open_counters": round(live.get("open_counters", 0), 2),
                    "estimated_wait_minutes": estimates.minutes(wait),
                    "longest_wait_minutes": (
                        max(0, int((now_ms - oldest) // 60_000)) if oldest is not None else None
                    ),
                    "walk_in": s.walk_in,
                    "konbini": s.konbini,
                }
            )
        return {
            "office": office.id,
            "names": office.names.as_dict(),
            "at": iso(self.clock(), tz),
            "counters": counters,
            "services": services,
            "recent_calls": raw["recent"] or [],
            "last_event": raw["last_event"],
        }
