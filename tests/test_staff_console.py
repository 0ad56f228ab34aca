"""The staff console /staff (queue_server/staff_pages.py and
queue_server/static/staff/*) in Debian's headless Chromium (Playwright)
against the real app and Redis on 127.0.0.1: a clerk logs in and works a
counter with the keyboard only; two consoles call at once; a clerk of
another office is refused; a stale screen is caught by ticket_mismatch and
recovers; a booked ticket shows the name; printer trouble shows with a
reprint button. Every check waits on the page's own signals
(body[data-actions], body[data-boards], texts), never on sleeps.

Screenshots: set MADOGUCHI_SCREENSHOTS=/some/dir to keep them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis

from queue_server.bookings import Bookings
from queue_server.engine import Engine
from queue_server.office_config import Office
from queue_server.print_jobs import PrintJobs
from queue_server.sessions import LOGIN
from queue_server.websockets import OPEN_SOCKETS
from tests.accounts import (
    LANGS,
    PASSWORD,
    STATIC,
    WAIT_MS,
    add_accounts,
    base_url,
    catalog_file,
    keys_named,
    script_errors,
    text_of,
    type_login,
    users,
    wait_text,
)
from tests.browser import RequestLog, audit, chromium, desktop_page, focus_is, tab_to, wait_ready
from tests.conftest import ManualClock, small_office
from tests.servers import AppHarness, app_harness

try:
    from playwright.async_api import expect
except ImportError:  # chromium() skips (fails in CI)
    expect = None  # type: ignore[assignment]

OFFICE = "testoffice"
OTHER = "otheroffice"
JST = ZoneInfo("Asia/Tokyo")
COUNTER_PC = {"viewport": {"width": 1366, "height": 768}, "locale": "ja-JP",
              "timezone_id": "Asia/Tokyo"}
# Two windows side by side on the same screen.
HALF_PC = {**COUNTER_PC, "viewport": {"width": 683, "height": 768}}
KIOSK = "0123456789abcdef"  # a kiosk token id (printers are keyed by it)


def catalog(name: str, lang: str = "ja") -> dict[str, str]:
    return catalog_file(name, lang)


JA = {**catalog("login"), **catalog("staff")}


def say(key: str, **words: Any) -> str:
    """A Japanese catalog text with its {placeholders} filled in."""
    text = JA[key]
    for name, value in words.items():
        text = text.replace("{" + name + "}", str(value))
    return text


def booking_capable_office() -> Office:
    """small_office() with おくやみ (counter 5 only) bookable."""
    data = small_office().model_dump(mode="json", exclude_none=True)
    for service in data["services"]:
        if service["id"] == "okuyami":
            service["bookable"] = True
    return Office.model_validate(data)


@contextlib.asynccontextmanager
async def make_site(redis: Redis, tenant: str, clock: ManualClock,
                    office: Office | None = None) -> AsyncIterator[AppHarness]:
    async with app_harness(redis, tenant, office or small_office(), clock=clock) as harness:
        await harness.engine.configure(small_office(OTHER))
        await add_accounts(harness, ("clerk", "staff", [OFFICE], "窓口 花子"),
                           ("clerk2", "staff", [OFFICE], "窓口 次郎"),
                           ("outsider", "staff", [OTHER], "隣区 太郎"))
        yield harness


@pytest.fixture
async def site(redis: Redis, tenant: str, clock: ManualClock) -> AsyncIterator[AppHarness]:
    """The app on a clock that stands still (10:00 on a Friday in Kitakyushu)
    unless the test moves it (the `clock` fixture)."""
    async with make_site(redis, tenant, clock) as harness:
        yield harness


@contextlib.asynccontextmanager
async def browser_pages() -> AsyncIterator[Any]:
    async with chromium() as browser:
        yield browser


def counter_pc(browser: Any, log: RequestLog, options: dict[str, Any] | None = None) -> Any:
    """A fresh browser context (own cookies and storage) whose requests may
    not leave this machine."""
    return desktop_page(browser, log, options or COUNTER_PC)


async def log_in(page: Any, site: AppHarness, name: str, target: str = "/staff",
                 live: bool = True) -> None:
    """Opens `target`, is sent to the login page, logs in with the keyboard
    and comes back (and, with a counter in `target` and `live`, waits until
    the console's event stream is open)."""
    base = base_url(site)
    await page.goto(base + target)
    await page.wait_for_url(re.compile(r"/login\?next="))
    await wait_ready(page)
    assert await focus_is(page, "#name")
    await type_login(page, name)
    await page.wait_for_url(re.compile(re.escape(base + "/staff")), timeout=WAIT_MS)
    await wait_ready(page)
    if live and "counter=" in target:
        # The event stream is open: what happens from now on reaches the
        # console as events (printer alerts are announced only from events).
        await page.wait_for_selector("#connection[data-online='true']", state="attached",
                                     timeout=WAIT_MS)


async def actions_done(page: Any) -> int:
    return int(await page.get_attribute("body", "data-actions") or 0)


async def settled_after(page: Any, before: int) -> None:
    """More actions than `before` are done, and none is on its way."""
    await page.wait_for_function(
        "(n) => Number(document.body.dataset.actions) > n "
        "&& document.body.dataset.busy === 'false'", arg=before, timeout=WAIT_MS)


async def press(page: Any, key: str) -> None:
    """Press a key that runs one action, and wait until the action is done
    and the board read again (body[data-actions] counts them)."""
    before = await actions_done(page)
    await page.keyboard.press(key)
    await settled_after(page, before)


async def boards(page: Any) -> int:
    return int(await page.get_attribute("body", "data-boards") or 0)


async def current_number(page: Any) -> str:
    return await text_of(page, "#current-number")


async def list_numbers(page: Any, list_id: str) -> list[str]:
    return list(await page.eval_on_selector_all(
        f"#{list_id} > li", "(items) => items.map((li) => li.dataset.number)"))


async def wait_list(page: Any, list_id: str, numbers: list[str]) -> None:
    await page.wait_for_function(
        "([id, want]) => JSON.stringify([...document.querySelectorAll(`#${id} > li`)]"
        ".map((li) => li.dataset.number)) === JSON.stringify(want)",
        arg=[list_id, numbers], timeout=WAIT_MS)


async def focus_ring_visible(page: Any) -> bool:
    """The focused element draws a ring of at least 2px (WCAG 2.4.7)."""
    return bool(await page.evaluate(
        """() => {
            const s = getComputedStyle(document.activeElement);
            const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
            return outline || (s.boxShadow && s.boxShadow !== 'none');
        }"""))


def screenshot_folder() -> Path | None:
    folder = os.environ.get("MADOGUCHI_SCREENSHOTS")
    if not folder:
        return None
    Path(folder).mkdir(parents=True, exist_ok=True)
    return Path(folder)


async def screenshot(page: Any, name: str) -> None:
    folder = screenshot_folder()
    if folder is not None:
        await page.screenshot(path=str(folder / f"{name}.png"))


async def ticket(site: AppHarness, tid: str) -> dict[str, Any]:
    data = await site.ok("GET", f"/api/v1/tickets/{tid}")
    assert isinstance(data, dict)
    return data


async def called_events(site: AppHarness) -> list[str]:
    """The number of every ticket.called event in the office's stream."""
    numbers = []
    for _, fields in await site.redis.xrange(site.engine.keys(OFFICE).events):
        if fields[b"type"] == b"ticket.called":
            numbers.append(json.loads(fields[b"data"])["ticket"]["number"])
    return numbers


class BoardHold:
    """Keeps the counter board from reaching the page (its requests wait in
    the browser) until release(): a screen that is out of date on purpose."""

    def __init__(self) -> None:
        self.held: list[Any] = []
        self.holding = True

    @classmethod
    async def on(cls, page: Any, counter: str) -> BoardHold:
        hold = cls()
        await page.route(re.compile(rf"/counters/{counter}/board$"), hold.route)
        return hold

    async def route(self, route: Any) -> None:
        if self.holding:
            self.held.append(route)
        else:
            await route.continue_()

    async def release(self) -> None:
        self.holding = False
        for route in self.held:
            await route.continue_()


# --- the whole day of one counter, keyboard only ---------------------------------

async def test_keyboard_only_counter_work(site: AppHarness, clock: ManualClock) -> None:
    log = RequestLog()
    issued = {}
    for service in ("shomei", "shomei", "shomei", "ido"):  # 10:00, 10:01, 10:02, 10:03
        t = await site.issue(service)
        issued[t["number"]] = t["id"]
        clock.advance(60)
    assert sorted(issued) == ["A-001", "A-002", "A-003", "B-001"]

    async with browser_pages() as browser, counter_pc(browser, log) as page:
        await log_in(page, site, "clerk")
        # No counter chosen on this PC yet: the choice opens, on the first counter.
        await page.wait_for_selector("dialog#picker[open]")
        assert await focus_is(page, "#picker-counters button.choice")
        assert await audit(page) == []
        await screenshot(page, "staff-picker")
        await page.keyboard.press("2")
        await wait_text(page, "#counter-name", "2番窓口")
        # Focus is on the counter's name, not lost to the page (nor on a button).
        assert await focus_is(page, "#counter-name")
        await page.wait_for_function("() => Number(document.body.dataset.boards) > 0")
        assert "office=testoffice&counter=2" in page.url  # this window keeps its counter
        assert await text_of(page, "#counter-state") == JA["staff.counter_state.closed"]
        assert await text_of(page, "#who") == say("staff.who", name="窓口 花子")
        await wait_list(page, "queue", ["A-001", "A-002", "A-003", "B-001"])

        # Closed: N says why at once, without a request; O opens.
        await page.keyboard.press("n")
        await wait_text(page, "#alert", JA["staff.error.counter_closed"])
        await press(page, "o")
        await wait_text(page, "#status", say("staff.result.opened", counter="2番窓口"))
        assert await text_of(page, "#counter-state") == JA["staff.counter_state.open"]

        # N calls the first in line.
        await press(page, "n")
        assert await current_number(page) == "A-001"
        await wait_text(page, "#status", say("staff.result.called", number="A-001",
                                             service="shomei"))
        assert await text_of(page, "#current-channel") == JA["staff.channel.kiosk"]
        assert await text_of(page, "#current-state") == say("staff.ticket_state.called",
                                                            time="10:04")
        await wait_list(page, "queue", ["A-002", "A-003", "B-001"])
        assert await audit(page) == []
        await screenshot(page, "staff-1366")

        # T, then 1: to the first other service (ido), keeping the place.
        await page.keyboard.press("t")
        await page.wait_for_selector("dialog#transfer[open]")
        assert await text_of(page, "#transfer-h") == say("staff.transfer.heading_number",
                                                         number="A-001")
        assert await audit(page) == []
        await screenshot(page, "staff-transfer-dialog")
        await press(page, "1")
        await wait_text(page, "#status", say("staff.result.transferred", number="A-001",
                                             target="ido"))
        moved = await ticket(site, issued["A-001"])
        assert moved["service"] == "ido" and moved["state"] == "waiting"
        assert await current_number(page) == ""
        # The place is kept: A-001 (older) is ahead of B-001 in ido's line.
        await wait_list(page, "queue", ["A-002", "A-003", "A-001", "B-001"])

        # N, T, 4: A-002 to counter 3 (services ido, okuyami = 1, 2; counters 1, 3, 4, 5).
        await press(page, "n")
        assert await current_number(page) == "A-002"
        await page.keyboard.press("t")
        await page.wait_for_selector("dialog#transfer[open]")
        await press(page, "4")
        await wait_text(page, "#status", say("staff.result.transferred", number="A-002",
                                             target="3番窓口"))
        to_counter = await ticket(site, issued["A-002"])
        assert to_counter["target_counter"] == "3" and to_counter["state"] == "waiting"
        await wait_list(page, "queue", ["A-003", "A-001", "B-001"])

        # N, S, F: call, start, finish.
        await press(page, "n")
        assert await current_number(page) == "A-003"
        await press(page, "s")
        assert await page.get_attribute("#current", "data-state") == "serving"
        await press(page, "f")
        await wait_text(page, "#status", say("staff.result.finished", number="A-003"))
        assert (await ticket(site, issued["A-003"]))["state"] == "done"

        # N, P: park; 2 focuses the parked list, Enter resumes.
        await press(page, "n")
        assert await current_number(page) == "A-001"
        await press(page, "p")
        await wait_list(page, "parked", ["A-001"])
        assert (await ticket(site, issued["A-001"]))["state"] == "parked"
        await page.keyboard.press("2")
        assert await focus_is(page, "#parked > li[data-number='A-001']")
        assert await focus_ring_visible(page)
        await press(page, "Enter")
        await wait_text(page, "#status", say("staff.result.resumed", number="A-001"))
        assert (await ticket(site, issued["A-001"]))["state"] == "waiting"
        await wait_list(page, "parked", [])
        await wait_list(page, "queue", ["A-001", "B-001"])
        assert await focus_is(page, "#parked-h")  # the list ran empty: its heading

        # Escape leaves the list; N, X is refused until a recall (max_recalls 1).
        await page.keyboard.press("Escape")
        await press(page, "n")
        assert await current_number(page) == "A-001"
        await press(page, "x")
        await wait_text(page, "#alert", say("staff.error.recalls_required", number="A-001",
                                            left=1))
        await press(page, "r")
        await wait_text(page, "#status", say("staff.result.recalled", number="A-001"))
        assert await text_of(page, "#current-recalls") == say("staff.recalls", count=1)
        await press(page, "x")
        await wait_list(page, "noshows", ["A-001"])
        assert (await ticket(site, issued["A-001"]))["state"] == "no_show"
        # 3 focuses the no-shows, Enter rejoins with the original place.
        await page.keyboard.press("3")
        assert await focus_is(page, "#noshows > li[data-number='A-001']")
        await press(page, "Enter")
        await wait_text(page, "#status", say("staff.result.rejoined", number="A-001"))
        assert (await ticket(site, issued["A-001"]))["state"] == "waiting"
        await wait_list(page, "queue", ["A-001", "B-001"])

        # I: issue at the desk (walk-in services only: 1 = shomei), priority set by keyboard.
        await page.keyboard.press("Escape")
        await page.keyboard.press("i")
        await page.wait_for_selector("dialog#issue[open]")
        assert await audit(page) == []
        await tab_to(page, "#issue-priority")
        await page.keyboard.press("Space")
        await press(page, "1")
        await wait_text(page, "#status", say("staff.result.issued", number="A-004",
                                             service="shomei", ahead=0))
        board = await site.ok("GET", site.path("/counters/2/board"), role="staff")
        desk = [t for t in board["queue"] if t["number"] == "A-004"]
        assert desk and desk[0]["channel"] == "staff" and desk[0]["priority"] is True
        # The priority ticket is first in line now.
        await wait_list(page, "queue", ["A-004", "A-001", "B-001"])

        # Delete on a row asks first; Enter on the confirm button cancels.
        await page.keyboard.press("1")
        assert await focus_is(page, "#queue > li[data-number='A-004']")
        await page.keyboard.press("Delete")
        await page.wait_for_selector("dialog#confirm[open]")
        assert await focus_is(page, "#confirm-yes")
        await press(page, "Enter")
        await wait_text(page, "#status", say("staff.result.cancelled", number="A-004"))
        await wait_list(page, "queue", ["A-001", "B-001"])

        # A held key calls once, not once per repeat.
        calls_before = len(await called_events(site))
        await page.keyboard.press("Escape")
        before = await actions_done(page)
        await page.keyboard.down("n")
        await page.keyboard.down("n")  # auto-repeat: event.repeat is true
        await page.keyboard.up("n")
        await settled_after(page, before)
        assert await actions_done(page) == before + 1
        assert len(await called_events(site)) == calls_before + 1
        assert await current_number(page) == "A-001"
        # Space (nothing focused) calls next too, finishing A-001 first.
        await press(page, "Space")
        assert await current_number(page) == "B-001"
        assert (await ticket(site, issued["A-001"]))["state"] == "done"
        assert await audit(page) == []
    assert log.foreign() == [] and script_errors(log) == [], log


# --- two counters at once --------------------------------------------------------

async def test_two_consoles_never_call_the_same_ticket(site: AppHarness) -> None:
    log = RequestLog()
    for counter in ("1", "2"):
        await site.act(counter, "open")
    ids = {}
    for _ in range(12):
        t = await site.issue("shomei")
        ids[t["number"]] = t["id"]

    async with browser_pages() as browser, \
            counter_pc(browser, log, HALF_PC) as left, counter_pc(browser, log, HALF_PC) as right:
        await asyncio.gather(
            log_in(left, site, "clerk", f"/staff?office={OFFICE}&counter=1"),
            log_in(right, site, "clerk2", f"/staff?office={OFFICE}&counter=2"))
        for page, name in ((left, "1番窓口"), (right, "2番窓口")):
            await wait_text(page, "#counter-name", name)
            await page.wait_for_function("() => Number(document.body.dataset.boards) > 0")
        seen: dict[str, list[str]] = {"1": [], "2": []}
        # "Finished A-012. Nobody is waiting." ends with the same sentence.
        nobody = say("staff.result.nobody")
        done = {"1": False, "2": False}
        for round_ in range(len(ids) + 2):
            # Both clerks press N at the same moment.
            pages = [(c, p) for c, p in (("1", left), ("2", right)) if not done[c]]
            if not pages:
                break
            await asyncio.gather(*(press(p, "n") for _, p in pages))
            if round_ == 1:
                await screenshot(left, "staff-left-683")
                await screenshot(right, "staff-right-683")
            for counter, page in pages:
                number = await current_number(page)
                if number:
                    seen[counter].append(number)
                else:
                    assert nobody in await text_of(page, "#status")
                    done[counter] = True
        assert all(done.values()), seen
        for page in (left, right):
            assert await audit(page) == []
        folder = screenshot_folder()
        if folder is not None:
            side_by_side(folder)

    assert not set(seen["1"]) & set(seen["2"]), seen
    assert sorted(seen["1"] + seen["2"]) == sorted(ids), seen
    assert seen["1"] and seen["2"]  # both worked
    # The server agrees: each ticket was called exactly once, by one counter.
    called = await called_events(site)
    assert sorted(called) == sorted(ids), called
    for number, tid in ids.items():
        t = await ticket(site, tid)
        assert t["state"] in ("done", "called"), (number, t["state"])
        assert t["counter"]["id"] == ("1" if number in seen["1"] else "2")
    assert log.foreign() == [] and log.console_errors == [], log


def side_by_side(folder: Path) -> None:
    """The two half-screen windows as one 1366x768 picture."""
    try:
        from PIL import Image
    except ImportError:
        return
    left = Image.open(folder / "staff-left-683.png")
    right = Image.open(folder / "staff-right-683.png")
    both = Image.new("RGB", (left.width + right.width, max(left.height, right.height)), "white")
    both.paste(left, (0, 0))
    both.paste(right, (left.width, 0))
    both.save(folder / "staff-side-by-side.png")


# --- another office's clerk ------------------------------------------------------

async def test_clerk_of_another_office_is_refused(site: AppHarness) -> None:
    log = RequestLog()
    await site.act("1", "open")
    waiting = await site.issue("shomei")
    async with browser_pages() as browser, counter_pc(browser, log) as page:
        await log_in(page, site, "outsider", f"/staff?office={OFFICE}&counter=1", live=False)
        forbidden = say("staff.error.forbidden", office="テスト区役所")
        await wait_text(page, "#alert", forbidden)
        assert await page.is_hidden("#console")
        assert await text_of(page, "#current-number") == ""
        assert await audit(page) == []
        await screenshot(page, "staff-forbidden")
        # Acting anyway, with the session and its CSRF token, is refused too.
        answers = await page.evaluate(
            """async (office) => {
                const session = await (await fetch('/api/v1/session')).json();
                const post = (path) => fetch(path, {method: 'POST',
                    headers: {'X-CSRF-Token': session.csrf, 'Accept': 'application/json'}});
                const base = `/api/v1/offices/${office}`;
                return [
                    (await post(`${base}/counters/1/call-next`)).status,
                    (await fetch(`${base}/counters/1/board`)).status,
                    (await fetch(`/staff/${office}/config.json`)).status,
                ];
            }""", OFFICE)
        assert answers == [403, 403, 403]
        # Their own office works: C opens the choice, which lists only theirs.
        await page.keyboard.press("c")
        await page.wait_for_selector("dialog#picker[open]")
        assert await page.is_hidden("#picker-office-field")  # one office: no choice to make
        await page.keyboard.press("1")
        await wait_text(page, "#office-name", "テスト区役所")  # small_office's name
        assert "office=otheroffice&counter=1" in page.url
    assert (await ticket(site, waiting["id"]))["state"] == "waiting"
    assert log.foreign() == [] and script_errors(log) == [], log


async def test_clerk_moved_to_another_office_cannot_act(site: AppHarness) -> None:
    """An account moved to another office while its console is open: the
    next key is refused plainly (403) and the office's data leaves the screen."""
    log = RequestLog()
    await site.act("1", "open")
    waiting = await site.issue("shomei")
    async with browser_pages() as browser, counter_pc(browser, log) as page:
        await log_in(page, site, "clerk", f"/staff?office={OFFICE}&counter=1")
        await wait_list(page, "queue", [waiting["number"]])
        await users(site).set_role("clerk", "staff", [OTHER])
        await press(page, "n")
        await wait_text(page, "#alert", say("staff.error.forbidden", office="テスト区役所"))
        assert await page.is_hidden("#console")
        assert await audit(page) == []
    assert (await ticket(site, waiting["id"]))["state"] == "waiting"
    assert log.foreign() == [] and script_errors(log) == [], log


# --- a stale screen ---------------------------------------------------------------

async def test_stale_console_gets_ticket_mismatch_and_recovers(site: AppHarness,
                                                               clock: ManualClock) -> None:
    log = RequestLog()
    await site.act("1", "open")
    first = await site.issue("shomei")
    clock.advance(60)
    second = await site.issue("shomei")
    async with browser_pages() as browser, counter_pc(browser, log) as page:
        await log_in(page, site, "clerk", f"/staff?office={OFFICE}&counter=1")
        await wait_list(page, "queue", ["A-001", "A-002"])
        await press(page, "n")
        assert await current_number(page) == "A-001"

        # The board stops reaching this screen (held in the browser), while
        # someone else at counter 1 finishes A-001 and calls A-002.
        stale = await BoardHold.on(page, "1")
        await site.act("1", "finish")
        await site.act("1", "call-next")
        assert (await ticket(site, second["id"]))["state"] == "called"

        # F on the stale screen names A-001: refused, nothing finished.
        before = await actions_done(page)
        await page.keyboard.press("f")
        await wait_text(page, "#alert", JA["staff.error.ticket_mismatch"])
        assert await current_number(page) == "A-001"  # still the old board …
        assert await page.get_attribute("body", "data-busy") == "true"  # … until it is read
        assert (await ticket(site, second["id"]))["state"] == "called"
        assert (await ticket(site, first["id"]))["state"] == "done"

        await stale.release()
        await settled_after(page, before)
        await wait_text(page, "#current-number", "A-002")
        assert await text_of(page, "#alert") == JA["staff.error.ticket_mismatch"]
        assert await audit(page) == []
        await screenshot(page, "staff-mismatch")

        # Consistent again: F now finishes A-002.
        await press(page, "f")
        await wait_text(page, "#status", say("staff.result.finished", number="A-002"))
        assert await text_of(page, "#alert") == ""
    assert (await ticket(site, second["id"]))["state"] == "done"
    assert log.foreign() == [] and script_errors(log) == [], log


async def test_ticket_taken_elsewhere_a_moment_ago(site: AppHarness) -> None:
    """A parked ticket another counter resumed a moment ago (this list not
    yet redrawn): Enter says so plainly, and the list catches up."""
    log = RequestLog()
    await site.act("1", "open")
    parked = await site.issue("shomei")
    await site.act("1", "call-next")
    await site.act("1", "park", {"ticket": parked["id"]})
    async with browser_pages() as browser, counter_pc(browser, log) as page:
        await log_in(page, site, "clerk", f"/staff?office={OFFICE}&counter=1")
        await wait_list(page, "parked", ["A-001"])
        stale = await BoardHold.on(page, "1")
        await site.act("2", "resume", {"ticket": parked["id"]})  # counter 2, just now
        await page.keyboard.press("2")
        assert await focus_is(page, "#parked > li[data-number='A-001']")
        before = await actions_done(page)
        await page.keyboard.press("Enter")
        await wait_text(page, "#alert", say("staff.error.taken", number="A-001"))
        await stale.release()
        await settled_after(page, before)
        await wait_list(page, "parked", [])
        await wait_list(page, "queue", ["A-001"])
        assert await focus_is(page, "#parked-h")
        assert await audit(page) == []
    assert (await ticket(site, parked["id"]))["state"] == "waiting"
    assert log.foreign() == [] and script_errors(log) == [], log


async def test_admin_picks_any_office(site: AppHarness) -> None:
    log = RequestLog()
    await users(site).create("chief", PASSWORD, "admin")
    async with browser_pages() as browser, counter_pc(browser, log) as page:
        await log_in(page, site, "chief")
        await page.wait_for_selector("dialog#picker[open]")
        assert await page.is_visible("#picker-office-field")
        options = await page.eval_on_selector_all(
            "#picker-office option", "(os) => os.map((o) => o.value)")
        assert options == [OTHER, OFFICE]  # every office, in id order
        await page.wait_for_selector(f"#picker-counters[data-office='{OTHER}']")
        # Keyboard: back to the office list, the next office, then counter 3 by its digit.
        await page.keyboard.press("Shift+Tab")
        assert await focus_is(page, "#picker-office")
        await page.keyboard.press("ArrowDown")
        await page.wait_for_selector(f"#picker-counters[data-office='{OFFICE}']")
        await page.keyboard.press("Tab")
        assert await focus_is(page, "#picker-counters button.choice")
        await page.keyboard.press("3")
        await wait_text(page, "#counter-name", "3番窓口")
        assert f"office={OFFICE}&counter=3" in page.url
        assert await audit(page) == []
    assert log.foreign() == [] and log.console_errors == [], log


# --- a booked ticket --------------------------------------------------------------

async def test_booking_name_shown_for_a_booked_ticket(redis: Redis, tenant: str) -> None:
    log = RequestLog()
    clock = ManualClock()  # Friday 11/27 10:00: book Monday 9:00, then it is Monday 8:55
    async with make_site(redis, tenant, clock, booking_capable_office()) as site:
        bookings = Bookings(Engine(redis, tenant, clock=clock), b"s")
        await bookings.book(OFFICE, "okuyami", datetime(2026, 11, 30, 9, tzinfo=JST),
                            "090-1234-5678", name="山田 花子")
        clock.now = datetime(2026, 11, 30, 8, 55, tzinfo=JST).timestamp()
        await site.act("5", "open")
        checked_in = await bookings.check_in(OFFICE, phone="090-1234-5678")
        # The kiosk read the citizen's My Number card (書かない).
        card = {"name": "山田\u3000花子", "address": "北九州市小倉北区城内1-1",
                "birth_date": "1980-01-02", "sex": "2"}
        await site.ok("POST", f"/api/v1/tickets/{checked_in['id']}/prefill", 204,
                      role="kiosk", json_body=card)
        async with browser_pages() as browser, counter_pc(browser, log) as page:
            await log_in(page, site, "clerk", f"/staff?office={OFFICE}&counter=5")
            await wait_list(page, "queue", [checked_in["number"]])
            row = await text_of(page, "#queue > li")
            assert "山田 花子" in row and "09:00" in row
            # 8:55: checked in early, the booking waits for its 9:00 slot, and
            # the clerk is told so rather than "nobody is waiting".
            await press(page, "n")
            assert await text_of(page, "#status") == say(
                "staff.result.nobody_until", number=checked_in["number"], time="09:00")
            await wait_list(page, "queue", [checked_in["number"]])
            clock.now = datetime(2026, 11, 30, 9, tzinfo=JST).timestamp()
            await press(page, "n")
            assert await current_number(page) == checked_in["number"]
            assert await text_of(page, "#booking-name") == say("staff.booking.name",
                                                               name="山田 花子")
            assert await text_of(page, "#booking-slot") == "09:00"
            assert await text_of(page, "#prefill-address") == card["address"]
            assert await text_of(page, "#prefill-sex") == JA["staff.prefill.sex_female"]
            assert await text_of(page, "#prefill-birth") == "1980年1月2日（昭和55年）"
            assert await text_of(page, "#current-channel") == JA["staff.channel.online"]
            assert await audit(page) == []
            await screenshot(page, "staff-booking")
            # English, by keyboard: the screen and the last result follow.
            en = catalog("staff", "en")
            await tab_to(page, "button[data-lang='en']")
            await page.keyboard.press("Enter")
            await wait_text(page, "#current-channel", en["staff.channel.online"])
            assert await page.get_attribute("html", "lang") == "en"
            assert await text_of(page, "#status") == en["staff.result.called"].replace(
                "{number}", checked_in["number"]).replace("{service}", "okuyami")
            assert await text_of(page, "#booking-name") == "山田 花子"
            assert await text_of(page, "#prefill-birth") == "January 2, 1980"
            assert await audit(page) == []
            await screenshot(page, "staff-booking-en")
            # Never on the public board.
            status = await site.ok("GET", site.path("/status"))
            assert "山田" not in json.dumps(status, ensure_ascii=False)
    assert log.foreign() == [] and log.console_errors == [], log


async def test_card_birth_date_without_month_or_day(site: AppHarness) -> None:
    """Some residence-card holders' cards carry 00 for an unknown month or
    day: the clerk sees what is known, with the 和暦 (both eras when the
    known part spans a change of era)."""
    log = RequestLog()
    await site.act("1", "open")
    ticket = await site.issue()
    card = {"name": "SMITH JOHN", "address": "北九州市小倉北区城内1-1",
            "birth_date": "19890100", "sex": "1"}  # as the card stores it
    await site.ok("POST", f"/api/v1/tickets/{ticket['id']}/prefill", 204, role="kiosk",
                  json_body=card)
    async with browser_pages() as browser, counter_pc(browser, log) as page:
        await log_in(page, site, "clerk", f"/staff?office={OFFICE}&counter=1")
        await wait_list(page, "queue", [ticket["number"]])
        await press(page, "n")
        assert await current_number(page) == ticket["number"]
        assert await text_of(page, "#prefill-birth") == "1989年1月（昭和64年／平成元年）"
        shown = await page.evaluate("""async (cases) => {
            const { formatBirth } = await import("/static/queue/staff/birth.js");
            return cases.map(([value, lang]) => formatBirth(value, lang));
        }""", [["1985", "ja"], ["2019-05", "ja"], ["2019-04", "ja"], ["1985-03", "en"],
               ["1985", "en"], ["1985-03-02", "ko"], ["1985-03", "zh-Hans"]])
        assert shown == ["1985年（昭和60年）", "2019年5月（令和元年）", "2019年4月（平成31年）",
                         "March 1985", "1985", "1985년 3월 2일", "1985年3月"]
        assert await audit(page) == []
    assert log.foreign() == [] and log.console_errors == [], log


# --- printers ---------------------------------------------------------------------

async def test_printer_trouble_banner_and_reprint(site: AppHarness) -> None:
    log = RequestLog()
    await site.act("1", "open")
    printed = await site.issue("shomei")
    jobs = PrintJobs(site.engine, "http://127.0.0.1")
    await jobs.report_status(OFFICE, KIOSK, "ok", {}, "1階入口")
    async with browser_pages() as browser, counter_pc(browser, log) as page:
        await log_in(page, site, "clerk", f"/staff?office={OFFICE}&counter=1")
        await wait_list(page, "queue", ["A-001"])
        assert await page.is_hidden("#printers")  # nothing wrong: no banner
        # The kiosk's printer runs out of paper on A-001 (print.done ok=false).
        await jobs.print_ticket(OFFICE, KIOSK, printed["id"])
        await jobs.ack(OFFICE, KIOSK, printed["id"], False, "paper_end")
        line = say("staff.printer.line", kiosk="1階入口", state=JA["staff.printer.paper_end"])
        await wait_text(page, "#printer-list", line)
        await wait_text(page, "#printers-live", line)  # announced (role=alert)
        assert await audit(page) == []
        await screenshot(page, "staff-printer")
        # Paper refilled: reprint by keyboard.
        await jobs.report_status(OFFICE, KIOSK, "ok", {}, "1階入口")
        await tab_to(page, "button.reprint", backwards=True)
        assert await text_of(page, "button.reprint") == say("staff.printer.reprint",
                                                            number="A-001")
        assert await focus_ring_visible(page)
        await press(page, "Enter")
        await wait_text(page, "#status", say("staff.result.reprinting", number="A-001",
                                             kiosk="1階入口"))
    pending = [job["id"] for job in await jobs.pending(OFFICE, KIOSK)]
    assert f"{printed['id']}:r1" in pending
    assert log.foreign() == [] and log.console_errors == [], log


# --- one browser, two windows ------------------------------------------------------

async def test_two_windows_of_one_browser_keep_their_counters(site: AppHarness,
                                                              clock: ManualClock) -> None:
    """The choice is remembered on the PC for the next window, and each
    window keeps its own in its address; what one window does shows live
    in the other."""
    log = RequestLog()
    for counter in ("1", "2"):
        await site.act(counter, "open")
    await site.issue("shomei")
    clock.advance(60)
    await site.issue("shomei")
    async with browser_pages() as browser, counter_pc(browser, log) as first:
        await log_in(first, site, "clerk")
        await first.wait_for_selector("dialog#picker[open]")
        await first.keyboard.press("1")
        await wait_text(first, "#counter-name", "1番窓口")
        await wait_list(first, "queue", ["A-001", "A-002"])

        second = await first.context.new_page()
        second.on("pageerror", lambda e: log.console_errors.append(str(e)))
        await second.goto(base_url(site) + "/staff")
        await wait_ready(second)
        await wait_text(second, "#counter-name", "1番窓口")  # remembered on this PC
        await second.keyboard.press("c")
        await second.wait_for_selector("dialog#picker[open]")
        assert await focus_is(second, "#picker-counters button[aria-current='true']")
        await second.keyboard.press("2")
        await wait_text(second, "#counter-name", "2番窓口")
        await wait_list(second, "queue", ["A-001", "A-002"])

        # Counter 2 calls A-001: window 1 sees it leave its line, live.
        await press(second, "n")
        assert await current_number(second) == "A-001"
        await wait_list(first, "queue", ["A-002"])
        # Each window stays at its own counter after a reload.
        await first.reload()
        await wait_ready(first)
        await wait_text(first, "#counter-name", "1番窓口")
        await second.reload()
        await wait_ready(second)
        await wait_text(second, "#counter-name", "2番窓口")
        await wait_text(second, "#current-number", "A-001")
    assert log.foreign() == [] and log.console_errors == [], log


# --- the connection ---------------------------------------------------------------

async def test_offline_is_shown_and_the_console_catches_up(site: AppHarness,
                                                           clock: ManualClock) -> None:
    log = RequestLog()
    await site.act("1", "open")
    await site.issue("shomei")
    async with browser_pages() as browser, counter_pc(browser, log) as page:
        sockets: list[str] = []
        page.on("websocket", lambda ws: sockets.append(ws.url))
        await log_in(page, site, "clerk", f"/staff?office={OFFICE}&counter=1")
        await wait_list(page, "queue", ["A-001"])
        assert await page.is_hidden("#offline")
        assert await text_of(page, "#connection") == JA["staff.online"]
        # The server drops every socket (a restart): said at once, plainly.
        for ws in list(site.app[OPEN_SOCKETS]):
            await ws.close()
        await page.wait_for_selector("#offline", state="visible", timeout=WAIT_MS)
        assert await text_of(page, "#offline") == JA["staff.offline"]
        clock.advance(60)
        await site.issue("shomei")  # while away, or just back: either way it shows
        await page.wait_for_selector("#offline", state="hidden", timeout=WAIT_MS)
        await wait_list(page, "queue", ["A-001", "A-002"])
        # It resumed after the last event it had, not from scratch.
        assert any("since=" in url for url in sockets[1:]), sockets
    assert log.foreign() == [] and log.console_errors == [], log


async def test_session_over_goes_to_login_and_back_to_the_counter(site: AppHarness) -> None:
    log = RequestLog()
    await site.act("1", "open")
    waiting = await site.issue("shomei")
    async with browser_pages() as browser, counter_pc(browser, log) as page:
        await log_in(page, site, "clerk", f"/staff?office={OFFICE}&counter=1")
        await wait_list(page, "queue", ["A-001"])
        # The session ends on the server (an administrator, or the idle timeout).
        await site.app[LOGIN].sessions.revoke_user("clerk")  # type: ignore[union-attr]
        await page.keyboard.press("n")
        # (Polled: the page replaces session.js's plain trip to the login
        # page by one that says why, so the first navigation is aborted.)
        await expect(page).to_have_url(re.compile(r"/login\?next=.*error=session_expired"),
                                       timeout=WAIT_MS)
        await wait_ready(page)
        await wait_text(page, "#alert", JA["error.session_expired"])
        assert (await ticket(site, waiting["id"]))["state"] == "waiting"  # nothing was done
        # Logging in again comes back to the same counter.
        await type_login(page, "clerk")
        await page.wait_for_url(re.compile(r"/staff\?office=testoffice&counter=1$"))
        await wait_ready(page)
        await wait_list(page, "queue", ["A-001"])
    assert log.foreign() == [] and script_errors(log) == [], log


# --- the page and its configuration endpoint without a browser -----------------------

async def test_page_needs_login_and_config_is_staff_only(site: AppHarness) -> None:
    async with site.client.get("/staff?office=testoffice&counter=1",
                               allow_redirects=False) as resp:
        assert resp.status == 303
        assert resp.headers["Location"] == "/login?next=" + quote(
            "/staff?office=testoffice&counter=1", safe="")
    path = f"/staff/{OFFICE}/config.json"
    status, _ = await site.request("GET", path)
    assert status == 401
    for role in ("kiosk", "display"):
        status, _ = await site.request("GET", path, role=role)
        assert status == 403
    config = await site.ok("GET", path, role="staff")
    assert config["max_recalls"] == 1 and config["rejoin_minutes"] == 10
    assert [c["id"] for c in config["counters"]] == ["1", "2", "3", "4", "5"]
    assert config["counters"][1]["services"] == ["shomei", "ido"]
    assert [(s["id"], s["walk_in"]) for s in config["services"]] == [
        ("shomei", True), ("ido", True), ("okuyami", False)]
    status, body = await site.request("GET", "/staff/nowhere/config.json", role="staff")
    assert status == 404 and body["error"]["code"] == "unknown_office"


# --- catalogs and markup --------------------------------------------------------------

def keys_used() -> set[str]:
    return keys_named("staff", r'"((?:staff|error|common|lang)\.[a-z_.]+)"')


def test_every_catalog_has_every_key() -> None:
    ja = catalog("staff")
    login = catalog("login")
    used = keys_used()
    missing = {k for k in used if k not in ja and k not in login}
    assert not missing, sorted(missing)
    assert {k for k in ja if k not in used} == set(), "unused keys"
    for lang in LANGS:
        data = catalog("staff", lang)
        assert set(data) == set(ja), (lang, set(ja) ^ set(data))
        for key, text in data.items():
            assert text.strip(), (lang, key)
            assert set(re.findall(r"\{\w+\}", text)) == set(re.findall(r"\{\w+\}", ja[key])), (
                lang, key)


def test_markup_has_no_inline_code_and_reads_in_japanese() -> None:
    html = (STATIC / "staff" / "staff.html").read_text(encoding="utf-8")
    assert '<html lang="ja">' in html
    assert "<script>" not in html and "style=" not in html and "<style" not in html
    for key, text in re.findall(r'data-i18n="([^"]+)">([^<]+)<', html):
        assert text.strip() == JA[key], key
    for path in (STATIC / "staff").glob("*.js"):
        code = path.read_text(encoding="utf-8")
        assert "innerHTML" not in code and "eval(" not in code, path.name
        # Only this server's own modules.
        for spec in re.findall(r'from "([^"]+)"', code):
            assert spec.startswith(("./", "../login/", "../common/")), (path.name, spec)
