"""When an office is open: weekly hours, per-date overrides, 年末年始
(12/29-1/3) and Japan's national holidays (the maintained `holidays`
package, not a hand-written list). All in the office's time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache

import holidays

from .clock import zone
from .errors import MadoguchiError
from .office_config import DayHours, Office


@dataclass(frozen=True)
class Day:
    date: date
    open: bool
    closed_reason: str | None = None  # holiday | year_end | closed_day | weekend
    holiday_name: str | None = None
    opens: datetime | None = None
    closes: datetime | None = None


@cache
def _japan(year: int, language: str) -> holidays.HolidayBase:
    return holidays.Japan(years=year, language=language)


def holiday_name(d: date, lang: str = "ja") -> str | None:
    return _japan(d.year, "ja" if lang.startswith("ja") else "en_US").get(d)


def is_year_end(d: date) -> bool:
    return (d.month == 12 and d.day >= 29) or (d.month == 1 and d.day <= 3)


def _at(d: date, hhmm: str, tz: str) -> datetime:
    h, m = map(int, hhmm.split(":"))
    if h == 24:  # "24:00": the end of the day
        return datetime.combine(d + timedelta(days=1), time(0, 0), zone(tz))
    return datetime.combine(d, time(h, m), zone(tz))


def day(office: Office, d: date, lang: str = "ja") -> Day:
    hours = office.hours
    hrs: DayHours | None
    if d in hours.overrides:
        hrs = hours.overrides[d]
        if hrs is None:
            return Day(d, False, "closed_day")
    elif hours.year_end_closure and is_year_end(d):
        return Day(d, False, "year_end")
    elif hours.holiday_closure and (name := holiday_name(d, lang)) is not None:
        return Day(d, False, "holiday", name)
    else:
        hrs = hours.weekly.get(d.isoweekday())
        if hrs is None:
            return Day(d, False, "weekend")
    tz = office.timezone
    return Day(d, True, opens=_at(d, hrs.open, tz), closes=_at(d, hrs.close, tz))


def today(office: Office, now: float) -> date:
    return datetime.fromtimestamp(now, zone(office.timezone)).date()


def dates(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def open_now(office: Office, now: float) -> tuple[Day, bool]:
    """The office's business day at `now` (its own time zone) and whether it
    is open at that moment."""
    info = day(office, today(office, now))
    is_open = bool(info.open and info.opens and info.closes
                   and info.opens.timestamp() <= now < info.closes.timestamp())
    return info, is_open


def require_open(office: Office, now: float) -> None:
    """The one rule for tickets that citizens take themselves (the kiosk,
    the phone line, joining today's queue from afar): only while the office
    is open, as the kiosk's closed screen and the booking page show it.
    Staff at a desk may still issue (a citizen let in at closing time)."""
    if not open_now(office, now)[1]:
        raise MadoguchiError("office_closed")
