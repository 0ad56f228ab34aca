"""The configuration of one office: services, counters and queue settings.

Stored as one JSON document per office in Redis (``config`` key) and mirrored
into small hashes that the Lua scripts read (``svc:<id>``, ``ctr:<id>``), so
every atomic operation sees the configuration it runs under.
"""

from __future__ import annotations

import string
from datetime import date
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

LANGS = ("ja", "en", "ko", "zh-Hans", "vi")
ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"


class Names(BaseModel):
    """Text per language; Japanese is required, the others fall back to it."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    ja: str = Field(min_length=1, max_length=200)
    en: str | None = Field(default=None, max_length=200)
    ko: str | None = Field(default=None, max_length=200)
    zh_Hans: str | None = Field(default=None, max_length=200, alias="zh-Hans")
    vi: str | None = Field(default=None, max_length=200)
    ja_easy: str | None = Field(default=None, max_length=200, alias="ja-easy")

    def get(self, lang: str) -> str:
        value = getattr(self, lang.replace("-", "_"), None)
        return value or self.ja

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump(by_alias=True).items() if v}


class Service(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=ID_PATTERN)
    names: Names
    letter: str = Field(pattern=r"^[A-Z]$")
    expected_minutes: float = Field(default=10, gt=0, le=480)
    walk_in: bool = True
    bookable: bool = False
    slot_minutes: int = Field(default=30, ge=5, le=240)
    slot_capacity: int = Field(default=1, ge=1, le=100)
    # Escalation: a ticket waiting longer than this is called ahead of the
    # counter's service priority order, so a secondary service never starves.
    max_wait_minutes: int = Field(default=30, ge=1, le=600)
    bring: Names | None = None
    # How the name is read aloud where it differs from the written name
    # (kana for Japanese TTS); the written name when absent.
    speech: Names | None = None
    konbini: bool = False
    booking_horizon_days: int = Field(default=30, ge=1, le=180)
    booking_lead_minutes: int = Field(default=60, ge=0, le=7 * 24 * 60)
    same_day_booking: bool = True


class Counter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=ID_PATTERN)
    names: Names
    services: list[str] = Field(min_length=1, max_length=50)
    # "priority": the first service in `services` with someone waiting wins
    # (max-wait escalation aside). "due": oldest due_at across all services,
    # the list order breaking ties.
    order: Literal["priority", "due"] = "priority"
    # How the counter is read aloud (kana for Japanese TTS, e.g.
    # "さんばんまどぐち"); announcements spell out the written name otherwise.
    speech: Names | None = None


class QueueSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_recalls: int = Field(default=2, ge=0, le=10)
    rejoin_minutes: int = Field(default=10, ge=0, le=240)
    priority_minutes: int = Field(default=15, ge=0, le=240)


HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
# A closing time may be midnight at the end of the day ("24:00": open all
# day, as the demo's --always-open office is).
CLOSE_HHMM = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"


class DayHours(BaseModel):
    model_config = ConfigDict(extra="forbid")

    open: str = Field(pattern=HHMM)
    close: str = Field(pattern=CLOSE_HHMM)

    @model_validator(mode="after")
    def _ordered(self) -> DayHours:
        if self.close <= self.open:
            raise ValueError("close must be after open")
        return self


class OpeningHours(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # ISO weekday (1 = Monday) -> hours; a missing weekday is closed.
    weekly: dict[int, DayHours] = Field(
        default_factory=lambda: {d: DayHours(open="08:30", close="17:00") for d in range(1, 6)}
    )
    # Per-date hours (extended hours in the March/April moving season) or
    # null for an extra closed date; wins over everything else.
    overrides: dict[date, DayHours | None] = Field(default_factory=dict)
    # 年末年始 (12/29-1/3) closure.
    year_end_closure: bool = True
    # National holidays close the office (false only for a demo that never
    # closes: `madoguchi demo --always-open`).
    holiday_closure: bool = True

    @classmethod
    def always_open(cls) -> OpeningHours:
        """00:00-24:00 every day, no closed days (`madoguchi demo --always-open`)."""
        return cls(weekly={d: DayHours(open="00:00", close="24:00") for d in range(1, 8)},
                   year_end_closure=False, holiday_closure=False)

    @field_validator("weekly")
    @classmethod
    def _weekdays(cls, value: dict[int, DayHours]) -> dict[int, DayHours]:
        if any(d not in range(1, 8) for d in value):
            raise ValueError("weekdays are 1 (Monday) to 7 (Sunday)")
        return value


class BookingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_active_per_phone: int = Field(default=3, ge=1, le=20)
    per_ip_per_hour: int = Field(default=20, ge=1, le=10_000)
    # Check-in window around the slot start, and the grace within which a
    # late arrival keeps the slot's place; later arrivals queue as walk-ins.
    checkin_before_minutes: int = Field(default=30, ge=0, le=240)
    checkin_after_minutes: int = Field(default=15, ge=0, le=240)
    grace_minutes: int = Field(default=5, ge=0, le=60)
    # A booking checked in before its slot waits for the slot ("at_slot",
    # DESIGN §5) or is called as soon as a counter is free and nobody due
    # earlier waits ("when_free").
    early_call: Literal["at_slot", "when_free"] = "at_slot"
    retention_days: int = Field(default=30, ge=1, le=365)
    # Reminder SMS at this time on the day before the slot (office time
    # zone); None: no reminders. A booking made after that moment gets none.
    reminder_time: str | None = Field(default="10:00", pattern=HHMM)
    # Today's virtual queue: "your turn is near" when the estimated wait of a
    # remote ticket falls to near_minutes, "please come now" at come_now_minutes.
    near_minutes: int = Field(default=20, ge=1, le=240)
    come_now_minutes: int = Field(default=5, ge=0, le=120)


class DisplaySettings(BaseModel):
    """The lobby display and its announcements."""

    model_config = ConfigDict(extra="forbid")

    # Announcement languages, in the order they are spoken (Japanese first).
    languages: list[Literal["ja", "en", "ko", "zh-Hans", "vi"]] = Field(
        default_factory=lambda: ["ja", "en"], min_length=1, max_length=5)
    # Services shown on the board; None = every service.
    services: list[str] | None = None
    layout: Literal["landscape", "portrait"] = "landscape"
    theme: Literal["dark", "light"] = "dark"
    recent_calls: int = Field(default=8, ge=6, le=10)
    volume: float = Field(default=1.0, ge=0.0, le=1.0)
    # Display text style of a call: "A-023 → 3番窓口" (arrow) or two lines.
    call_style: Literal["arrow", "stacked"] = "arrow"


class TicketSettings(BaseModel):
    """The printed (and on-screen) kiosk ticket."""

    model_config = ConfigDict(extra="forbid")

    footer: Names | None = None
    # Issue date in 和暦 (令和8年11月27日) as well as the Western date.
    wareki: bool = False
    # A wait this long or longer prints "please come back by HH:MM".
    come_back_minutes: int = Field(default=60, ge=10, le=480)


# The SMS an office may word its own way (the defaults are the catalogs in
# queue_server/messages/sms.<lang>.json) and the placeholders each may use:
# exactly those its senders fill in (bookings: slot and link; the virtual
# queue: number, ahead, link and the service; the sender adds the office).
# A placeholder nobody fills would print empty, so it is refused at once.
SMS_PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "confirmation": ("office", "slot", "link"),
    "reminder": ("office", "slot", "link"),
    "cancellation": ("office", "slot"),
    "come_now": ("office", "number", "service", "ahead", "link"),
    "near": ("office", "number", "service", "ahead", "link"),
}
SMS_LANGS = (*LANGS, "ja-easy")
SmsLang = Literal["ja", "en", "ko", "zh-Hans", "vi", "ja-easy"]


def check_sms_text(kind: str, text: str) -> str:
    """`text` as an SMS template of `kind`: braces only around known names."""
    allowed = SMS_PLACEHOLDERS[kind]
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as exc:  # a lone "{" or "}"
        raise PydanticCustomError(
            "sms_braces", "Braces must enclose a placeholder name; write a brace itself "
            "twice.") from exc
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in allowed or spec or conversion:
            raise PydanticCustomError(
                "sms_unknown_placeholder",
                "Unknown placeholder '{placeholder}'; this text may use: {allowed}.",
                {"placeholder": name, "allowed": ", ".join(allowed)})
    return text


class SmsTexts(BaseModel):
    """One language's SMS texts of an office; a missing kind uses the catalog."""

    model_config = ConfigDict(extra="forbid")

    confirmation: str | None = Field(default=None, min_length=1, max_length=500)
    reminder: str | None = Field(default=None, min_length=1, max_length=500)
    cancellation: str | None = Field(default=None, min_length=1, max_length=500)
    come_now: str | None = Field(default=None, min_length=1, max_length=500)
    near: str | None = Field(default=None, min_length=1, max_length=500)

    @field_validator(*SMS_PLACEHOLDERS)
    @classmethod
    def _placeholders(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else check_sms_text(str(info.field_name), value)


class Office(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=ID_PATTERN)
    names: Names
    timezone: str = "Asia/Tokyo"
    address: Names | None = None
    hours: OpeningHours = Field(default_factory=OpeningHours)
    queue: QueueSettings = Field(default_factory=QueueSettings)
    booking: BookingSettings = Field(default_factory=BookingSettings)
    display: DisplaySettings = Field(default_factory=DisplaySettings)
    ticket: TicketSettings = Field(default_factory=TicketSettings)
    services: list[Service] = Field(min_length=1, max_length=60)
    counters: list[Counter] = Field(min_length=1, max_length=200)
    # Per-language SMS texts replacing the catalog's (see SmsTexts).
    sms_texts: dict[SmsLang, SmsTexts] | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:  # a KeyError: not pydantic's kind
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Office:
        ids = [s.id for s in self.services]
        if len(set(ids)) != len(ids):
            raise ValueError("service ids must be unique")
        letters = [s.letter for s in self.services]
        if len(set(letters)) != len(letters):
            raise ValueError("service letters must be unique within an office")
        cids = [c.id for c in self.counters]
        if len(set(cids)) != len(cids):
            raise ValueError("counter ids must be unique")
        known = set(ids)
        for counter in self.counters:
            unknown = [s for s in counter.services if s not in known]
            if unknown:
                raise ValueError(f"counter {counter.id} serves unknown services {unknown}")
            if len(set(counter.services)) != len(counter.services):
                raise ValueError(f"counter {counter.id} lists a service twice")
        unshown = [s for s in self.display.services or [] if s not in known]
        if unshown:
            raise ValueError(f"display shows unknown services {unshown}")
        return self

    def service(self, service_id: str) -> Service | None:
        return next((s for s in self.services if s.id == service_id), None)

    def counter(self, counter_id: str) -> Counter | None:
        return next((c for c in self.counters if c.id == counter_id), None)

    def sms_template(self, kind: str, lang: str) -> str | None:
        """This office's own text of an SMS kind in `lang` (a catalog
        language), or None: the catalog's text then."""
        texts = (self.sms_texts or {}).get(lang)  # type: ignore[call-overload]
        return getattr(texts, kind, None) if texts is not None else None
