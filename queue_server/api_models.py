"""Request bodies of the HTTP API. The same models validate requests and
give the OpenAPI document its schemas, so the two cannot drift."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from .office_config import ID_PATTERN

LANGS = ("ja", "en", "ko", "zh-Hans", "vi", "ja-easy")
# Regional tags whose primary subtag alone would be wrong or ambiguous.
_CHINESE_SIMPLIFIED = ("zh", "zh-cn", "zh-sg", "zh-my", "zh-hans")


def supported_lang(tag: str, supported: tuple[str, ...] = LANGS) -> str | None:
    """The supported language a BCP 47 tag asks for: itself, or what its
    region or script means here (ja-JP → ja, en-US → en, zh-CN and
    zh-Hans-CN → zh-Hans), or None (zh-TW, fr, …)."""
    if tag in supported:
        return tag
    low = tag.lower().replace("_", "-")
    by_case = {s.lower(): s for s in supported}
    if low in by_case:
        return by_case[low]
    if low.startswith("zh"):
        simplified = low in _CHINESE_SIMPLIFIED or low.startswith("zh-hans-")
        return "zh-Hans" if simplified and "zh-Hans" in supported else None
    primary = low.partition("-")[0]
    return primary if primary in supported else None


def _regional(value: object) -> object:
    if not isinstance(value, str):
        return value  # strict validation refuses it as not a string
    lang = supported_lang(value)
    if lang is None:
        # api.parse answers a body whose only fault is this with 422
        # unsupported_language and the supported list.
        raise PydanticCustomError("unsupported_language",
                                  "Unsupported language; use one of: " + ", ".join(LANGS))
    return lang


Lang = Annotated[Literal["ja", "en", "ko", "zh-Hans", "vi", "ja-easy"],
                 BeforeValidator(_regional)]
TICKET_ID = r"^[a-z0-9][a-z0-9_-]{0,39}\.[A-Za-z0-9_-]{22,64}$"


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class IssueTicket(Body):
    service: str = Field(pattern=ID_PATTERN, description="Service id")
    lang: Lang = "ja"
    priority: bool = Field(default=False, description="優先 (elderly, disabled, pregnant)")


class CounterAction(Body):
    ticket: str | None = Field(
        default=None,
        pattern=TICKET_ID,
        description="The ticket the console shows; refused with ticket_mismatch if another "
        "ticket is at the counter",
    )


class Transfer(CounterAction):
    service: str | None = Field(default=None, pattern=ID_PATTERN)
    counter: str | None = Field(default=None, pattern=ID_PATTERN)


class TicketRef(Body):
    ticket: str = Field(pattern=TICKET_ID)


class Book(Body):
    service: str = Field(pattern=ID_PATTERN)
    slot: str = Field(max_length=40, description="Slot start, ISO 8601 with offset")
    phone: str = Field(min_length=1, max_length=30)
    name: str | None = Field(default=None, max_length=100)
    lang: Lang = "ja"


class Presence(Body):
    presence_code: str = Field(pattern=r"^[0-9]{4}$", description="Code on the lobby display")


class CheckIn(Body):
    phone: str | None = Field(default=None, max_length=30)
    code: str | None = Field(default=None, pattern=r"^[0-9]{6}$")
    booking_token: str | None = Field(default=None, max_length=100)
    presence_code: str | None = Field(default=None, pattern=r"^[0-9]{4}$")
    lang: Lang | None = Field(default=None, description="Ticket language (the kiosk's choice)")


class JoinQueue(Body):
    service: str = Field(pattern=ID_PATTERN)
    lang: Lang = "ja"
    phone: str | None = Field(default=None, max_length=30,
                              description="Mobile number for 'near' / 'come now' SMS")


class PrintRequest(Body):
    kiosk: str | None = Field(default=None, pattern=r"^[0-9a-f]{16}$",
                              description="Staff: the kiosk (token id) whose printer reprints")


BIRTH_ISO = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
BIRTH_CARD = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def birth_date(value: str) -> str:
    """A birth date as precise as it is known: "YYYY-MM-DD", "YYYY-MM" or
    "YYYY" ("" = none). Some residence-card holders' My Number cards carry
    00 for an unknown month or day (YYYYMMDD as the card stores it): the
    known part is kept. Anything else, or a day that does not exist, is
    refused."""
    if value == "":
        return value
    match = BIRTH_ISO.match(value) or BIRTH_CARD.match(value)
    if match is None:
        raise ValueError("birth_date is YYYY-MM-DD, YYYY-MM or YYYY")
    year, month, day = match.groups()
    if month in (None, "00"):
        return year  # a day without its month says nothing
    if not 1 <= int(month) <= 12:
        raise ValueError("birth_date has no such month")
    if day in (None, "00"):
        return f"{year}-{month}"
    date(int(year), int(month), int(day))  # ValueError for 02-30 and the like
    return f"{year}-{month}-{day}"


class Prefill(Body):
    """The four basic attributes read from the My Number card at the kiosk
    (never the My Number itself), for the clerk's application form."""

    name: str = Field(min_length=1, max_length=100)
    address: str = Field(default="", max_length=300)
    birth_date: str = Field(
        default="", max_length=10,
        description="YYYY-MM-DD, or YYYY-MM / YYYY when the card lacks the day or month "
                    "(the card's YYYYMMDD with 00 for unknown parts is also taken)")
    sex: str = Field(default="", pattern=r"^[129]?$")

    @field_validator("birth_date")
    @classmethod
    def _partial_birth_date(cls, value: str) -> str:
        return birth_date(value)


class ChangeBooking(Body):
    slot: str = Field(max_length=40, description="New slot start, ISO 8601 with offset")
