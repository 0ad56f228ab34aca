"""The My Number card reader (書かない, DESIGN §10): the four basic attributes
(name, address, birth date, sex) from the card's 券面事項入力補助AP, read
through PC/SC (pyscard → pcscd) with the citizen's 4-digit PIN.

The order of a read, each step one APDU:
1. SELECT the 券面事項入力補助AP (fails: not a My Number card → UnknownCard);
2. SELECT EF 0011 (the PIN) and VERIFY with no data: ``63 Cx`` says x tries
   are left without spending one; ``69 83`` says the PIN is blocked;
3. with one try left, stop (LastTryProtected): the last try is never
   spent, since a wrong PIN would block the card;
4. VERIFY the PIN; SELECT EF 0002; READ BINARY the TLV header, then the rest;
5. disconnect *unpowering* the card, so the verified PIN does not outlive
   the read.

EF 0001 holds the My Number itself. It is never selected or read: every
APDU passes `ApduGuard` first, which lets through only the exact commands
above (an allow-list, so a short-file-id READ BINARY or a SELECT by path
cannot reach EF 0001 either) and raises ForbiddenApdu otherwise.

Nothing here logs what the card returns, and `BasicFour`'s repr hides its
content, so an accidental log line or traceback carries no personal data.
pyscard is imported on first use: the module (and its error types) loads on
machines without PC/SC, where a read ends in NoReader.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from types import ModuleType
from typing import Any

PIN_LENGTH = 4
MAX_EF_BYTES = 4096  # EF 0002 is a few hundred bytes; more means it is not one
READ_CHUNK = 0xFF
HEADER_BYTES = 5  # tag FF20 (2 bytes) + a BER length of up to 3 bytes

AP_AID = bytes.fromhex("D3921000310001010408")
EF_MY_NUMBER, EF_BASIC_FOUR, EF_PIN = b"\x00\x01", b"\x00\x02", b"\x00\x11"
SELECT_AP = bytes.fromhex("00A4040C0A") + AP_AID
SELECT_PIN = bytes.fromhex("00A4020C02") + EF_PIN
SELECT_BASIC_FOUR = bytes.fromhex("00A4020C02") + EF_BASIC_FOUR
VERIFY_QUERY = bytes.fromhex("00200080")
VERIFY_PIN_HEAD = bytes.fromhex("0020008004")
READ_BINARY_HEAD = b"\x00\xb0"
GET_RESPONSE_HEAD = bytes.fromhex("00C00000")

SW_OK = 0x9000
SW_END_OF_FILE = 0x6282
SW_BLOCKED = 0x6983

SEX_CODES = {"1": "male", "2": "female", "9": "not_applicable"}
TAG_BASIC_FOUR, TAG_NAME, TAG_ADDRESS, TAG_BIRTH, TAG_SEX = (
    0xFF20, 0xDF22, 0xDF23, 0xDF24, 0xDF25)


# --- Errors. `code` is what the kiosk agent sends the page (not personal data).

class CardError(Exception):
    code = "card_error"

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.code)


class NoReader(CardError):
    code = "no_reader"


class NoCard(CardError):
    code = "no_card"


class CardRemoved(CardError):
    """The card left the reader (or stopped answering) in the middle of a read."""
    code = "card_removed"


class WrongPin(CardError):
    code = "wrong_pin"

    def __init__(self, tries_left: int) -> None:
        super().__init__(f"wrong PIN, {tries_left} tries left")
        self.tries_left = tries_left


class PinBlocked(CardError):
    code = "pin_blocked"


class UnknownCard(CardError):
    """Not a My Number card, or its 券面事項入力補助AP answered unexpectedly."""
    code = "unknown_card"


class LastTryProtected(CardError):
    """One try left: the read stopped before VERIFY. `tries_left` is None
    when the card would not say."""
    code = "last_try_protected"

    def __init__(self, tries_left: int | None = 1) -> None:
        super().__init__("one PIN try left: not used here (the office can reset the PIN)")
        self.tries_left = tries_left


class ReaderBusy(CardError):
    """Another program holds the card."""
    code = "reader_busy"


class InvalidPin(CardError):
    """Not 4 digits: refused before the card is touched (no try is spent)."""
    code = "invalid_pin"


class ForbiddenApdu(RuntimeError):
    """A command outside the allow-list: a bug, never a card condition."""


# --- The data.

@dataclass(frozen=True, repr=False)
class BasicFour:
    """The four basic attributes (基本4情報) as the card holds them."""

    name: str  # family and given name separated by U+3000 (ideographic space)
    address: str
    birth_date: str  # YYYYMMDD
    sex: str  # "1" male, "2" female, "9" not applicable

    def __repr__(self) -> str:
        # Personal data: never in a log line or a traceback by accident.
        return "BasicFour(<withheld>)"

    @property
    def family_name(self) -> str:
        return self.name.partition("\u3000")[0]

    @property
    def given_name(self) -> str:
        return self.name.partition("\u3000")[2]

    def birth(self) -> date | None:
        """The birth date, or None when the card's date is not a calendar
        date (some cards of foreign residents carry an unknown month or day)."""
        try:
            return date(int(self.birth_date[:4]), int(self.birth_date[4:6]),
                        int(self.birth_date[6:8]))
        except ValueError:
            return None

    def birth_iso(self) -> str:
        """The birth date as precisely as the card knows it: YYYY-MM-DD, or
        YYYY-MM / YYYY when the day or month is 00 (the server's prefill
        takes exactly these); the card's own text when it is neither."""
        born = self.birth()
        if born:
            return born.isoformat()
        y, m, d = self.birth_date[:4], self.birth_date[4:6], self.birth_date[6:8]
        if m == "00" and y.isdigit():
            return y
        if d == "00" and y.isdigit() and m.isdigit() and 1 <= int(m) <= 12:
            return f"{y}-{m}"
        return self.birth_date

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "family_name": self.family_name,
                "given_name": self.given_name, "address": self.address,
                "birth_date": self.birth_iso(), "sex": self.sex}


# --- The guard on every APDU.

class ApduGuard:
    """Lets through only the commands of a basic-four read; tracks the
    selected EF so READ BINARY can only ever read EF 0002."""

    def __init__(self) -> None:
        self.current_ef: bytes | None = None

    def check(self, apdu: bytes) -> None:
        if apdu[1:2] == b"\xa4" and apdu.endswith(EF_MY_NUMBER):
            raise ForbiddenApdu("EF 0001 holds the My Number: it is never selected")
        if len(apdu) >= 3 and apdu[1] == 0xB0 and apdu[2] & 0x80:
            raise ForbiddenApdu("READ BINARY by short file id could reach EF 0001")
        if apdu in (SELECT_AP, SELECT_PIN, SELECT_BASIC_FOUR):
            return
        if apdu == VERIFY_QUERY or (len(apdu) == 5 + PIN_LENGTH
                                    and apdu.startswith(VERIFY_PIN_HEAD)
                                    and apdu[5:].isdigit()):
            if self.current_ef != EF_PIN:
                raise ForbiddenApdu("VERIFY only with the PIN EF selected")
            return
        if len(apdu) == 5 and apdu.startswith(READ_BINARY_HEAD):
            if self.current_ef != EF_BASIC_FOUR:
                raise ForbiddenApdu("READ BINARY only of EF 0002")
            return
        if len(apdu) == 5 and apdu.startswith(GET_RESPONSE_HEAD):
            return
        raise ForbiddenApdu(f"command {apdu[:2].hex()} is not part of a basic-four read")

    def answered(self, apdu: bytes, sw: int) -> None:
        """Follow the card's selection state (a failed SELECT leaves it unknown)."""
        if apdu[1:2] != b"\xa4":
            return
        if sw != SW_OK or apdu == SELECT_AP:
            self.current_ef = None
        else:
            self.current_ef = apdu[-2:]


# --- PC/SC.

def _scard() -> ModuleType:
    try:
        from smartcard import scard
    except ImportError as exc:  # the cardreader extra is not installed
        raise NoReader("pyscard is not installed (pip install 'madoguchi[cardreader]')") from exc
    return scard


class _Context:
    """One PC/SC context (a connection to pcscd) for one read."""

    def __init__(self, sc: ModuleType) -> None:
        self.sc = sc
        hr, self.handle = sc.SCardEstablishContext(sc.SCARD_SCOPE_USER)
        if hr != sc.SCARD_S_SUCCESS:
            raise NoReader("PC/SC service not running: " + sc.SCardGetErrorMessage(hr))

    def readers(self) -> list[str]:
        hr, names = self.sc.SCardListReaders(self.handle, [])
        if hr == self.sc.SCARD_E_NO_READERS_AVAILABLE:
            return []
        if hr != self.sc.SCARD_S_SUCCESS:
            raise NoReader("readers not listed: " + self.sc.SCardGetErrorMessage(hr))
        return list(names)

    def wait_for_card(self, readers: list[str], wait_seconds: float) -> str:
        """The first of `readers` holding a card; waits for one (PC/SC
        status-change events, no polling) up to `wait_seconds`."""
        sc = self.sc
        deadline = time.monotonic() + wait_seconds
        states = [(name, sc.SCARD_STATE_UNAWARE) for name in readers]
        while True:
            remaining = max(0, int((deadline - time.monotonic()) * 1000))
            hr, changed = sc.SCardGetStatusChange(self.handle, remaining, states)
            if hr == sc.SCARD_E_TIMEOUT:
                raise NoCard(f"no card within {wait_seconds:g} s")
            if hr != sc.SCARD_S_SUCCESS:
                raise NoReader("reader state unknown: " + sc.SCardGetErrorMessage(hr))
            for name, event, _atr in changed:
                if event & sc.SCARD_STATE_PRESENT and not event & sc.SCARD_STATE_MUTE:
                    return str(name)
            if all(event & (sc.SCARD_STATE_UNKNOWN | sc.SCARD_STATE_UNAVAILABLE)
                   for _name, event, _atr in changed):
                raise NoReader("the reader went away")
            if remaining == 0:
                raise NoCard(f"no card within {wait_seconds:g} s")
            states = [(name, event & ~sc.SCARD_STATE_CHANGED) for name, event, _atr in changed]

    def release(self) -> None:
        self.sc.SCardReleaseContext(self.handle)


class CardSession:
    """A connected card. `transmit` is the only way an APDU reaches it, and
    it always asks the guard first."""

    def __init__(self, context: _Context, reader: str) -> None:
        self.sc = sc = context.sc
        self.guard = ApduGuard()
        protocols = sc.SCARD_PROTOCOL_T0 | sc.SCARD_PROTOCOL_T1
        # Exclusive: no other program can talk to the card while its PIN is
        # verified.
        hr, self.handle, self.protocol = sc.SCardConnect(
            context.handle, reader, sc.SCARD_SHARE_EXCLUSIVE, protocols)
        if hr == sc.SCARD_E_SHARING_VIOLATION:
            raise ReaderBusy("another program is using the card")
        if hr != sc.SCARD_S_SUCCESS:
            raise NoCard("card not connected: " + sc.SCardGetErrorMessage(hr))
        # A warm reset: whatever another program left verified is forgotten,
        # so the tries counter we read next is the card's real state.
        hr, self.protocol = sc.SCardReconnect(self.handle, sc.SCARD_SHARE_EXCLUSIVE, protocols,
                                              sc.SCARD_RESET_CARD)
        if hr != sc.SCARD_S_SUCCESS:
            self.close()
            raise CardRemoved("card lost on reset: " + sc.SCardGetErrorMessage(hr))

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        """(response data, status word)."""
        self.guard.check(apdu)
        hr, response = self.sc.SCardTransmit(self.handle, self.protocol, list(apdu))
        if hr != self.sc.SCARD_S_SUCCESS or len(response) < 2:
            raise CardRemoved("card lost: " + self.sc.SCardGetErrorMessage(hr))
        data, sw = bytes(response[:-2]), (response[-2] << 8) | response[-1]
        self.guard.answered(apdu, sw)
        if sw >> 8 == 0x61:  # T=0: the answer waits for GET RESPONSE
            more, sw = self.transmit(GET_RESPONSE_HEAD + bytes([sw & 0xFF]))
            data += more
        return data, sw

    def close(self) -> None:
        # Unpower: the card forgets the verified PIN at once.
        self.sc.SCardDisconnect(self.handle, self.sc.SCARD_UNPOWER_CARD)


# --- The read.

def _tries(sw: int) -> int | None:
    return sw & 0x0F if sw & 0xFFF0 == 0x63C0 else None


def _header(head: bytes) -> tuple[int, int]:
    """(header length, value length) of the FF20 TLV at the start of EF 0002."""
    if len(head) < 3 or head[:2] != b"\xff\x20":
        raise UnknownCard("EF 0002 does not start with FF20")
    first = head[2]
    if first < 0x80:
        return 3, first
    n = first & 0x7F
    if n not in (1, 2) or len(head) < 3 + n:
        raise UnknownCard("EF 0002 has a malformed length")
    return 3 + n, int.from_bytes(head[3:3 + n], "big")


def _tlvs(data: bytes) -> dict[int, bytes]:
    """The BER-TLV items of one level (tags up to 2 bytes; the first of a
    repeated tag wins)."""
    out: dict[int, bytes] = {}
    pos = 0
    while pos < len(data):
        tag = data[pos]
        pos += 1
        if tag & 0x1F == 0x1F:
            if pos >= len(data):
                raise UnknownCard("truncated tag")
            tag = (tag << 8) | data[pos]
            pos += 1
        if pos >= len(data):
            raise UnknownCard("truncated length")
        length = data[pos]
        pos += 1
        if length & 0x80:
            n = length & 0x7F
            if n not in (1, 2) or pos + n > len(data):
                raise UnknownCard("malformed length")
            length = int.from_bytes(data[pos:pos + n], "big")
            pos += n
        if pos + length > len(data):
            raise UnknownCard("value runs past the end")
        out.setdefault(tag, data[pos:pos + length])
        pos += length
    return out


def parse_basic_four(ef: bytes) -> BasicFour:
    """EF 0002 (FF20 holding DF22 name, DF23 address, DF24 birth date,
    DF25 sex; other tags such as DF21 are skipped) as BasicFour."""
    header, length = _header(ef[:HEADER_BYTES])
    if header + length > len(ef):
        raise UnknownCard("EF 0002 is shorter than its header says")
    items = _tlvs(ef[header:header + length])
    try:
        name = items[TAG_NAME].decode("utf-8")
        address = items[TAG_ADDRESS].decode("utf-8")
        birth = items[TAG_BIRTH].decode("ascii")
        sex = items[TAG_SEX].decode("ascii")
    except (KeyError, UnicodeDecodeError) as exc:
        raise UnknownCard("EF 0002 lacks an attribute or is not text") from exc
    if not (len(birth) == 8 and birth.isdigit()) or sex not in SEX_CODES or not name:
        raise UnknownCard("EF 0002 holds values of the wrong form")
    return BasicFour(name=name, address=address, birth_date=birth, sex=sex)


def _read_ef(card: CardSession) -> bytes:
    def read(offset: int, size: int) -> bytes:
        data, sw = card.transmit(READ_BINARY_HEAD + offset.to_bytes(2, "big") + bytes([size]))
        if sw not in (SW_OK, SW_END_OF_FILE):
            raise UnknownCard(f"READ BINARY answered {sw:04X}")
        return data

    ef = read(0, HEADER_BYTES)
    header, length = _header(ef)
    total = header + length
    if total > MAX_EF_BYTES:
        raise UnknownCard("EF 0002 is too large")
    while len(ef) < total:
        chunk = read(len(ef), min(READ_CHUNK, total - len(ef)))
        if not chunk:
            raise UnknownCard("EF 0002 ended early")
        ef += chunk
    return ef[:total]


def _read(card: CardSession, pin: str) -> BasicFour:
    if card.transmit(SELECT_AP)[1] != SW_OK:
        raise UnknownCard("no 券面事項入力補助AP: not a My Number card")
    if card.transmit(SELECT_PIN)[1] != SW_OK:
        raise UnknownCard("no PIN EF in the AP")
    sw = card.transmit(VERIFY_QUERY)[1]
    tries = _tries(sw)
    if sw == SW_BLOCKED or tries == 0:
        raise PinBlocked("the PIN is blocked; the office can reset it")
    if tries is None and sw != SW_OK:
        raise UnknownCard(f"VERIFY answered {sw:04X}")
    # tries is None with 9000: the card will not say how many are left. The
    # last try is never spent here (the issue: warn at one left, never spend
    # the last): a wrong PIN would block the card, and unblocking it takes a
    # visit to the counter with identification anyway.
    if tries is None or tries <= 1:
        raise LastTryProtected(tries)
    sw = card.transmit(VERIFY_PIN_HEAD + pin.encode("ascii"))[1]
    if sw != SW_OK:
        left = _tries(sw)
        if sw == SW_BLOCKED or left == 0:
            raise PinBlocked("the PIN is now blocked")
        if left is None:
            raise UnknownCard(f"VERIFY answered {sw:04X}")
        raise WrongPin(left)
    if card.transmit(SELECT_BASIC_FOUR)[1] != SW_OK:
        raise UnknownCard("no EF 0002 in the AP")
    return parse_basic_four(_read_ef(card))


def list_readers(scard: ModuleType | None = None) -> list[str]:
    context = _Context(scard or _scard())
    try:
        return context.readers()
    finally:
        context.release()


def reader_status(*, reader: str | None = None, scard: Any = None) -> None:
    """Is a reader there and free to read a card? Returns, or raises NoReader
    (no such reader, or pcscd not running) or ReaderBusy (another program
    holds the card in every matching reader). Touches no card: the state
    comes from pcscd (SCardGetStatusChange without waiting)."""
    context = _Context(scard or _scard())
    sc = context.sc
    try:
        names = [n for n in context.readers() if reader is None or n.startswith(reader)]
        if not names:
            raise NoReader("no card reader" + (f" named {reader!r}" if reader else ""))
        hr, states = sc.SCardGetStatusChange(
            context.handle, 0, [(name, sc.SCARD_STATE_UNAWARE) for name in names])
        if hr not in (sc.SCARD_S_SUCCESS, sc.SCARD_E_TIMEOUT):
            raise NoReader("reader state unknown: " + sc.SCardGetErrorMessage(hr))
        gone = sc.SCARD_STATE_UNKNOWN | sc.SCARD_STATE_UNAVAILABLE
        held = sc.SCARD_STATE_EXCLUSIVE | sc.SCARD_STATE_INUSE
        usable = [event for _name, event, _atr in states if not event & gone]
        if not usable:
            raise NoReader("the reader is not available")
        if all(event & held for event in usable):
            raise ReaderBusy("another program is using the card")
    finally:
        context.release()


def read_basic_four(pin: str, *, reader: str | None = None, wait_seconds: float = 10.0,
                    scard: Any = None) -> BasicFour:
    """Read the four basic attributes with the citizen's PIN (blocking: run
    it in a thread). `reader`: a reader name or its beginning (default: any
    reader; the first holding a card is used). One try left raises
    LastTryProtected before any VERIFY.
    Raises a CardError subclass for every card condition."""
    if len(pin) != PIN_LENGTH or not pin.isascii() or not pin.isdigit():
        raise InvalidPin("the PIN is 4 digits")
    context = _Context(scard or _scard())
    try:
        names = [n for n in context.readers() if reader is None or n.startswith(reader)]
        if not names:
            raise NoReader("no card reader" + (f" named {reader!r}" if reader else ""))
        card = CardSession(context, context.wait_for_card(names, wait_seconds))
        try:
            return _read(card, pin)
        finally:
            card.close()
    finally:
        context.release()
