"""The My Number card reader through the real PC/SC stack: pyscard → pcscd →
Debian's vpcd → the simulated card (tests/card_sim.py), pcscd and the card
in a private network namespace (tests/pcsc_env.py). The simulator's APDU
log shows what reached the card."""

from __future__ import annotations

import ast
import concurrent.futures
import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest

from checkin import cardreader
from checkin.cardreader import (
    ApduGuard,
    BasicFour,
    CardRemoved,
    CardSession,
    ForbiddenApdu,
    InvalidPin,
    LastTryProtected,
    NoCard,
    NoReader,
    PinBlocked,
    UnknownCard,
    WrongPin,
    read_basic_four,
)
from tests.card_sim import OTHER_ATR, CardSpec, basic_four_bytes, tlv
from tests.pcsc_env import READER, PcscEnv, SimulatedCard, pcsc_env, socket_dir, unavailable

# Before any PC/SC call of this process: libpcsclite reads the path once.
socket_dir()

SELECT_AP = "00A4040C0AD3921000310001010408"
SELECT_PIN = "00A4020C020011"
SELECT_BASIC_FOUR = "00A4020C020002"
VERIFY_QUERY = "00200080"
VERIFY_MASKED = "0020008004********"
NO_CARD_WAIT = 0.3
CARD_WAIT = 10.0


@pytest.fixture(scope="module")
def pcsc_available() -> None:
    reason = unavailable()
    if reason:
        pytest.skip(f"real PC/SC stack unavailable: {reason}")


@pytest.fixture
def env(pcsc_available: None, tmp_path: Path) -> Iterator[PcscEnv]:
    with pcsc_env(tmp_path) as environment:
        yield environment


def read(pin: str = "1234", **kwargs: object) -> BasicFour:
    kwargs.setdefault("wait_seconds", CARD_WAIT)
    kwargs.setdefault("reader", READER)
    return read_basic_four(pin, **kwargs)  # type: ignore[arg-type]


def sent(card: SimulatedCard) -> list[str]:
    return [entry["apdu"] for entry in card.apdus()]


def never_my_number(card: SimulatedCard) -> None:
    """EF 0001 was neither selected nor read (not even by short file id)."""
    for apdu in sent(card):
        assert not (apdu[2:4] == "A4" and apdu.endswith("0001")), apdu
        assert not (apdu[2:4] == "B0" and int(apdu[4:6], 16) & 0x80), apdu
        assert apdu[2:4] in ("A4", "20", "B0"), apdu


def test_reads_the_four_attributes(env: PcscEnv) -> None:
    card = env.insert()
    info = read()
    assert info.name == "番号\u3000花子"
    assert (info.family_name, info.given_name) == ("番号", "花子")
    assert info.address == "福岡県北九州市小倉北区大手町１番１号"
    assert info.birth_date == "19850401" and info.birth().isoformat() == "1985-04-01"
    assert info.sex == "2"
    assert info.as_json() == {"name": "番号\u3000花子", "family_name": "番号",
                              "given_name": "花子", "address": info.address,
                              "birth_date": "1985-04-01", "sex": "2"}
    assert "花子" not in repr(info) and "北九州" not in repr(info)
    length = len(basic_four_bytes(CardSpec()))
    assert sent(card) == [SELECT_AP, SELECT_PIN, VERIFY_QUERY, VERIFY_MASKED, SELECT_BASIC_FOUR,
                          "00B0000005", f"00B00005{length - 5:02X}"]
    assert [e["sw"] for e in card.apdus()][2:4] == ["63C3", "9000"]
    never_my_number(card)


def test_waits_for_the_card_and_reads_long_data_in_pieces(env: PcscEnv) -> None:
    # A foreign resident: no U+3000 in the name, an unknown birth day, and an
    # address long enough for a 2-byte BER length and several READ BINARYs.
    address = "福岡県北九州市八幡西区" + "一丁目" * 150
    spec = CardSpec(name="SMITH JOHN", address=address, birth_date="19700100", sex="1",
                    pin="0529")
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pending = pool.submit(read, "0529")  # the citizen may type before placing the card
        card = env.insert(spec)
        info = pending.result(timeout=CARD_WAIT + 5)
    assert (info.name, info.family_name, info.given_name) == ("SMITH JOHN", "SMITH JOHN", "")
    assert info.address == address and info.sex == "1"
    assert info.birth() is None and info.as_json()["birth_date"] == "1970-01"
    reads = [a for a in sent(card) if a.startswith("00B0")]
    assert len(reads) >= 4  # header + ~1,400 bytes in pieces of at most 255
    assert all(int(a[8:10], 16) <= 0xFF for a in reads)
    never_my_number(card)


def test_wrong_pin_reports_the_tries_left_and_never_spends_the_last(env: PcscEnv) -> None:
    card = env.insert(CardSpec(pin="1234", tries=3))
    with pytest.raises(WrongPin) as first:
        read("4321")
    assert first.value.tries_left == 2 and first.value.code == "wrong_pin"
    with pytest.raises(WrongPin) as second:
        read("4321")
    assert second.value.tries_left == 1
    before = len(card.apdus())
    with pytest.raises(LastTryProtected) as protected:
        read("1234")  # even the right PIN is never tried on the last try
    assert protected.value.tries_left == 1
    assert sent(card)[before:] == [SELECT_AP, SELECT_PIN, VERIFY_QUERY]
    assert card.apdus()[-1]["sw"] == "63C1"
    with pytest.raises(LastTryProtected):  # and again: the card keeps its last try
        read("1234")
    assert card.apdus()[-1] == {"apdu": VERIFY_QUERY, "sw": "63C1"}
    never_my_number(card)


def test_one_try_left_is_protected_without_sending_verify(env: PcscEnv) -> None:
    card = env.insert(CardSpec(tries=1))
    with pytest.raises(LastTryProtected):
        read("1234")
    assert sent(card) == [SELECT_AP, SELECT_PIN, VERIFY_QUERY]
    assert not any(a.startswith("0020008004") for a in sent(card))
    never_my_number(card)


def test_blocked_pin(env: PcscEnv) -> None:
    card = env.insert(CardSpec(tries=0))
    with pytest.raises(PinBlocked) as blocked:
        read("1234")
    assert blocked.value.code == "pin_blocked"
    assert card.apdus() == [{"apdu": SELECT_AP, "sw": "9000"},
                            {"apdu": SELECT_PIN, "sw": "9000"},
                            {"apdu": VERIFY_QUERY, "sw": "6983"}]


def test_card_removed_mid_read(env: PcscEnv) -> None:
    card = env.insert(CardSpec(remove_at_read=2))  # pulled out after the header
    with pytest.raises(CardRemoved) as removed:
        read()
    assert removed.value.code == "card_removed"
    assert [e["sw"] for e in card.apdus()][-2:] == ["9000", "removed"]
    with pytest.raises(NoCard):  # and the reader is empty now
        read(wait_seconds=NO_CARD_WAIT)
    never_my_number(card)


def test_no_card(env: PcscEnv) -> None:
    with pytest.raises(NoCard) as no_card:
        read(wait_seconds=NO_CARD_WAIT)
    assert no_card.value.code == "no_card"


def test_no_reader(pcsc_available: None, tmp_path: Path) -> None:
    with pcsc_env(tmp_path, readers=False):
        assert cardreader.list_readers() == []
        with pytest.raises(NoReader):
            read_basic_four("1234", wait_seconds=NO_CARD_WAIT)
    with pcsc_env(tmp_path / "named") as environment:
        environment.insert()
        with pytest.raises(NoReader):  # a reader name that is not there
            read_basic_four("1234", reader="SONY FeliCa", wait_seconds=NO_CARD_WAIT)
    # pcscd itself is not running: no reader either.
    with pytest.raises(NoReader):
        read_basic_four("1234", wait_seconds=NO_CARD_WAIT)


def test_unknown_card(env: PcscEnv) -> None:
    card = env.insert(CardSpec(applet=False, atr=OTHER_ATR))
    with pytest.raises(UnknownCard) as unknown:
        read()
    assert unknown.value.code == "unknown_card"
    assert card.apdus() == [{"apdu": SELECT_AP, "sw": "6A82"}]


def test_malformed_basic_four_is_an_unknown_card(env: PcscEnv) -> None:
    inner = tlv(b"\xdf\x22", "番号\u3000花子".encode()) + tlv(b"\xdf\x24", b"1985")
    card = env.insert(CardSpec(basic_four_hex=tlv(b"\xff\x20", inner).hex()))
    with pytest.raises(UnknownCard):
        read()
    never_my_number(card)


def test_a_bad_pin_never_reaches_the_card() -> None:
    for pin in ("123", "12345", "12a4", "１２３４", ""):
        with pytest.raises(InvalidPin):
            read_basic_four(pin)


def test_the_my_number_ef_is_refused_by_the_guard(env: PcscEnv) -> None:
    """Even code that tries cannot select or read EF 0001: the guard stops
    the APDU before it leaves the process."""
    card = env.insert()
    sc = cardreader._scard()
    context = cardreader._Context(sc)
    try:
        session = CardSession(context, context.wait_for_card([READER], CARD_WAIT))
        try:
            assert session.transmit(bytes.fromhex(SELECT_AP))[1] == 0x9000
            for apdu in ("00A4020C020001",  # SELECT EF 0001
                         "00B0810000",  # READ BINARY of short file id 1 = EF 0001
                         "00A4000C020001", "00A4080C020001",  # by file id, by path
                         "00B0000010",  # READ BINARY with no EF 0002 selected
                         "00B2010C00", "00CA010000"):  # READ RECORD, GET DATA
                with pytest.raises(ForbiddenApdu):
                    session.transmit(bytes.fromhex(apdu))
        finally:
            session.close()
    finally:
        context.release()
    assert sent(card) == [SELECT_AP]
    never_my_number(card)


def test_guard_allows_only_the_basic_four_read() -> None:
    guard = ApduGuard()
    with pytest.raises(ForbiddenApdu):
        guard.check(bytes.fromhex(VERIFY_QUERY))  # no PIN EF selected yet
    for apdu in (SELECT_AP, SELECT_PIN):
        guard.check(bytes.fromhex(apdu))
        guard.answered(bytes.fromhex(apdu), 0x9000)
    guard.check(bytes.fromhex(VERIFY_QUERY))
    guard.check(bytes.fromhex("002000800431323334"))
    with pytest.raises(ForbiddenApdu):
        guard.check(bytes.fromhex("00B0000005"))  # the PIN EF is selected, not 0002
    guard.answered(bytes.fromhex(SELECT_BASIC_FOUR), 0x6A82)  # a failed select
    with pytest.raises(ForbiddenApdu):
        guard.check(bytes.fromhex("00B0000005"))
    guard.answered(bytes.fromhex(SELECT_BASIC_FOUR), 0x9000)
    guard.check(bytes.fromhex("00B0000005"))
    for forbidden in ("00A4020C020001", "00B0810000", "00B0000005" + "00",
                      "002400800831323334" + "35363738", "80A4040C0AD3921000310001010408"):
        with pytest.raises(ForbiddenApdu):
            guard.check(bytes.fromhex(forbidden))


def test_every_apdu_goes_through_the_guard() -> None:
    """SCardTransmit is called in one place only, right after the guard."""
    source = inspect.getsource(cardreader)
    tree = ast.parse(source)
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
             and isinstance(node.func, ast.Attribute) and node.func.attr == "SCardTransmit"]
    assert len(calls) == 1
    transmit = next(node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)
                    and node.name == "transmit")
    assert calls[0] in list(ast.walk(transmit))
    first = transmit.body[1] if isinstance(transmit.body[0], ast.Expr) and isinstance(
        transmit.body[0].value, ast.Constant) else transmit.body[0]
    assert ast.unparse(first) == "self.guard.check(apdu)"
