"""Booking slots of a service on a day, and which of them may be booked now.

Times are aware datetimes in the office's zone; Asia/Tokyo has no DST, but
nothing here assumes that: slots step in absolute minutes from opening."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from . import calendar
from .clock import zone
from .office_config import Office, Service


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime

    @property
    def start_ms(self) -> int:
        return int(self.start.timestamp() * 1000)


def day_slots(office: Office, service: Service, d: date) -> list[Slot]:
    """Every slot of the day (the last one ends by closing time)."""
    return slots_of(calendar.day(office, d), service)


def slots_of(info: calendar.Day, service: Service) -> list[Slot]:
    if not info.open or info.opens is None or info.closes is None:
        return []
    return _steps(info.opens, info.closes, service.slot_minutes)


@lru_cache(maxsize=4096)
def _steps(opens: datetime, closes: datetime, minutes: int) -> list[Slot]:  # never mutated
    # Availability asks for the same days again and again; the slots of a
    # day depend only on these three values.
    step = timedelta(minutes=minutes)
    out, start = [], opens
    while start + step <= closes:
        out.append(Slot(start, start + step))
        start += step
    return out


def bookable(office: Office, service: Service, slot: Slot, now: datetime) -> str | None:
    """None if `slot` may be booked at `now`, else the reason (an error code)."""
    return Rules(service, now).check(slot)


class Rules:
    """A service's booking rules at one moment, worked out once for the many
    slots of an availability request."""

    def __init__(self, service: Service, now: datetime) -> None:
        self.bookable = service.bookable
        self.earliest = now + timedelta(minutes=service.booking_lead_minutes)
        self.not_today = None if service.same_day_booking else now.date()
        self.last_day = now.date() + timedelta(days=service.booking_horizon_days)

    def day_reason(self, day: date, day_slots: list[Slot]) -> str | None:
        """Why no slot of `day` may be booked now (for the date picker), or
        None when some may: closed, not_bookable, beyond_horizon,
        same_day_not_allowed or too_soon (all left today are within the lead
        time, or the day is past)."""
        if not day_slots:
            return "closed"
        if not self.bookable:
            return "not_bookable"
        if day > self.last_day:
            return "beyond_horizon"
        if day == self.not_today:
            return "same_day_not_allowed"
        if all(s.start < self.earliest for s in day_slots):
            return "too_soon"
        return None

    def check(self, slot: Slot) -> str | None:
        if not self.bookable:
            return "not_bookable"
        if slot.start < self.earliest or slot.start.date() == self.not_today:
            return "slot_unavailable"
        if slot.start.date() > self.last_day:
            return "beyond_horizon"
        return None


def find(office: Office, service: Service, start: datetime) -> Slot | None:
    """The slot that starts exactly at `start`, if there is one."""
    local = start.astimezone(zone(office.timezone))
    return next((s for s in day_slots(office, service, local.date()) if s.start == local), None)
