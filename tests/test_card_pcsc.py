"""The card step end to end through the real PC/SC stack: the kiosk page
(in Chromium, or its half of the protocol in Python: tests/test_card_relay.py's
Page) → the server relay → the real KioskAgent with CardAgent reading
through pyscard → pcscd (in private namespaces, tests/pcsc_env.py) → the
simulated card; then the page's prefill to the clerk's counter board.

Reader trouble (no reader, pcscd not running, the card held by another
program) is found when the citizen agrees, before a card is placed or a PIN
typed (GET /api/v1/kiosk/card-ready)."""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from checkin.card_agent import CardAgent
from checkin.cardreader import read_basic_four
from tests.card_sim import CardSpec
from tests.conftest import ManualClock
from tests.fake_printer import FakePrinter
from tests.pcsc_env import READER, PcscEnv, pcsc_env, socket_dir, unavailable
from tests.servers import AppHarness, app_harness, bearer
from tests.test_card_relay import TIMEOUT, Page, agent_running
from tests.test_kiosk_card import (
    CARD_REFUSED,
    Wire,
    back_home,
    issue,
    tap_pin,
    to_pin,
)
from tests.test_kiosk_page import (
    catalog,
    kiosk_context,
    kiosk_office,
    on_screen,
    open_kiosk,
    text_of,
)
from ticket_printer.agent import KioskAgent

socket_dir()  # before any PC/SC call of this process (libpcsclite reads it once)
CARD_WAIT = 5.0


@pytest.fixture
async def site(redis: Redis, tenant: str, clock: ManualClock) -> AsyncIterator[AppHarness]:
    async with app_harness(redis, tenant, kiosk_office(), clock=clock) as harness:
        yield harness


@pytest.fixture(scope="module")
def pcsc_available() -> None:
    reason = unavailable()
    if reason:
        pytest.fail(f"real PC/SC stack unavailable: {reason}")


@pytest.fixture
def env(pcsc_available: None, tmp_path: Path) -> Iterator[PcscEnv]:
    with pcsc_env(tmp_path / "pcsc") as environment:
        yield environment


def pcsc_read() -> Any:
    """What the agent's card side calls on a kiosk PC, here on the virtual reader."""
    return functools.partial(read_basic_four, reader=READER, wait_seconds=CARD_WAIT)


async def kiosk_token(api: AppHarness) -> str:
    from queue_server.auth import Tokens

    token, _ = await Tokens(api.redis, api.tenant).create("kiosk", api.office, "入口の発券機")
    return token


@pytest.mark.parametrize(("on_card", "sent"), [("19850000", "1985"), ("19850300", "1985-03")])
async def test_partial_birth_date_reaches_the_clerk(
    api: AppHarness, env: PcscEnv, printer: FakePrinter, tmp_path: Path, on_card: str,
    sent: str,
) -> None:
    env.insert(CardSpec(name="SMITH\u3000JOHN", birth_date=on_card, pin="4821", sex="1"))
    token = await kiosk_token(api)
    await api.act("1", "open")
    ticket = await api.issue()
    async with agent_running(api, token, printer, tmp_path, pcsc_read()):
        card = await Page(api, token).read("4821")
    assert card["birth_date"] == sent
    person = {k: card[k] for k in ("name", "address", "birth_date", "sex")}
    status, _ = await api.request("POST", f"/api/v1/tickets/{ticket['id']}/prefill",
                                  role="kiosk", json_body=person)
    assert status == 204
    await api.act("1", "call-next")
    board = await api.ok("GET", api.path("/counters/1/board"), role="staff")
    assert board["current"]["prefill"]["birth_date"] == sent
    assert TIMEOUT > CARD_WAIT


# --- is a reader ready? ------------------------------------------------------------------


def pcsc_agent(server: AppHarness, token: str, printer: FakePrinter,
               tmp_path: Path) -> contextlib.AbstractAsyncContextManager[KioskAgent]:
    """The kiosk agent as `madoguchi kiosk-agent --card-reader` runs it."""
    return agent_running(server, token, printer, tmp_path,
                         CardAgent(reader=READER, wait_seconds=CARD_WAIT))


@contextlib.contextmanager
def held_by_another_program() -> Iterator[None]:
    """Another program on the kiosk PC holds the card (exclusively)."""
    from smartcard import scard as sc

    hr, context = sc.SCardEstablishContext(sc.SCARD_SCOPE_USER)
    assert hr == sc.SCARD_S_SUCCESS
    try:
        # Until pcscd has seen the card (event-driven, bounded).
        hr, _ = sc.SCardGetStatusChange(context, int(TIMEOUT * 1000),
                                        [(READER, sc.SCARD_STATE_EMPTY)])
        assert hr == sc.SCARD_S_SUCCESS
        hr, handle, _ = sc.SCardConnect(context, READER, sc.SCARD_SHARE_EXCLUSIVE,
                                        sc.SCARD_PROTOCOL_T0 | sc.SCARD_PROTOCOL_T1)
        assert hr == sc.SCARD_S_SUCCESS, sc.SCardGetErrorMessage(hr)
        try:
            yield
        finally:
            sc.SCardDisconnect(handle, sc.SCARD_LEAVE_CARD)
    finally:
        sc.SCardReleaseContext(context)


async def ready(api: AppHarness, token: str) -> tuple[int, str]:
    status, body = await api.request("GET", "/api/v1/kiosk/card-ready", headers=bearer(token))
    return status, ("ready" if status == 200 and body == {"ready": True}
                    else body["error"]["code"])


async def test_reader_readiness_through_pcscd(
    api: AppHarness, pcsc_available: None, printer: FakePrinter, tmp_path: Path
) -> None:
    token = await kiosk_token(api)
    assert await ready(api, token) == (503, "card_agent_offline")
    # pcscd is not running on the kiosk PC.
    async with pcsc_agent(api, token, printer, tmp_path):
        assert await ready(api, token) == (503, "no_reader")
    # pcscd runs, no reader is plugged in.
    with pcsc_env(tmp_path / "bare", readers=False):
        async with pcsc_agent(api, token, printer, tmp_path):
            assert await ready(api, token) == (503, "no_reader")
    with pcsc_env(tmp_path / "pcsc") as env:
        async with pcsc_agent(api, token, printer, tmp_path):
            assert await ready(api, token) == (200, "ready")  # no card yet: fine
            env.insert()
            with held_by_another_program():
                assert await ready(api, token) == (409, "reader_busy")
            assert await ready(api, token) == (200, "ready")
    # Only a kiosk asks.
    for role in ("staff", "display"):
        status, _ = await api.request("GET", "/api/v1/kiosk/card-ready", role=role)
        assert status == 403


async def test_kiosk_says_reader_trouble_at_i_agree(
    site: AppHarness, clock: ManualClock, browser: Any, printer: FakePrinter,
    pcsc_available: None, tmp_path: Path,
) -> None:
    ja = catalog("ja")
    token = await site.token("kiosk")
    wire = Wire()
    async with kiosk_context(browser, clock, expected_errors=CARD_REFUSED) as page:
        wire.attach(page)
        await open_kiosk(page, site, token=token)

        async def refused_at_agree() -> None:
            ticket = await issue(page)
            async with page.expect_response(re.compile(r"/kiosk/card-ready$")) as asked:
                await page.click("#card-agree")
            assert (await asked.value).status in (409, 503)
            await on_screen(page, "card-error")  # not the "place your card" screen
            assert await text_of(page, "#h-card-error") == ja["card.unavailable_title"]
            assert await text_of(page, "#card-ticket-number") == ticket["number"]
            await page.click("#card-error-continue")
            await back_home(page)

        with pcsc_env(tmp_path / "bare", readers=False):  # no reader plugged in
            async with pcsc_agent(site, token, printer, tmp_path):
                await refused_at_agree()
        with pcsc_env(tmp_path / "pcsc") as env:
            env.insert(CardSpec(pin="4821"))
            async with pcsc_agent(site, token, printer, tmp_path):
                with held_by_another_program():
                    await refused_at_agree()
                # Free again: on to "place your card", the PIN, the read.
                await issue(page)
                await to_pin(page)
                await tap_pin(page, "4821")
                async with page.expect_response(re.compile(r"/prefill$")) as prefilled:
                    await page.click("#pin-submit")
                assert (await prefilled.value).status == 204
                await on_screen(page, "card-done")
    assert len(wire.to(r"/kiosk/card-read$")) == 1  # only the read that could succeed
    wire.assert_pin_sealed()
