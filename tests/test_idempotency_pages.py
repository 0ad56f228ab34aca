"""The pages send one Idempotency-Key per action and repeat the request with
that key when the answer is outcome_unknown: the first request reaches the
real server and is done, its answer is replaced by outcome_unknown on the
way back (as when Redis answers after the server gave up), and the page's
retry gets the first outcome instead of a second ticket or a skipped one."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from redis.asyncio import Redis

from tests.accounts import script_errors
from tests.browser import RequestLog, chromium, phone_page, wait_ready
from tests.conftest import ManualClock
from tests.servers import AppHarness, app_harness
from tests.test_booking_e2e import kokurakita
from tests.test_booking_pages import base_url as book_base_url
from tests.test_booking_pages import catalog as book_catalog
from tests.test_booking_pages import step_shown
from tests.test_kiosk_page import (
    MS,
    agent,
    kiosk_context,
    kiosk_office,
    open_kiosk,
    past_card_offer,
    text_of,
)
from tests.test_staff_console import (
    browser_pages,
    counter_pc,
    current_number,
    log_in,
    make_site,
    press,
    wait_list,
)

UNKNOWN = {"error": {"code": "outcome_unknown", "message": "no answer in time"}}


class LoseFirstAnswer:
    """A route handler: the first `lost` matching requests go to the server
    (and are done there); the page gets outcome_unknown instead of their
    answers. Later ones pass. Keeps every request's Idempotency-Key and each
    answer's Idempotent-Replayed header."""

    def __init__(self, lost: int = 1) -> None:
        self.lost = lost
        self.keys: list[str | None] = []
        self.replayed: list[str | None] = []
        self.answers: list[Any] = []
        self.first_done = asyncio.Event()

    async def __call__(self, route: Any) -> None:
        self.keys.append(await route.request.header_value("Idempotency-Key"))
        response = await route.fetch()
        self.replayed.append(response.headers.get("idempotent-replayed"))
        self.answers.append(json.loads(await response.text() or "null"))
        if len(self.keys) <= self.lost:
            await route.fulfill(status=503, content_type="application/json",
                                body=json.dumps(UNKNOWN))
            self.first_done.set()
        else:
            await route.fulfill(response=response)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


async def test_kiosk_retries_with_the_same_key_and_prints_one_ticket(
    redis: Redis, tenant: str, clock: ManualClock
) -> None:
    async with app_harness(redis, tenant, kiosk_office(), clock=clock) as site:
        token = await site.token("kiosk")
        lose = LoseFirstAnswer()
        async with chromium() as browser, agent(site, token), \
                kiosk_context(browser, clock, expected_errors="status of 503") as page:
            await open_kiosk(page, site, token=token)
            await page.route("**/api/v1/offices/*/tickets", lose)
            await page.click("#service-list button[data-service='juminhyo']")
            await asyncio.wait_for(lose.first_done.wait(), MS / 1000)
            # The page's clock is the test's: let the pause before the retry pass.
            await page.clock.run_for(5_000)
            await past_card_offer(page)
            assert await text_of(page, "#ticket-number") == "A-001"
        assert len(lose.keys) == 2 and lose.keys[0] and lose.keys[0] == lose.keys[1]
        assert lose.replayed == [None, "true"]
        status = await site.status()
        assert sum(s["waiting"] for s in status["services"]) == 1


async def test_staff_call_next_retry_calls_the_same_ticket(
    redis: Redis, tenant: str, clock: ManualClock
) -> None:
    log = RequestLog()
    async with make_site(redis, tenant, clock) as site:
        await site.act("1", "open")
        first = await site.issue("shomei")
        clock.advance(60)
        second = await site.issue("shomei")
        lose = LoseFirstAnswer()
        async with browser_pages() as browser, counter_pc(browser, log) as page:
            await log_in(page, site, "clerk", "/staff?office=testoffice&counter=1")
            await wait_list(page, "queue", ["A-001", "A-002"])
            await page.route("**/counters/1/call-next", lose)
            await press(page, "n")
            assert await current_number(page) == "A-001"
            await wait_list(page, "queue", ["A-002"])
        assert len(lose.keys) == 2 and lose.keys[0] and lose.keys[0] == lose.keys[1]
        assert lose.replayed == [None, "true"]
        assert (await ticket_state(site, first["id"])) == "called"
        assert (await ticket_state(site, second["id"])) == "waiting"
        assert [e for e in script_errors(log) if "503" not in e] == []


async def ticket_state(site: AppHarness, tid: str) -> str:
    return str((await site.ok("GET", f"/api/v1/tickets/{tid}"))["state"])


async def test_booking_page_books_once_when_the_answers_are_lost(
    redis: Redis, tenant: str, clock: ManualClock
) -> None:
    """Every try of the first press gets outcome_unknown: the page says it
    could not confirm; pressing again for the same details sends the same
    key, and the citizen gets the booking the first try made."""
    ja = book_catalog("ja")
    lose = LoseFirstAnswer(lost=4)  # act()'s four tries of the first press
    log = RequestLog()
    async with app_harness(redis, tenant, kokurakita(), clock=clock) as city, \
            chromium() as browser, phone_page(browser, log=log) as page:
        await page.route("**/api/v1/offices/*/bookings", lose)
        await page.goto(f"{book_base_url(city)}/book/kokurakita")
        await wait_ready(page)
        await page.click("#service-list button[data-service='mynumber']")
        await step_shown(page, "date")
        await page.click("#date-list button.choice")
        await step_shown(page, "time")
        await page.click("#time-list button.choice")
        await step_shown(page, "phone")
        await page.fill("#phone", "090-2468-1357")
        await page.keyboard.press("Enter")
        await step_shown(page, "confirm")
        await page.click("#submit")
        await page.wait_for_function(
            "(t) => document.body.innerText.includes(t)", arg=ja["error.outcome_unknown"],
            timeout=30_000)
        await page.click("#submit")
        await step_shown(page, "done")
        code = "".join((await page.text_content("#code") or "").split())
        assert len(lose.keys) == 5 and len(set(lose.keys)) == 1 and lose.keys[0]
        assert lose.replayed == [None, "true", "true", "true", "true"]
        booked = lose.answers[-1]
        assert booked["code"] == code and all(a == booked for a in lose.answers)
        day = booked["slot_start"][:10]
        listed = await city.ok("GET", city.path(f"/bookings?date={day}"), role="staff")
        assert [b["code"] for b in listed["bookings"]] == [code]  # one booking, not five
    assert all("503" in e for e in log.console_errors), log.console_errors
