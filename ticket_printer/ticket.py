"""What a ticket says: `TicketPrint` (the data) and `ticket_elements()`.

`TicketPrint` is plain data, built by the kiosk agent from the API's ticket;
nothing here knows Redis or HTTP. Fixed texts come from the catalogs in
``messages/ticket.<lang>.json``, never from code. Japanese is always
printed (the staff read it); a ticket in another language adds that
language under each Japanese line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from queue_server.wait_words import wait_wording

from .dates import wareki_year
from .elements import BigNumber, Element, Gap, Note, QRCode, Rule, Text

__all__ = ["LANGS", "TicketPrint", "catalog", "ticket_elements"]

LANGS = ("ja", "en", "ko", "zh-Hans", "vi")
CATALOG_DIR = Path(__file__).parent / "messages"


@dataclass(frozen=True)
class TicketPrint:
    office_name: str  # Japanese (official) names
    service_name: str
    number: str  # "A-023"
    ahead: int
    url: str  # the smartphone page, {public base}/t/{ticket id}
    issued_at: datetime  # aware
    lang: str = "ja"
    wait_minutes: int | None = None
    come_back_by: datetime | None = None  # aware; printed instead of the wait when set
    konbini: bool = False
    footer: str = ""  # from the office configuration, already in the ticket's language
    office_name_local: str | None = None  # names in `lang`, when it is not Japanese
    service_name_local: str | None = None
    timezone: str = "Asia/Tokyo"
    wareki: bool = False  # 令和8年(2026年)11月27日: the era with the Western year

    def __post_init__(self) -> None:
        if self.issued_at.tzinfo is None:
            raise ValueError("issued_at must carry a time zone")
        if self.come_back_by is not None and self.come_back_by.tzinfo is None:
            raise ValueError("come_back_by must carry a time zone")
        if self.ahead < 0:
            raise ValueError("ahead must not be negative")
        if not self.number:
            raise ValueError("number is empty")
        if not self.url:
            raise ValueError("url is empty")
        ZoneInfo(self.timezone)


@cache
def catalog(lang: str) -> dict[str, Any]:
    return json.loads((CATALOG_DIR / f"ticket.{lang}.json").read_text(encoding="utf-8"))


def _duration(cat: dict[str, Any], minutes: int) -> str:
    hours, rest = divmod(max(0, minutes), 60)
    if not hours:
        return cat["minutes"].format(minutes=rest)
    if not rest:
        return cat["hours_only"].format(hours=hours)
    return cat["hours"].format(hours=hours, minutes=rest)


def _date(cat: dict[str, Any], when: datetime, wareki: bool) -> str:
    fields: dict[str, Any] = {
        "year": when.year, "month": when.month, "day": when.day,
        "weekday": cat["weekdays"][when.weekday()],
        "month_name": cat["months"][when.month - 1],
    }
    era = wareki_year(when.date()) if wareki and "date_wareki" in cat else None
    if era is None:
        return cat["date"].format(**fields)
    key, year = era
    first = cat.get("first_year")
    era_year = first if year == 1 and first else str(year)
    return cat["date_wareki"].format(era=cat["eras"][key], era_year=era_year, **fields)


def _texts(
    t: TicketPrint, build: Callable[[dict[str, Any]], str], size: int, bold: bool = False
) -> list[Text]:
    """One line per language: Japanese, then the ticket's language if another."""
    langs = ["ja"] + ([t.lang] if t.lang != "ja" and t.lang in LANGS else [])
    out = []
    for i, lang in enumerate(langs):
        # The second language is a little smaller: the Japanese line leads.
        out.append(Text(build(catalog(lang)), size - 2 * i, bold, lang=lang))
    return out


def ticket_elements(t: TicketPrint) -> list[Element]:
    tz = ZoneInfo(t.timezone)
    issued = t.issued_at.astimezone(tz)
    local = t.lang != "ja" and t.lang in LANGS
    els: list[Element] = [Text(t.office_name, 28, bold=True)]
    if local and t.office_name_local and t.office_name_local != t.office_name:
        els.append(Text(t.office_name_local, 24, lang=t.lang))
    els.append(Text(t.service_name, 34, bold=True))
    if local and t.service_name_local and t.service_name_local != t.service_name:
        els.append(Text(t.service_name_local, 26, lang=t.lang))
    els += [Rule(), Gap(6)]
    els += _texts(t, lambda c: c["number"], 24)
    els.append(BigNumber(t.number))
    if t.ahead:
        els += _texts(t, lambda c: c["ahead"].format(ahead=t.ahead), 28)
    else:
        els += _texts(t, lambda c: c["ahead_zero"], 28)
    if t.come_back_by is not None:
        back = t.come_back_by.astimezone(tz).strftime("%H:%M")
        els += _texts(t, lambda c: c["come_back"].format(time=back), 32, bold=True)
    elif (said := wait_wording(t.ahead, t.wait_minutes)).minutes is not None:
        # Nobody ahead: "まもなくお呼びします" above says it all (issue 10 §4).
        els += _texts(t, lambda c: c["wait"].format(duration=_duration(c, said.minutes or 0)), 28)
    els += [Gap(4), Rule(), QRCode(t.url)]
    els += _texts(t, lambda c: c["qr"], 22)
    if t.konbini:
        els += [Gap(8), Note(tuple(_texts(t, lambda c: c["konbini"], 24, bold=True)))]
    at = issued.strftime("%H:%M")
    els += [Gap(8)]
    els += _texts(t, lambda c: c["issued"].format(date=_date(c, issued, t.wareki), time=at), 22)
    if t.footer.strip():
        els += [Gap(4), Text(t.footer.strip(), 22, lang=t.lang if local else "ja")]
    return els
