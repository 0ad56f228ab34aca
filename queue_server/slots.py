"""Booking slots of a service on a day, and which of them may be booked now.

Times are aware datetimes in the office's zone; Asia/Tokyo has no DST, but
nothing here assumes that: slots step in absolute minutes from opening."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

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
    info = calendar.day(office, d)
    if not info.open or info.opens is None or info.closes is None:
        return []
    step = timedelta(minutes=service.slot_minutes)
    out, start = [], info.opens
    while start + step <= info.closes:
        out.append(Slot(start, start + step))
        start += step
    return out


def bookable(office: Office, service: Service, slot: Slot, now: datetime) -> str | None:
    """None if `slot` may be booked at `now`, else the reason (an error code)."""
    if not service.bookable:
        return "not_bookable"
    if slot.start < now + timedelta(minutes=service.booking_lead_minutes):
        return "slot_unavailable"
    if not service.same_day_booking and slot.start.date() == now.date():
        return "slot_unavailable"
    if slot.start.date() > now.date() + timedelta(days=service.booking_horizon_days):
        return "beyond_horizon"
    return None


def find(office: Office, service: Service, start: datetime) -> Slot | None:
    """The slot that starts exactly at `start`, if there is one."""
    local = start.astimezone(zone(office.timezone))
    return next((s for s in day_slots(office, service, local.date()) if s.start == local), None)
