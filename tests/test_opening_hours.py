"""One rule for tickets citizens take themselves: the kiosk, the phone line
and joining today's queue from afar are refused with 409 office_closed
outside opening hours and on closed days, as the kiosk's closed screen
shows; staff (a token or a login) may still issue at the desk.

The office's hours are built around the test's own clock (never the real
time of day), so these pass at any hour and on any date."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from redis.asyncio import Redis

from queue_server import calendar
from queue_server.clock import zone
from queue_server.office_config import Office
from tests.conftest import ALWAYS_OPEN, ManualClock, small_office
from tests.servers import AppHarness, app_harness

TZ = "Asia/Tokyo"


def local(clock: ManualClock) -> datetime:
    return datetime.fromtimestamp(clock(), zone(TZ))


def hours_around(clock: ManualClock, before: int = 1, after: int = 1,
                 **extra: object) -> dict[str, object]:
    """Open from `before` hours before the clock's time to `after` hours
    after it, every day of the week, no holiday closures."""
    now = local(clock)
    opens, closes = now - timedelta(hours=before), now + timedelta(hours=after)
    assert opens.date() == closes.date() == now.date()  # ManualClock: a Friday at 10:00
    day = {"open": opens.strftime("%H:%M"), "close": closes.strftime("%H:%M")}
    return {"weekly": {str(d): day for d in range(1, 8)}, "year_end_closure": False,
            "holiday_closure": False, **extra}


@pytest.fixture
async def site(redis: Redis, tenant: str) -> AsyncIterator[tuple[AppHarness, ManualClock]]:
    clock = ManualClock()
    async with app_harness(redis, tenant, small_office(hours=hours_around(clock)),
                           clock=clock) as harness:
        yield harness, clock


async def take(site: AppHarness, role: str) -> tuple[int, str | None]:
    status, body = await site.request("POST", site.path("/tickets"), role=role,
                                      json_body={"service": "shomei"})
    return status, (body.get("error") or {}).get("code")


async def join(site: AppHarness) -> tuple[int, str | None]:
    status, body = await site.request("POST", site.path("/queue"),
                                      json_body={"service": "shomei"})
    return status, (body.get("error") or {}).get("code")


async def test_open_hours_everyone_may_take_a_ticket(
    site: tuple[AppHarness, ManualClock]
) -> None:
    api, _ = site
    assert (await api.ok("GET", api.path("/services")))["open_now"] is True
    for role in ("kiosk", "phone", "staff", "admin"):
        assert (await take(api, role))[0] == 201, role
    assert (await join(api))[0] == 201


@pytest.mark.parametrize("move", ["after_closing", "before_opening"])
async def test_outside_hours_only_staff_issue(
    site: tuple[AppHarness, ManualClock], move: str
) -> None:
    api, clock = site
    clock.advance(3600 if move == "after_closing" else -3601)
    assert (await api.ok("GET", api.path("/services")))["open_now"] is False
    for role in ("kiosk", "phone"):
        assert await take(api, role) == (409, "office_closed"), role
    assert await join(api) == (409, "office_closed")
    for role in ("staff", "admin"):
        assert (await take(api, role))[0] == 201, role
    status = await api.ok("GET", api.path("/status"))
    waiting = sum(s["waiting"] for s in status["services"])
    assert waiting == 2  # the refused ones left nothing behind


async def test_a_closed_day_refuses_the_kiosk_as_it_refuses_the_remote_join(
    redis: Redis, tenant: str
) -> None:
    """Inside the weekly hours, but today is configured as closed."""
    clock = ManualClock()
    hours = hours_around(clock, overrides={local(clock).date().isoformat(): None})
    async with app_harness(redis, tenant, small_office(hours=hours), clock=clock) as api:
        body = await api.ok("GET", api.path("/services"))
        assert (body["open_now"], body["today"]["closed_reason"]) == (False, "closed_day")
        assert await take(api, "kiosk") == (409, "office_closed")
        assert await join(api) == (409, "office_closed")
        assert (await take(api, "staff"))[0] == 201


def test_always_open_hours_cover_every_moment() -> None:
    office = Office.model_validate({**small_office().model_dump(by_alias=True),
                                    "hours": ALWAYS_OPEN})
    start = ManualClock()()
    # Every half hour for 50 days from the clock's (fixed) date: weekends,
    # 年末年始 and 成人の日 among them: open, and require_open lets the kiosk issue.
    for step in range(50 * 48):
        at = start + step * 1800 + 1
        assert calendar.open_now(office, at)[1], datetime.fromtimestamp(at, zone(TZ))
        calendar.require_open(office, at)
    # 24:00 closes at the next midnight, and only a closing time may say it.
    day = calendar.day(office, local(ManualClock()).date())
    assert day.closes is not None and day.closes - day.opens == timedelta(days=1)
    with pytest.raises(ValueError):
        Office.model_validate({**small_office().model_dump(by_alias=True), "hours": {
            "weekly": {"1": {"open": "24:00", "close": "24:00"}}}})
