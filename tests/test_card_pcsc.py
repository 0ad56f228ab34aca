"""The card step end to end through the real PC/SC stack: the kiosk page's
half of the protocol (tests/test_card_relay.py's Page) → the server relay →
the real KioskAgent with CardAgent reading through pyscard → pcscd (in
private namespaces, tests/pcsc_env.py) → the simulated card; then the
page's prefill to the clerk's counter board."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from checkin.cardreader import read_basic_four
from tests.card_sim import CardSpec
from tests.fake_printer import FakePrinter
from tests.pcsc_env import READER, PcscEnv, pcsc_env, socket_dir, unavailable
from tests.servers import AppHarness
from tests.test_card_relay import TIMEOUT, Page, agent_running

socket_dir()  # before any PC/SC call of this process (libpcsclite reads it once)
CARD_WAIT = 5.0


@pytest.fixture(scope="module")
def pcsc_available() -> None:
    reason = unavailable()
    if reason:
        pytest.fail(f"real PC/SC stack unavailable: {reason}")


@pytest.fixture
def env(pcsc_available: None, tmp_path: Path) -> Iterator[PcscEnv]:
    with pcsc_env(tmp_path / "pcsc") as environment:
        yield environment


@pytest.fixture
def printer() -> Iterator[FakePrinter]:
    with FakePrinter() as fake:
        yield fake


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
