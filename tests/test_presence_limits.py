"""The lobby code cannot be guessed (issue 10 §5): wrong codes are counted
per booking or ticket and per client address in the same Lua step as the
check, and a few of them pause every try (429, Retry-After) — tested with
real concurrent requests."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from redis.asyncio import Redis

from queue_server.bookings import PRESENCE_PERIOD_SECONDS, PresenceLimits
from queue_server.context import CONTEXT
from tests.conftest import START, ManualClock
from tests.servers import AppHarness, app_harness
from tests.test_bookings import JST, booking_office

LIMITS = PresenceLimits()
GUESSES = 60


@pytest.fixture
async def lobby(redis: Redis, tenant: str) -> AsyncIterator[tuple[AppHarness, ManualClock]]:
    """The app on a clock inside opening hours (Friday 10:00 in Kitakyushu)."""
    clock = ManualClock()
    async with app_harness(redis, tenant, booking_office(per_ip_per_hour=100),
                           clock=clock) as harness:
        yield harness, clock


async def shown_code(api: AppHarness) -> str:
    return str((await api.ok("GET", api.path("/checkin-code"), role="display"))["code"])


def wrong_codes(api: AppHarness, clock: ManualClock, n: int) -> list[str]:
    """`n` codes that are not valid now (neither the one shown nor the one
    just replaced)."""
    b = api.app[CONTEXT].bookings
    valid = {b.presence_code(api.office, clock.now)[0],
             b.presence_code(api.office, clock.now - PRESENCE_PERIOD_SECONDS)[0]}
    return [c for c in (f"{i:04d}" for i in range(0, 10_000, 7)) if c not in valid][:n]


async def post(api: AppHarness, path: str, body: dict[str, Any]
               ) -> tuple[int, dict[str, Any], str | None]:
    async with api.client.post(path, json=body) as resp:
        return resp.status, await resp.json(), resp.headers.get("Retry-After")


async def brute_force(api: AppHarness, path: str, codes: list[str], field: str = "presence_code",
                      extra: dict[str, Any] | None = None) -> Counter[tuple[int, str]]:
    """Every code at once, as concurrent requests."""
    answers = await asyncio.gather(*(post(api, path, {**(extra or {}), field: c})
                                     for c in codes))
    for status, body, retry_after in answers:
        if status == 429:
            assert body["error"]["code"] == "presence_locked"
            assert retry_after is not None and 0 < int(retry_after) <= 300
            assert body["error"]["details"]["retry_after"] == int(retry_after)
    return Counter((status, body["error"]["code"]) for status, body, _ in answers)


async def test_guessing_a_tickets_code_is_paused_and_the_holder_still_arrives(
        lobby: tuple[AppHarness, ManualClock]) -> None:
    api, clock = lobby
    joined = await api.ok("POST", api.path("/queue"), 201, json_body={"service": "shomei"})
    path = f"/api/v1/tickets/{joined['id']}/arrive"
    outcomes = await brute_force(api, path, wrong_codes(api, clock, GUESSES))
    # Only the first few guesses were tested at all; the one that used up the
    # tries and every later one were refused unread.
    assert outcomes == {(403, "presence_required"): LIMITS.per_subject - 1,
                        (429, "presence_locked"): GUESSES - LIMITS.per_subject + 1}, outcomes
    # During the pause even the right code is not tested: a guesser learns nothing.
    status, body, retry_after = await post(api, path, {"presence_code": await shown_code(api)})
    assert (status, body["error"]["code"]) == (429, "presence_locked")
    assert retry_after is not None
    # After the pause the holder, in the lobby, types the code on the screen.
    clock.advance(int(retry_after))
    arrived = await api.ok("POST", path, json_body={"presence_code": await shown_code(api)})
    assert arrived["state"] == "waiting"


async def test_wrong_codes_count_down_and_pauses_grow(
        lobby: tuple[AppHarness, ManualClock]) -> None:
    api, clock = lobby
    joined = await api.ok("POST", api.path("/queue"), 201, json_body={"service": "shomei"})
    path = f"/api/v1/tickets/{joined['id']}/arrive"
    pauses = []
    for _ in range(2):
        codes = wrong_codes(api, clock, LIMITS.per_subject)
        for left, code in zip(range(LIMITS.per_subject - 1, 0, -1), codes, strict=False):
            status, body, _ = await post(api, path, {"presence_code": code})
            assert (status, body["error"]["code"]) == (403, "presence_required")
            assert body["error"]["details"]["tries_left"] == left
        status, body, retry_after = await post(api, path, {"presence_code": codes[-1]})
        assert (status, body["error"]["code"]) == (429, "presence_locked")
        assert retry_after is not None
        pauses.append(int(retry_after))
        clock.advance(int(retry_after))
    assert pauses == [LIMITS.first_pause_seconds, 2 * LIMITS.first_pause_seconds]


async def test_guessing_a_bookings_code_is_paused_on_both_check_in_routes(
        lobby: tuple[AppHarness, ManualClock]) -> None:
    api, clock = lobby
    monday = (datetime.fromtimestamp(START, JST) + timedelta(days=3)).date()
    booked = await api.ok("POST", api.path("/bookings"), 201, json_body={
        "service": "mynumber", "slot": f"{monday}T09:00:00+09:00", "phone": "090-1234-5678"})
    token = booked["token"]
    half = GUESSES // 2
    codes = wrong_codes(api, clock, GUESSES)
    by_link, by_lobby = await asyncio.gather(
        brute_force(api, f"/api/v1/bookings/{token}/check-in", codes[:half]),
        brute_force(api, api.path("/check-in"), codes[half:], extra={"booking_token": token}))
    outcomes = by_link + by_lobby
    assert outcomes == {(403, "presence_required"): LIMITS.per_subject - 1,
                        (429, "presence_locked"): GUESSES - LIMITS.per_subject + 1}, outcomes
    status, body, retry_after = await post(api, api.path("/check-in"), {
        "booking_token": token, "presence_code": await shown_code(api)})
    assert (status, body["error"]["code"]) == (429, "presence_locked")
    assert retry_after is not None
    clock.advance(int(retry_after))
    # The right code passes now; the booking is days ahead, so what answers is
    # the booking's own rule, no longer the code.
    status, body, _ = await post(api, f"/api/v1/bookings/{token}/check-in",
                                 {"presence_code": await shown_code(api)})
    assert (status, body["error"]["code"]) == (409, "too_early")


async def test_one_address_guessing_many_tickets_is_paused(
        lobby: tuple[AppHarness, ManualClock]) -> None:
    """Spreading guesses over many tickets (each under its own limit) runs
    into the address's limit; a ticket of someone else (another address) is
    not affected."""
    api, clock = lobby
    per_ticket = LIMITS.per_subject - 1
    tickets = [(await api.ok("POST", api.path("/queue"), 201,
                             json_body={"service": "shomei"}))["id"]
               for _ in range(LIMITS.per_address // per_ticket + 1)]
    codes = wrong_codes(api, clock, per_ticket)
    outcomes: Counter[tuple[int, str]] = Counter()
    for ticket in tickets:
        outcomes += await brute_force(api, f"/api/v1/tickets/{ticket}/arrive", codes)
    assert outcomes[(403, "presence_required")] == LIMITS.per_address - 1, outcomes
    assert outcomes[(429, "presence_locked")] == len(tickets) * per_ticket - (
        LIMITS.per_address - 1), outcomes
    status, body, _ = await post(api, f"/api/v1/tickets/{tickets[-1]}/arrive",
                                 {"presence_code": await shown_code(api)})
    assert (status, body["error"]["code"]) == (429, "presence_locked")
    # Someone else, from another address: their own tries, their own slate.
    arrived = await api.app[CONTEXT].bookings.arrive(tickets[0], await shown_code(api),
                                                     "198.51.100.7")
    assert arrived["state"] == "waiting"


async def test_an_empty_code_asks_and_is_not_counted(
        lobby: tuple[AppHarness, ManualClock]) -> None:
    api, _ = lobby
    joined = await api.ok("POST", api.path("/queue"), 201, json_body={"service": "shomei"})
    monday = (datetime.fromtimestamp(START, JST) + timedelta(days=3)).date()
    booked = await api.ok("POST", api.path("/bookings"), 201, json_body={
        "service": "mynumber", "slot": f"{monday}T09:30:00+09:00", "phone": "090-1234-5678"})
    for _ in range(LIMITS.per_subject + 1):
        status, body, _ = await post(api, api.path("/check-in"),
                                     {"booking_token": booked["token"]})
        assert (status, body["error"]["code"]) == (403, "presence_required")
    arrived = await api.ok("POST", f"/api/v1/tickets/{joined['id']}/arrive",
                           json_body={"presence_code": await shown_code(api)})
    assert arrived["state"] == "waiting"
