"""Request bodies of the HTTP API. The same models validate requests and
give the OpenAPI document its schemas, so the two cannot drift."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .office_config import ID_PATTERN

Lang = Literal["ja", "en", "ko", "zh-Hans", "vi", "ja-easy"]
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
