"""Bookings (予約), check-in on arrival and today's virtual queue — the
「待たない」 half. Every change is one Lua script (book, cancel_booking,
check_in, arrive, booking_no_shows) on the engine's plumbing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from . import calendar, idempotency, slots
from .clock import business_day, iso_ms, zone
from .engine import TICKET_TTL_SECONDS, Engine, new_ticket_id
from .errors import MadoguchiError
from .office_config import Office, Service
from .phones import is_japanese_mobile, mask, parse_japanese_phone
from .sms_outbox import DEFAULT_EXPIRY_SECONDS, SMS_ARGC, SmsOutbox

MAX_RANGE_DAYS = 31
PRESENCE_PERIOD_SECONDS = 300


@dataclass(frozen=True)
class PresenceLimits:
    """How many wrong lobby codes before a pause (presence_check.lua). Two
    codes of 10,000 are valid at any time: with 5 tries a pause, pauses of
    5, 10, 20, 40 and then 60 minutes, one booking or ticket gets about 130
    guesses a day (a 2-3 % chance), where 733 unlimited tries in 0.3 s found
    the code. The address limit is higher: a lobby's Wi-Fi or a carrier's
    NAT puts many honest phones behind one address."""

    per_subject: int = 5
    per_address: int = 20
    first_pause_seconds: int = 300
    longest_pause_seconds: int = 3600
    remember_seconds: int = 3600
NOTIFY_BATCH = 40  # message ids handed to one remote_notify run
PURGE_BATCH = 500


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def office_of_token(token: str) -> str:
    office, sep, rand = token.partition(".")
    if not sep or len(rand) < 32:
        raise MadoguchiError("unknown_booking")
    return office


@dataclass(frozen=True)
class Booked:
    booking: dict[str, Any]
    token: str  # shown once: the manage link is the capability


def new_booking_code() -> str:
    """Six digits that never start with 0: every Japanese phone number does,
    so a kiosk keypad tells a booking number from a phone number by its first
    digit (「予約の方」 takes either)."""
    return str(100_000 + secrets.randbelow(900_000))

class Bookings:
    def __init__(self, engine: Engine, secret: bytes, sms: SmsOutbox | None = None,
                 presence_limits: PresenceLimits | None = None) -> None:
        """`sms`: the outbox when SMS sending is configured; without it no
        message is queued (the booking says so)."""
        self.engine = engine
        self.secret = secret
        self.sms = sms
        self.presence_limits = presence_limits or PresenceLimits()

    def _sms(self, office: Office, to: str, kind: str, lang: str, params: dict[str, Any],
             ref: str, *, not_before: float | None = None, expires_at: float | None = None
             ) -> list[str]:
        if self.sms is None:
            return [""] * SMS_ARGC
        return self.sms.argv(to, kind, lang, params, ref, not_before=not_before,
                             expires_at=expires_at,
                             retention_seconds=office.booking.retention_days * 86400)

    def _reminder_at(self, office: Office, slot: slots.Slot) -> float | None:
        """When the day-before reminder goes out; None when reminders are off
        or that moment has passed already (the confirmation is fresh)."""
        at = office.booking.reminder_time
        if at is None:
            return None
        hour, minute = (int(x) for x in at.split(":"))
        day_before = slot.start.date() - timedelta(days=1)
        when = datetime(day_before.year, day_before.month, day_before.day, hour, minute,
                        tzinfo=zone(office.timezone)).timestamp()
        return when if when > self.engine.clock() else None

    def _now(self, office: Office) -> datetime:
        return datetime.fromtimestamp(self.engine.clock(), zone(office.timezone))

    async def _service(self, office_id: str, service_id: str) -> tuple[Office, Service]:
        office = await self.engine.office(office_id)
        service = office.service(service_id)
        if service is None:
            raise MadoguchiError("unknown_service")
        return office, service

    # -- availability ---------------------------------------------------

    async def availability(self, office_id: str, service_id: str, d: date) -> dict[str, Any]:
        office, service = await self._service(office_id, service_id)
        info = calendar.day(office, d)
        day_slots = slots.slots_of(info, service)
        free = await self._free(office, service, day_slots)
        rules = slots.Rules(service, self._now(office))
        out = [
            {"start": slot.start.isoformat(), "end": slot.end.isoformat(),
             "capacity": service.slot_capacity, "free": free[slot.start_ms]}
            for slot in day_slots if rules.check(slot) is None
        ]
        return {"office": office.id, "service": service.id, "date": d.isoformat(),
                **_day_fields(info), "slots": out}

    async def availability_range(
        self, office_id: str, service_id: str, start: date, end: date
    ) -> dict[str, Any]:
        if end < start or (end - start).days >= MAX_RANGE_DAYS:
            raise MadoguchiError("invalid_date")
        office, service = await self._service(office_id, service_id)
        rules = slots.Rules(service, self._now(office))
        infos = [calendar.day(office, d) for d in calendar.dates(start, end)]
        days = [(info, slots.slots_of(info, service)) for info in infos]
        free = await self._free(office, service, [s for _, day in days for s in day])
        out = []
        for info, day in days:
            n = sum(free[s.start_ms] for s in day if rules.check(s) is None)
            # Why the date picker greys a day out, so the page can say so.
            reason = rules.day_reason(info.date, day) or (None if n else "full")
            out.append({"date": info.date.isoformat(), **_day_fields(info), "free": n,
                        "bookable": reason is None, "reason": reason})
        return {"office": office.id, "service": service.id, "days": out}

    async def _free(self, office: Office, service: Service, all_slots: list[slots.Slot]
                    ) -> dict[int, int]:
        if not all_slots:
            return {}
        keys = self.engine.keys(office.id)
        taken = await self.engine.redis.mget(
            [keys.k(f"slot:{service.id}:{s.start_ms}") for s in all_slots]
        )
        return {s.start_ms: max(0, service.slot_capacity - int(t or 0))
                for s, t in zip(all_slots, taken, strict=True)}

    # -- booking --------------------------------------------------------

    async def book(
        self,
        office_id: str,
        service_id: str,
        slot_start: datetime,
        phone: str,
        *,
        name: str = "",
        lang: str = "ja",
        channel: str = "online",
        ip: str = "",
    ) -> Booked:
        office, service = await self._service(office_id, service_id)
        e164 = parse_japanese_phone(phone)
        slot = slots.find(office, service, slot_start)
        if slot is None:
            day = calendar.day(office, slot_start.astimezone(zone(office.timezone)).date())
            raise MadoguchiError("office_closed" if not day.open else "slot_unavailable")
        reason = slots.bookable(office, service, slot, self._now(office))
        if reason:
            raise MadoguchiError(reason)
        settings = office.booking
        expire_at = int(slot.end.timestamp()) + settings.retention_days * 86400
        for _attempt in range(5):  # a fresh code if one is taken
            token = self._new_token(office.id)
            booking_id = secrets.token_hex(8)
            params = {"slot": slot.start.isoformat(), "link": f"/b/{token}"}
            sms = self._sms(office, e164, "confirmation", lang, params, booking_id)
            remind_at = self._reminder_at(office, slot)
            reminder = [""] * SMS_ARGC if remind_at is None else self._sms(
                office, e164, "reminder", lang, params, booking_id, not_before=remind_at,
                expires_at=slot.start.timestamp())
            try:
                result = await self.engine.run_script(
                    office, "book", booking_id, token_digest(token),
                    new_booking_code(), service.id, slot.start_ms,
                    int(slot.end.timestamp() * 1000), service.slot_capacity, e164, name, lang,
                    channel, ip, settings.per_ip_per_hour, settings.max_active_per_phone,
                    expire_at, slot.start.strftime("%Y%m%d"), *sms, *reminder,
                )
            except MadoguchiError as exc:
                if exc.code == "code_taken":
                    continue
                raise
            booked = self._booking(office, result["booking"])
            booked["sms"] = "disabled" if self.sms is None and booked["sms_capable"] else (
                "not_mobile" if not booked["sms_capable"] else result["sms"])
            return Booked(booked, token)
        raise MadoguchiError("code_taken")

    def _new_token(self, office_id: str) -> str:
        """A booking's link token. Only its digest is stored, so a request
        with an Idempotency-Key derives it from the key (with the server's
        secret): its retry, answered from the stored outcome, can give the
        same link again."""
        attempt = idempotency.CURRENT.get()
        if attempt is None:
            return f"{office_id}.{secrets.token_urlsafe(24)}"
        mac = hmac.new(self.secret, f"booking-token:{office_id}:{attempt.key_suffix}".encode(),
                       hashlib.sha256).digest()
        return f"{office_id}.{base64.urlsafe_b64encode(mac).decode()[:32]}"

    async def change(self, token: str, slot_start: datetime) -> dict[str, Any]:
        """Move the booking to another slot of its service (the manage page's
        "change"), atomically: full → slot_full and the booking is unchanged."""
        office = await self.engine.office(office_of_token(token))
        found = (await self.engine.run_script(office, "booking_view", token_digest(token), ""))[
            "booking"]
        service = office.service(found["service"])
        if service is None:
            raise MadoguchiError("unknown_service")
        slot = slots.find(office, service, slot_start)
        if slot is None:
            day = calendar.day(office, slot_start.astimezone(zone(office.timezone)).date())
            raise MadoguchiError("office_closed" if not day.open else "slot_unavailable")
        reason = slots.bookable(office, service, slot, self._now(office))
        if reason:
            raise MadoguchiError(reason)
        old_day = datetime.fromtimestamp(found["slot"] / 1000, zone(office.timezone))
        params = {"slot": slot.start.isoformat(), "link": f"/b/{token}"}
        phone, lang, bid = found["phone"], found["lang"], found["id"]
        remind_at = self._reminder_at(office, slot)
        reminder = [""] * SMS_ARGC if remind_at is None else self._sms(
            office, phone, "reminder", lang, params, bid, not_before=remind_at,
            expires_at=slot.start.timestamp())
        result = await self.engine.run_script(
            office, "change_booking", bid, slot.start_ms, int(slot.end.timestamp() * 1000),
            service.slot_capacity,
            int(slot.end.timestamp()) + office.booking.retention_days * 86400,
            slot.start.strftime("%Y%m%d"), old_day.strftime("%Y%m%d"),
            *self._sms(office, phone, "confirmation", lang, params, bid), *reminder,
        )
        changed = self._booking(office, result["booking"])
        changed["sms"] = "disabled" if self.sms is None and changed["sms_capable"] else (
            "not_mobile" if not changed["sms_capable"] else result["sms"])
        return changed

    def _booking(self, office: Office, b: dict[str, Any], *, reveal: bool = False
                 ) -> dict[str, Any]:
        tz, s = office.timezone, office.booking
        return {
            "id": b["id"],
            "office": office.id,
            "service": b["service"],
            "slot_start": iso_ms(b["slot"], tz),
            "slot_end": iso_ms(b["slot_end"], tz),
            # The window the kiosk and the smartphone may check in (office settings).
            "checkin_opens": iso_ms(int(b["slot"]) - s.checkin_before_minutes * 60_000, tz),
            "checkin_closes": iso_ms(int(b["slot"]) + s.checkin_after_minutes * 60_000, tz),
            "status": b["status"],
            "code": b["code"],
            "lang": b["lang"],
            "channel": b["channel"],
            "phone": b["phone"] if reveal else mask(b["phone"]),
            "name": (b.get("name") or None) if reveal else None,
            "sms_capable": is_japanese_mobile(b["phone"]),
            "ticket": b.get("ticket") or None,
        }

    async def view(self, token: str) -> dict[str, Any]:
        office = await self.engine.office(office_of_token(token))
        result = await self.engine.run_script(office, "booking_view", token_digest(token), "")
        return self._booking(office, result["booking"])

    async def staff_view(self, office_id: str, booking_id: str) -> dict[str, Any]:
        """Name and number for staff screens (never for public ones)."""
        office = await self.engine.office(office_id)
        result = await self.engine.run_script(office, "booking_view", "", booking_id)
        return self._booking(office, result["booking"], reveal=True)

    async def of_day(self, office_id: str, d: date) -> list[dict[str, Any]]:
        """The day's bookings for staff (names and numbers included)."""
        office = await self.engine.office(office_id)
        result = await self.engine.run_script(office, "bookings_of_day", d.strftime("%Y%m%d"))
        return [self._booking(office, b, reveal=True) for b in result["bookings"] or []]

    async def cancel(self, token: str) -> dict[str, Any]:
        office = await self.engine.office(office_of_token(token))
        found = (await self.engine.run_script(office, "booking_view", token_digest(token), ""))[
            "booking"]
        sms = self._sms(office, found["phone"], "cancellation", found["lang"],
                        {"slot": iso_ms(found["slot"], office.timezone)}, found["id"])
        result = await self.engine.run_script(office, "cancel_booking", found["id"], *sms)
        return self._booking(office, result["booking"])

    async def cancel_next_by_phone(self, e164: str) -> dict[str, Any] | None:
        """An SMS reply "キャンセル": cancel that number's next booking (in any
        office). The SMS reply itself confirms it, so no cancellation SMS."""
        now_ms = self.engine.clock() * 1000
        best: tuple[int, Office, dict[str, Any]] | None = None
        for office_id in await self.engine.office_ids():
            office = await self.engine.office(office_id)
            ids = await self.engine.redis.smembers(self.engine.keys(office_id).k(f"bphone:{e164}"))
            for raw in ids:
                found = await self.engine.run_script(office, "booking_view", "", raw.decode())
                b = found["booking"]
                if b["status"] == "booked" and b["slot_end"] > now_ms and (
                    best is None or b["slot"] < best[0]
                ):
                    best = (b["slot"], office, b)
        if best is None:
            return None
        _, office, b = best
        result = await self.engine.run_script(office, "cancel_booking", b["id"], *[""] * SMS_ARGC)
        return self._booking(office, result["booking"])

    # -- check-in -------------------------------------------------------

    async def check_in(
        self,
        office_id: str,
        *,
        phone: str | None = None,
        code: str | None = None,
        booking_id: str | None = None,
        lang: str = "",
    ) -> dict[str, Any]:
        """`lang`: the ticket's language when it differs from the booking's
        (chosen on the kiosk screen)."""
        office = await self.engine.office(office_id)
        if booking_id:
            how, value, extra = "id", booking_id, ""
        elif phone:
            how, value, extra = "phone", parse_japanese_phone(phone), code or ""
        elif code:
            how, value, extra = "code", code, ""
        else:
            raise MadoguchiError("validation_failed", "Give a phone number, a code or a token.")
        s = office.booking
        now = self.engine.clock()
        view = await self.engine.run_script(
            office, "check_in", how, value, extra, new_ticket_id(office.id),
            s.checkin_before_minutes * 60_000, s.checkin_after_minutes * 60_000,
            s.grace_minutes * 60_000, business_day(now, office.timezone), TICKET_TTL_SECONDS,
            lang,
        )
        ticket = self.engine.ticket_dict(office, view)
        ticket["booking"] = self._booking(office, view["booking"])
        return ticket

    async def check_in_by_token(self, token: str, presence: str | None, lang: str = "",
                                client: str = "") -> dict[str, Any]:
        """`presence`: the lobby code typed on a smartphone; None when a kiosk
        or staff device (itself in the lobby) scanned the booking's QR.
        `client`: the sender's address (wrong codes are limited per address)."""
        office_id = office_of_token(token)
        if presence is not None:
            await self.check_presence(office_id, token, presence, client)
        booking = await self.view(token)
        return await self.check_in(office_id, booking_id=booking["id"], lang=lang)

    async def mark_no_shows(self, office_id: str) -> int:
        office = await self.engine.office(office_id)
        result = await self.engine.run_script(
            office, "booking_no_shows", office.booking.checkin_after_minutes * 60_000
        )
        return int(result["marked"])

    # -- presence (smartphone check-in proves the citizen is in the lobby) --

    def presence_code(self, office_id: str, at: float | None = None) -> tuple[str, float]:
        """The code the lobby display shows now, and when it changes."""
        now = self.engine.clock() if at is None else at
        period = int(now // PRESENCE_PERIOD_SECONDS)
        mac = hmac.new(self.secret, f"{office_id}:{period}".encode(), hashlib.sha256)
        code = f"{int.from_bytes(mac.digest()[:4], 'big') % 10_000:04d}"
        return code, (period + 1) * PRESENCE_PERIOD_SECONDS

    async def check_presence(self, office_id: str, subject: str, presence: str,
                             client: str) -> None:
        """The lobby code typed for `subject` (a booking token or a ticket id),
        checked and counted in one step (presence_check.lua): presence_required
        (403) for a wrong one, presence_locked (429, retry_after) after too
        many for this booking or ticket or from this address."""
        office = await self.engine.office(office_id)
        now = self.engine.clock()
        keys = self.engine.keys(office.id)
        limits = self.presence_limits
        # The code just replaced still counts, for whoever read it a moment ago.
        await self.engine.run_script(
            office, "presence_check", presence,
            self.presence_code(office.id, now)[0],
            self.presence_code(office.id, now - PRESENCE_PERIOD_SECONDS)[0],
            keys.presence_tries("s", _digest32(subject)),
            keys.presence_tries("a", _digest32(client or "unknown")),
            limits.per_subject, limits.per_address, limits.first_pause_seconds * 1000,
            limits.longest_pause_seconds * 1000, limits.remember_seconds * 1000,
        )

    # -- today's virtual queue -------------------------------------------

    async def join_queue(self, office_id: str, service_id: str, lang: str = "ja",
                         phone: str = "") -> dict[str, Any]:
        """A remote ticket: never called before arrival; keeps its place. With
        a mobile `phone` (and SMS configured) it gets "near" and "come now"
        messages; `sms` in the answer says whether it will."""
        office = await self.engine.office(office_id)
        calendar.require_open(office, self.engine.clock())
        sms_state, e164 = "none", ""
        if phone:
            e164 = parse_japanese_phone(phone)
            if not is_japanese_mobile(e164):
                sms_state, e164 = "not_mobile", ""
            elif self.sms is None:
                sms_state, e164 = "disabled", ""
            else:
                sms_state = "on"
        ticket = await self.engine.issue_ticket(office_id, service_id, channel="online",
                                                lang=lang, remote=True, phone=e164)
        ticket["sms"] = sms_state
        # come_back_by: the forecast's low quantile of the call, counted as if
        # the ticket were here (never past); the ticket keeps its place and
        # is not called before it arrives (issue 11).
        return ticket

    async def notify_remote(self, office_id: str) -> dict[str, int]:
        """Queue "near" / "come now" SMS for remote tickets whose turn nears
        (remote_notify.lua); a no-op without SMS."""
        if self.sms is None:
            return {"near": 0, "come_now": 0, "dropped": 0}
        office = await self.engine.office(office_id)
        s, limits = office.booking, self.sms.limits
        ids = [secrets.token_urlsafe(12) for _ in range(NOTIFY_BATCH)]
        result = await self.engine.run_script(
            office, "remote_notify", s.near_minutes * 60_000, s.come_now_minutes * 60_000,
            limits.phone_per_day, limits.office_per_day, s.retention_days * 86400,
            DEFAULT_EXPIRY_SECONDS["near"] * 1000, DEFAULT_EXPIRY_SECONDS["come_now"] * 1000,
            *ids,
        )
        return {k: int(result[k]) for k in ("near", "come_now", "dropped")}

    async def purge(self, office_id: str) -> int:
        """The retention job: bookings past slot end + retention days are
        deleted with their indexes and messages (purge_personal.lua)."""
        office = await self.engine.office(office_id)
        result = await self.engine.run_script(office, "purge_personal", PURGE_BATCH)
        return int(result["purged"])

    async def arrive(self, ticket_id: str, presence: str, client: str = "") -> dict[str, Any]:
        office = await self.engine.office(ticket_id.partition(".")[0])
        await self.check_presence(office.id, ticket_id, presence, client)
        view = await self.engine.run_script(office, "arrive", ticket_id)
        return self.engine.ticket_dict(office, view)


def _digest32(text: str) -> str:
    """Key material for a capability or an address, never the thing itself."""
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _day_fields(day: calendar.Day) -> dict[str, Any]:
    return {"open": day.open, "closed_reason": day.closed_reason,
            "holiday_name": day.holiday_name,
            "opens": day.opens.isoformat() if day.opens else None,
            "closes": day.closes.isoformat() if day.closes else None}


def parse_date(text: str | None) -> date:
    try:
        return date.fromisoformat(text or "")
    except ValueError as exc:
        raise MadoguchiError("invalid_date") from exc


def add_days(d: date, n: int) -> date:
    return d + timedelta(days=n)
