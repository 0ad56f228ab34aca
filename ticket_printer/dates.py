"""Dates on the ticket: the issue date in the office's time zone, in the
Western calendar or in 和暦 (the Japanese era calendar municipal documents use).

Python's own calendar arithmetic is enough for the eras a ticket can carry:
an era starts on a fixed date and its first year is called 元年. A new era
would be one line in ``ERAS`` (eras are announced about a month ahead).
"""

from __future__ import annotations

from datetime import date

__all__ = ["ERAS", "wareki_year"]

# (first day, era key in the catalogs), newest first.
ERAS: tuple[tuple[date, str], ...] = (
    (date(2019, 5, 1), "reiwa"),
    (date(1989, 1, 8), "heisei"),
)


def wareki_year(day: date) -> tuple[str, int] | None:
    """(era key, year of the era) for `day`, or None before the known eras."""
    for start, era in ERAS:
        if day >= start:
            return era, day.year - start.year + 1
    return None
