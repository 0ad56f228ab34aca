"""The My Number card step of the kiosk page (書かない), in Debian's headless
Chromium (Playwright) against the app in-process on a ManualClock during
opening hours. The kiosk agent is the real KioskAgent with
checkin/card_agent.py over a real /ws/kiosk-agent websocket, printing to a
fake network printer; only the card is a function (tests/test_card_relay.py's
FakeCard; the PC/SC path is tests/test_cardreader.py's). The crypto is real:
card.js in the page, the agent's in Python, the server relaying between.

What must hold: the step is optional and never holds the ticket up; the
clerk's counter board shows what the card says for that ticket; every
failure is explained and leaves the ticket as it was; the PIN never leaves
the page in clear (only `ciphertext`); the PIN and the card's data are gone
from the page when the step ends or the kiosk returns home; nothing goes to
another host, into storage or to the console."""

from __future__ import annotations

import json
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from checkin.cardreader import (
    CardError,
    CardRemoved,
    NoCard,
    NoReader,
    PinBlocked,
    ReaderBusy,
    UnknownCard,
)
from tests.browser import audit, tab_to
from tests.conftest import ManualClock
from tests.fake_printer import FakePrinter
from tests.servers import AppHarness, app_harness
from tests.test_card_relay import (
    PERSON,
    PIN,
    FakeCard,
    _key_gone,
    _no_listener,
    agent_running,
    eventually,
)
from tests.test_kiosk_page import (
    LANDSCAPE,
    MS,
    PORTRAIT,
    TARGETS_JS,
    catalog,
    kiosk_context,
    kiosk_office,
    on_screen,
    open_kiosk,
    text_of,
    visible,
)

# What the clerk sees (POST /tickets/{id}/prefill, then the counter board).
PREFILL = {"name": "鶴見\u3000柚葉", "address": PERSON.address, "birth_date": "1976-09-15",
           "sex": "1"}
CARD_TEXTS = ["鶴見", "柚葉", PERSON.address, "戸畑区", "1976-09-15", "19760915"]
PIN_RE = re.compile(rf"(?<!\d){PIN}(?!\d)")
# Chromium's own console notes of answers the page expects: the card API's
# refusals (422 wrong PIN …, 409 reader in use, 503 no agent) and an aborted request.
CARD_REFUSED = (r"^Failed to load resource: (the server responded with a status of "
                r"(409|422|503) |net::ERR_FAILED)")
SHOTS = os.environ.get("KIOSK_CARD_SHOTS")  # a directory: screenshots of every card screen


@pytest.fixture
async def site(redis: Redis, tenant: str, clock: ManualClock) -> AsyncIterator[AppHarness]:
    async with app_harness(redis, tenant, kiosk_office(), clock=clock) as harness:
        yield harness


@dataclass
class Wire:
    """Every request the page sends, with its body."""

    sent: list[tuple[str, str, str]] = field(default_factory=list)  # method, url, body
    console: list[tuple[str, str]] = field(default_factory=list)  # every message, any type

    def attach(self, page: Any) -> None:
        page.on("request", lambda r: self.sent.append((r.method, r.url, r.post_data or "")))
        page.on("console", lambda m: self.console.append((m.type, m.text)))

    def assert_console_quiet(self) -> None:
        """The page logs nothing itself (no log, info or warning either):
        only Chromium's notes of the refusals the page expects."""
        for kind, text in self.console:
            assert kind == "error" and re.search(CARD_REFUSED, text), (kind, text)

    def to(self, pattern: str) -> list[tuple[str, str, str]]:
        return [s for s in self.sent if re.search(pattern, s[1])]

    def assert_pin_sealed(self) -> None:
        for method, url, body in self.sent:
            assert not PIN_RE.search(body) and '"pin"' not in body, (method, url, body)
            assert not PIN_RE.search(url), url
        for _, _, body in self.to(r"/api/v1/kiosk/card-read$"):
            assert set(json.loads(body)) == {"request", "page_public_key", "iv", "ciphertext"}

    def assert_card_only_to_the_clerk(self) -> None:
        for _, url, body in self.sent:
            if re.search(r"/prefill$", url):
                continue
            for text in CARD_TEXTS:
                assert text not in body and text not in url, (url, body)


# --- steps -----------------------------------------------------------------------------


async def issue(page: Any, service: str = "juminhyo") -> dict[str, Any]:
    """A walk-in ticket: the card step is offered first."""
    async with page.expect_response(re.compile(r"/tickets$")) as issued:
        await page.click(f"#service-list button[data-service='{service}']")
    ticket = await (await issued.value).json()
    assert isinstance(ticket, dict)
    await on_screen(page, "card-offer")
    return ticket


async def to_pin(page: Any) -> None:
    await page.click("#card-agree")
    await on_screen(page, "card-place")
    await page.click("#card-placed")
    await on_screen(page, "card-pin")


async def tap_pin(page: Any, digits: str) -> None:
    for d in digits:
        await page.click(f"#pin-keypad button[data-key='{d}']")


async def filled(page: Any) -> int:
    return int(await page.locator("#pin-boxes .pin-box.filled").count())


async def back_home(page: Any) -> None:
    """From the card step's end to the ticket screen, then home."""
    await on_screen(page, "ticket")
    await page.click("#ticket-done")
    await on_screen(page, "home")


async def board(site: AppHarness) -> dict[str, Any]:
    """Counter 1's board after staff call the next ticket."""
    await site.act("1", "open")
    await site.act("1", "call-next")
    data = await site.ok("GET", site.path("/counters/1/board"), role="staff")
    assert isinstance(data, dict)
    return data


# The whole page as markup (the QR's drawing left out: its path data is
# digits that may spell anything) and its visible text.
PAGE_TEXT_JS = """
() => {
  const copy = document.documentElement.cloneNode(true);
  for (const svg of copy.querySelectorAll("#ticket-qr svg")) svg.remove();
  return copy.outerHTML + "\\n" + document.body.innerText;
}
"""


async def assert_nothing_left(page: Any) -> None:
    text = await page.evaluate(PAGE_TEXT_JS)
    assert not PIN_RE.search(text), "the PIN is in the page"
    for secret in CARD_TEXTS:
        assert secret not in text, f"card data in the page: {secret}"
    assert await filled(page) == 0
    stored = await page.evaluate("Object.keys(localStorage)")
    assert all(re.fullmatch(r"madoguchi\.kiosk\.testoffice\.(token|id)", k) for k in stored), stored


# --- the step, end to end ---------------------------------------------------------------


async def test_consent_pin_read_and_the_clerk_sees_the_card(
    site: AppHarness, clock: ManualClock, browser: Any, printer: FakePrinter, tmp_path: Path
) -> None:
    ja = catalog("ja")
    token = await site.token("kiosk")
    card = FakeCard()
    wire = Wire()
    async with agent_running(site, token, printer, tmp_path, card), \
            kiosk_context(browser, clock) as page:
        wire.attach(page)
        await open_kiosk(page, site, token=token)
        ticket = await issue(page)
        # The offer says what is read and what for, with the ticket in sight;
        # the ticket prints meanwhile (the step holds nothing up).
        offer = await text_of(page, "#screen-card-offer")
        for key in ("card.offer_title", "card.read_items", "card.no_my_number", "card.use_text",
                    "card.agree", "card.skip"):
            assert ja[key] in offer, key
        assert "氏名・住所・生年月日・性別" in offer
        assert await text_of(page, "#card-ticket-number") == ticket["number"] == "A-001"
        await page.wait_for_selector("body[data-print='printed']", state="attached", timeout=MS)
        assert await page.get_attribute("body", "data-screen") == "card-offer"
        assert await text_of(page, "#card-ticket-print") == ja["print.done"]
        assert wire.to(r"/kiosk/card-") == []  # nothing before "I agree"

        await to_pin(page)
        assert await text_of(page, "#h-card-pin") == ja["card.pin_title"]
        await tap_pin(page, PIN[:2])
        assert await filled(page) == 2
        assert await text_of(page, "#pin-count") == ja["card.pin_entered"].format(n=2)
        assert await page.is_disabled("#pin-submit")
        await tap_pin(page, "5")
        await page.click("#pin-keypad button[data-key='back']")
        await tap_pin(page, PIN[2:] + "9")  # a fifth digit does not go in
        assert await filled(page) == 4
        assert not await page.is_disabled("#pin-submit")
        # Masked: the digits are nowhere in the page.
        assert not PIN_RE.search(await page.evaluate(PAGE_TEXT_JS))

        async with page.expect_response(re.compile(r"/prefill$")) as prefilled:
            await page.click("#pin-submit")
        assert (await prefilled.value).status == 204
        await on_screen(page, "card-done")
        assert await text_of(page, "#h-card-done") == ja["card.done_title"]
        assert ja["card.take_card"] in await text_of(page, "#screen-card-done")
        await assert_nothing_left(page)
        assert card.calls == 1

        # On to the usual ticket screen; the printed ticket's time on screen
        # starts there.
        await page.click("#card-done-continue")
        await on_screen(page, "ticket")
        assert await text_of(page, "#ticket-number") == "A-001"
        assert await visible(page, "#card-ticket") is False
        assert await text_of(page, "#ticket-countdown") in {
            ja["ticket.countdown"].format(seconds=n) for n in (15, 14)}
        await page.clock.run_for(15_000)
        await on_screen(page, "home")
        await assert_nothing_left(page)

    (read,) = wire.to(r"/api/v1/kiosk/card-read$")
    assert read[0] == "POST"
    (sent,) = wire.to(r"/prefill$")
    assert sent[1].endswith(f"/api/v1/tickets/{ticket['id']}/prefill")
    assert json.loads(sent[2]) == PREFILL
    wire.assert_pin_sealed()
    wire.assert_console_quiet()
    wire.assert_card_only_to_the_clerk()
    # The clerk's board shows it for that ticket.
    data = await board(site)
    assert data["current"]["id"] == ticket["id"]
    assert data["current"]["prefill"] == PREFILL


async def test_no_thanks_skips_and_sends_nothing(
    site: AppHarness, clock: ManualClock, browser: Any, printer: FakePrinter, tmp_path: Path
) -> None:
    token = await site.token("kiosk")
    card = FakeCard()
    wire = Wire()
    async with agent_running(site, token, printer, tmp_path, card), \
            kiosk_context(browser, clock) as page:
        wire.attach(page)
        await open_kiosk(page, site, token=token)
        ticket = await issue(page, "tenkyo")
        await page.click("#card-skip")
        await on_screen(page, "ticket")
        assert await text_of(page, "#ticket-number") == ticket["number"] == "B-001"
        # Also from the card screens further on: "without the card".
        await page.click("#ticket-done")
        await on_screen(page, "home")
        await issue(page, "tenkyo")
        await to_pin(page)
        await tap_pin(page, PIN[:3])
        await page.click("#pin-without")
        await on_screen(page, "ticket")
        await assert_nothing_left(page)
    assert card.calls == 0
    assert wire.to(r"/prefill$|/kiosk/card-read$") == []
    wire.assert_console_quiet()
    # Two tickets issued in the same (manual) second: either may be called first.
    data = await board(site)
    assert data["current"]["number"] in ("B-001", "B-002")
    assert data["current"]["prefill"] is None
    assert [k async for k in site.redis.scan_iter(match=f"mg:{{{site.tenant}:*:pf:*")] == []


async def test_wrong_pin_then_the_right_one_by_keyboard(
    site: AppHarness, clock: ManualClock, browser: Any, printer: FakePrinter, tmp_path: Path
) -> None:
    ja = catalog("ja")
    token = await site.token("kiosk")
    card = FakeCard()
    wire = Wire()
    async with agent_running(site, token, printer, tmp_path, card), \
            kiosk_context(browser, clock, expected_errors=CARD_REFUSED) as page:
        wire.attach(page)
        await open_kiosk(page, site, token=token)
        ticket = await issue(page)
        # Keyboard only, from here on.
        await tab_to(page, "#card-agree")
        await page.keyboard.press("Enter")
        await on_screen(page, "card-place")
        await tab_to(page, "#card-placed")
        await page.keyboard.press("Enter")
        await on_screen(page, "card-pin")
        await page.keyboard.type("1111")
        assert await filled(page) == 4
        await page.keyboard.press("Enter")
        await on_screen(page, "card-error")
        assert await text_of(page, "#h-card-error") == ja["card.wrong_pin_title"]
        said = await text_of(page, "#card-error-text")
        # Two tries left on the card, but the kiosk never spends the last:
        # one more here, and nothing is said of locking.
        assert said == ja["card.wrong_pin_one_more"]
        assert "あと1回" in said and "ロック" not in said
        assert await text_of(page, "#card-retry") == ja["card.retry_pin"]
        assert await visible(page, "#card-error-continue")
        await assert_nothing_left(page)

        await tab_to(page, "#card-retry")
        await page.keyboard.press("Enter")
        await on_screen(page, "card-pin")
        assert await filled(page) == 0  # the wrong PIN is not kept
        await page.keyboard.type(PIN[:3])
        await page.keyboard.press("Backspace")
        await page.keyboard.press("Delete")  # all gone
        assert await filled(page) == 0
        await page.keyboard.type(PIN)
        async with page.expect_response(re.compile(r"/prefill$")) as prefilled:
            await page.keyboard.press("Enter")
        assert (await prefilled.value).status == 204
        await on_screen(page, "card-done")
        # Not touched: on to the ticket screen by itself.
        await page.clock.run_for(10_000)
        await on_screen(page, "ticket")
        await assert_nothing_left(page)
    assert card.calls == 2
    assert len(wire.to(r"/kiosk/card-read$")) == 2
    wire.assert_pin_sealed()
    wire.assert_console_quiet()
    wire.assert_card_only_to_the_clerk()
    data = await board(site)
    assert data["current"]["id"] == ticket["id"] and data["current"]["prefill"] == PREFILL


async def test_the_last_try_is_never_used(
    site: AppHarness, clock: ManualClock, browser: Any, printer: FakePrinter, tmp_path: Path
) -> None:
    ja = catalog("ja")
    token = await site.token("kiosk")
    card = FakeCard(tries=1)
    wire = Wire()
    async with agent_running(site, token, printer, tmp_path, card), \
            kiosk_context(browser, clock, expected_errors=CARD_REFUSED) as page:
        wire.attach(page)
        await open_kiosk(page, site, token=token)
        # One try left on the card: the agent stops before VERIFY.
        await issue(page)
        await to_pin(page)
        await tap_pin(page, PIN)
        await page.click("#pin-submit")
        await on_screen(page, "card-error")
        assert await text_of(page, "#h-card-error") == ja["card.last_try_title"]
        said = await text_of(page, "#card-error-text")
        assert said == ja["card.last_try"]
        assert "暗証番号の残り回数が1回です。窓口で手続きしてください" in said
        assert not await visible(page, "#card-retry")  # no way to spend it here
        assert await visible(page, "#card-error-take")
        await page.click("#card-error-continue")
        await back_home(page)
        assert card.calls == 1 and card.tries == 1
        assert len(wire.to(r"/kiosk/card-read$")) == 1

        # Two tries left and a wrong PIN: one left now, so no retry either.
        card.tries = 2
        await issue(page)
        await to_pin(page)
        await tap_pin(page, "0000")
        await page.click("#pin-submit")
        await on_screen(page, "card-error")
        # The PIN was wrong: the title says so, the text why there is no retry.
        assert await text_of(page, "#h-card-error") == ja["card.wrong_pin_title"]
        assert await text_of(page, "#card-error-text") == ja["card.last_try"]
        assert not await visible(page, "#card-retry")
        await page.click("#card-error-continue")
        await on_screen(page, "ticket")
        await assert_nothing_left(page)
    assert card.calls == 2 and card.tries == 1
    assert len(wire.to(r"/kiosk/card-read$")) == 2
    assert wire.to(r"/prefill$") == []
    wire.assert_pin_sealed()
    wire.assert_console_quiet()
    data = await board(site)
    assert data["current"]["prefill"] is None


async def test_without_the_agent_the_citizen_goes_on_without_the_card(
    site: AppHarness, clock: ManualClock, browser: Any, printer: FakePrinter, tmp_path: Path
) -> None:
    ja = catalog("ja")
    token = await site.token("kiosk")
    card = FakeCard()
    wire = Wire()
    async with kiosk_context(browser, clock, expected_errors=CARD_REFUSED) as page:
        wire.attach(page)
        await open_kiosk(page, site, token=token)
        # No agent at all: said at "I agree", before any PIN is typed.
        ticket = await issue(page)
        await page.click("#card-agree")
        await on_screen(page, "card-error")
        assert await text_of(page, "#h-card-error") == ja["card.unavailable_title"]
        assert await text_of(page, "#h-card-error") == "ただいまカードを読み取れません"
        assert await text_of(page, "#card-error-text") == ja["card.unavailable"]
        assert not await visible(page, "#card-retry")
        assert await text_of(page, "#card-ticket-number") == ticket["number"]
        await page.click("#card-error-continue")
        await on_screen(page, "ticket")
        assert await text_of(page, "#ticket-number") == ticket["number"]
        await page.click("#ticket-done")
        await on_screen(page, "home")
        assert wire.to(r"/kiosk/card-read$") == []

        # The agent goes away while the citizen types the PIN.
        async with agent_running(site, token, printer, tmp_path, card):
            second = await issue(page)
            await to_pin(page)
            await tap_pin(page, PIN)
        channel = f"mg:{{{site.tenant}:{site.office}}}:card:"
        await eventually(lambda: _no_listener(site.redis, channel))
        await eventually(lambda: _key_gone(site, token))
        # Its key went with it: the page hears so when it asks for the key.
        async with page.expect_response(re.compile(r"/kiosk/card-key$")) as answered:
            await page.click("#pin-submit")
        assert (await answered.value).status == 503
        await on_screen(page, "card-error")
        assert await text_of(page, "#h-card-error") == ja["card.unavailable_title"]
        await page.click("#card-error-continue")
        await on_screen(page, "ticket")
        assert await text_of(page, "#ticket-number") == second["number"]
        await assert_nothing_left(page)
    assert card.calls == 0
    assert wire.to(r"/prefill$") == []
    wire.assert_pin_sealed()
    wire.assert_console_quiet()


async def test_inactivity_at_the_pin_pad_returns_home_with_the_pad_empty(
    site: AppHarness, clock: ManualClock, browser: Any, printer: FakePrinter, tmp_path: Path
) -> None:
    ja = catalog("ja")
    token = await site.token("kiosk")
    card = FakeCard()
    wire = Wire()
    async with agent_running(site, token, printer, tmp_path, card), \
            kiosk_context(browser, clock) as page:
        wire.attach(page)
        await open_kiosk(page, site, token=token)
        await issue(page)
        await page.click("#lang-list button[data-lang='en']")  # a visit in English
        await to_pin(page)
        await tap_pin(page, PIN[:3])
        assert await filled(page) == 3
        await page.clock.run_for(50_000)
        assert await visible(page, "#idle-warning")
        await page.clock.run_for(10_000)
        await on_screen(page, "home")
        assert await text_of(page, "#h-home") == ja["home.title"]
        assert not await visible(page, "#card-ticket")
        assert await text_of(page, "#card-ticket-number") == ""
        assert await page.is_disabled("#pin-submit")
        await assert_nothing_left(page)
        # The next citizen's PIN pad starts empty.
        await issue(page)
        await to_pin(page)
        assert await filled(page) == 0
        assert await text_of(page, "#pin-count") == ja["card.pin_entered"].format(n=0)
    assert card.calls == 0
    assert wire.to(r"/kiosk/card-read$|/prefill$") == []
    wire.assert_console_quiet()


class ScriptedCard(FakeCard):
    """Fails with the given card errors in turn, then reads as FakeCard."""

    def __init__(self, errors: list[CardError]) -> None:
        super().__init__()
        self.errors = errors

    def __call__(self, pin: str) -> Any:
        if self.errors:
            self.calls += 1
            raise self.errors.pop(0)
        return super().__call__(pin)


# (agent's error, catalog title, where "try again" goes or None)
CARD_FAILURES: list[tuple[CardError | None, str, str | None]] = [
    (NoCard(), "card.no_card_title", "card-place"),
    (CardRemoved(), "card.removed_title", "card-place"),
    (UnknownCard(), "card.unknown_title", "card-place"),
    (PinBlocked(), "card.pin_blocked_title", None),
    (NoReader(), "card.unavailable_title", None),
    (ReaderBusy(), "card.unavailable_title", None),
]


async def test_every_failure_is_explained_and_keeps_the_ticket(
    site: AppHarness, clock: ManualClock, browser: Any, printer: FakePrinter, tmp_path: Path
) -> None:
    ja = catalog("ja")
    token = await site.token("kiosk")
    card = ScriptedCard([e for e, _, _ in CARD_FAILURES if e is not None])
    wire = Wire()
    async with agent_running(site, token, printer, tmp_path, card), \
            kiosk_context(browser, clock, expected_errors=CARD_REFUSED) as page:
        wire.attach(page)
        await open_kiosk(page, site, token=token)

        async def fails(title: str) -> None:
            await on_screen(page, "card-error")
            assert await text_of(page, "#h-card-error") == ja[title]
            assert await text_of(page, "#card-error-text") == ja[title.replace("_title", "")]
            assert ja["card.ticket_kept"] in await text_of(page, "#screen-card-error")

        numbers = []
        for _, title, retry in CARD_FAILURES:
            ticket = await issue(page)
            numbers.append(ticket["number"])
            await to_pin(page)
            await tap_pin(page, PIN)
            await page.click("#pin-submit")
            await fails(title)
            if retry is None:
                assert not await visible(page, "#card-retry")
            else:
                assert await text_of(page, "#card-retry") == ja["card.retry_place"]
                await page.click("#card-retry")
                await on_screen(page, retry)
                await page.click("#card-place-without")
                await on_screen(page, "ticket")
                await page.click("#ticket-done")
                await on_screen(page, "home")
                continue
            await page.click("#card-error-continue")
            await back_home(page)

        # The server cannot be reached.
        await page.route("**/api/v1/kiosk/card-read", lambda route: route.abort())
        await issue(page)
        await to_pin(page)
        await tap_pin(page, PIN)
        await page.click("#pin-submit")
        await fails("card.network_title")
        await page.unroute("**/api/v1/kiosk/card-read")
        await page.click("#card-error-continue")
        await back_home(page)

        # The card was read, but handing it to the clerk failed: dropped.
        await page.route("**/prefill", lambda route: route.abort())
        last = await issue(page)
        await to_pin(page)
        await tap_pin(page, PIN)
        await page.click("#pin-submit")
        await fails("card.prefill_failed_title")
        await assert_nothing_left(page)
        await page.click("#card-error-continue")
        await on_screen(page, "ticket")
        assert await text_of(page, "#ticket-number") == last["number"]
    assert numbers == [f"A-{n:03d}" for n in range(1, len(CARD_FAILURES) + 1)]
    assert card.calls == len(CARD_FAILURES) + 1
    wire.assert_pin_sealed()
    wire.assert_console_quiet()
    # Every ticket stands, none with a prefill.
    assert [k async for k in site.redis.scan_iter(match=f"mg:{{{site.tenant}:*:pf:*")] == []
    data = await board(site)
    assert data["current"]["prefill"] is None
    assert 1 + len(data["queue"]) == len(CARD_FAILURES) + 2


# --- accessibility, layout, languages ----------------------------------------------------


@pytest.mark.parametrize("viewport", [PORTRAIT, LANDSCAPE], ids=["portrait", "landscape"])
async def test_card_screens_are_accessible_and_fit(
    site: AppHarness, clock: ManualClock, browser: Any, printer: FakePrinter, tmp_path: Path,
    viewport: dict[str, int],
) -> None:
    token = await site.token("kiosk")
    card = FakeCard(tries=3)
    portrait = viewport["height"] > viewport["width"]
    shots = Path(SHOTS) / ("portrait" if portrait else "landscape") if SHOTS else None
    if shots:
        shots.mkdir(parents=True, exist_ok=True)
    async with agent_running(site, token, printer, tmp_path, card), \
            kiosk_context(browser, clock, viewport=viewport, expected_errors=CARD_REFUSED) as page:
        await open_kiosk(page, site, token=token)
        checks: dict[str, list[str]] = {}

        async def check(name: str) -> None:
            checks[name] = await audit(page) + await page.evaluate(TARGETS_JS)
            width, height = await page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
            if width > viewport["width"] or height > viewport["height"]:
                checks[name].append(f"page is {width}x{height}px")
            if shots:
                await page.screenshot(path=str(shots / f"{name}.png"))

        for lang in ("ja", "vi", "en"):  # Vietnamese has the longest texts
            await page.click(f"#lang-list button[data-lang='{lang}']")
            await issue(page)
            await page.wait_for_selector("body[data-print='printed']", state="attached",
                                         timeout=MS)
            await check(f"{lang}-offer")
            await page.click("#card-agree")
            await on_screen(page, "card-place")
            await check(f"{lang}-place")
            await page.click("#card-placed")
            await on_screen(page, "card-pin")
            await tap_pin(page, "12")
            await check(f"{lang}-pin")
            await tap_pin(page, "12")
            await page.click("#pin-submit")
            await on_screen(page, "card-error")  # wrong PIN, two tries left
            words = catalog(lang)
            assert await text_of(page, "#h-card-error") == words["card.wrong_pin_title"]
            assert await text_of(page, "#card-error-text") == words["card.wrong_pin_one_more"]
            await check(f"{lang}-error")
            await page.click("#card-retry")
            await tap_pin(page, PIN)
            await page.click("#pin-submit")
            await on_screen(page, "card-done")
            await check(f"{lang}-done")
            await page.click("#card-done-continue")
            await on_screen(page, "ticket")
            if lang == "ja":
                await check(f"{lang}-ticket")
            await page.click("#ticket-done")
            await on_screen(page, "home")
        # A failure without a retry (one PIN try left), in やさしい日本語.
        await page.click("#lang-list button[data-lang='ja-easy']")
        await issue(page)
        card.tries = 1
        await to_pin(page)
        await tap_pin(page, PIN)
        await page.click("#pin-submit")
        await on_screen(page, "card-error")
        await check("ja-easy-last-try")
        assert {k: v for k, v in checks.items() if v} == {}


def test_every_card_error_code_has_its_words_in_every_language() -> None:
    """The codes card.js names (and the API's) map to catalog keys the
    kiosk writes out in full; each catalog has them (tests/test_kiosk_page
    checks the keys, this the words)."""
    source = (Path(__file__).resolve().parent.parent / "checkin" / "static" / "kiosk"
              / "kiosk.js").read_text(encoding="utf-8")
    for code in ("wrong_pin", "last_try_protected", "pin_blocked", "no_card", "card_removed",
                 "unknown_card", "no_reader", "card_agent_offline", "card_timeout", "busy",
                 "reader_busy", "invalid_pin", "network"):
        assert f'"{code}"' in source, code
    for lang in ("ja", "en", "ko", "zh-Hans", "vi", "ja-easy"):
        cat = catalog(lang)
        for key, text in cat.items():
            if key.startswith("card."):
                assert text.strip() and text != key, (lang, key)
        assert "{n}" in cat["card.wrong_pin_tries"]
        assert "{n}" not in cat["card.wrong_pin_one_more"]
