"""A simulated My Number card for Debian's virtual smart-card reader (vpcd).

vpcd (loaded by pcscd) listens on TCP port 35963 for its first virtual
reader; a card "is inserted" by connecting to it (DESIGN §10). Every message
either way is a 2-byte big-endian length and a payload. A 1-byte payload
from vpcd is a control byte (0 power off, 1 power on, 2 reset, 4 ATR
request; only the ATR request is answered); a longer one is a command APDU,
answered with the response APDU. Closing the connection is pulling the card
out.

The card answers like the 券面事項入力補助AP of a My Number card: SELECT of
the AP and of EF 0011 (PIN), 0002 (basic four attributes) and 0001 (the My
Number, present here so a test can prove nobody asks for it), VERIFY with no
data (tries left, nothing spent), VERIFY with the PIN, READ BINARY by offset.

Run as ``python -m tests.card_sim --spec SPEC.json --log APDUS.jsonl``
(tests/pcsc_env.py starts it inside pcscd's network namespace). It prints
``inserted`` once connected. The log has one JSON line per APDU with the
status word; the data of VERIFY is masked, so even a test PIN never lands in
a file.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

VPCD_PORT = 35963
AP_AID = bytes.fromhex("D3921000310001010408")
EF_MY_NUMBER, EF_BASIC_FOUR, EF_PIN = b"\x00\x01", b"\x00\x02", b"\x00\x11"
MAX_TRIES = 3
# A My Number card's ATR (T=1); an unrelated card gets another one.
MY_NUMBER_ATR = "3BE000FF8131FE4514"
OTHER_ATR = "3B8F8001804F0CA000000306030001000000006A"

SW_OK = b"\x90\x00"
SW_END_OF_FILE = b"\x62\x82"
SW_WRONG_LENGTH = b"\x67\x00"
SW_SECURITY = b"\x69\x82"
SW_BLOCKED = b"\x69\x83"
SW_NO_EF = b"\x69\x86"
SW_NOT_FOUND = b"\x6a\x82"
SW_WRONG_P1P2 = b"\x6b\x00"
SW_BAD_INS = b"\x6d\x00"
SW_BAD_CLA = b"\x6e\x00"


@dataclass
class CardSpec:
    """What the simulated card holds and how it behaves (JSON-serialisable)."""

    pin: str = "1234"
    tries: int = MAX_TRIES
    name: str = "番号\u3000花子"
    address: str = "福岡県北九州市小倉北区大手町１番１号"
    birth_date: str = "19850401"
    sex: str = "2"
    my_number: str = "123456789018"
    # False: the card has no 券面事項入力補助AP (another kind of card).
    applet: bool = True
    atr: str = MY_NUMBER_ATR
    # Pull the card out when the n-th READ BINARY (1-based) arrives.
    remove_at_read: int | None = None
    # Replace EF 0002 with these bytes (hex) to test malformed data.
    basic_four_hex: str | None = None

    @classmethod
    def load(cls, path: Path) -> CardSpec:
        return cls(**json.loads(path.read_text(encoding="utf-8")))

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), ensure_ascii=False), encoding="utf-8")


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    if n < 0x100:
        return bytes([0x81, n])
    return bytes([0x82, n >> 8, n & 0xFF])


def tlv(tag: bytes, value: bytes) -> bytes:
    return tag + _length(len(value)) + value


def basic_four_bytes(spec: CardSpec) -> bytes:
    """EF 0002 as a real card lays it out: FF20 holding a DF21 header the
    reader ignores, then name, address, birth date and sex."""
    if spec.basic_four_hex is not None:
        return bytes.fromhex(spec.basic_four_hex)
    inner = (tlv(b"\xdf\x21", b"\x01\x00\x04")
             + tlv(b"\xdf\x22", spec.name.encode())
             + tlv(b"\xdf\x23", spec.address.encode())
             + tlv(b"\xdf\x24", spec.birth_date.encode("ascii"))
             + tlv(b"\xdf\x25", spec.sex.encode("ascii")))
    return tlv(b"\xff\x20", inner)


class CardPulled(Exception):
    """The simulated card leaves the reader instead of answering."""


class MyNumberCard:
    def __init__(self, spec: CardSpec) -> None:
        self.spec = spec
        self.tries = spec.tries  # survives resets, like the card's counter
        self.reads = 0
        self.files = {EF_BASIC_FOUR: basic_four_bytes(spec),
                      EF_MY_NUMBER: spec.my_number.encode("ascii")}
        self.reset()

    def reset(self) -> None:
        """Power off / on / reset: nothing selected, PIN not verified."""
        self.in_ap = False
        self.ef: bytes | None = None
        self.verified = False

    def execute(self, apdu: bytes) -> bytes:
        if len(apdu) < 4:
            return SW_WRONG_LENGTH
        cla, ins, p1, p2 = apdu[:4]
        body = apdu[4:]
        if cla != 0x00:
            return SW_BAD_CLA
        if ins == 0xA4:
            return self._select(p1, p2, body)
        if ins == 0x20:
            return self._verify(p1, p2, body)
        if ins == 0xB0:
            return self._read_binary(p1, p2, body)
        return SW_BAD_INS

    def _select(self, p1: int, p2: int, body: bytes) -> bytes:
        if not body or len(body) < 1 + body[0]:
            return SW_WRONG_LENGTH
        data = body[1:1 + body[0]]
        if p1 == 0x04:
            if data == AP_AID and self.spec.applet:
                self.in_ap, self.ef, self.verified = True, None, False
                return SW_OK
            return SW_NOT_FOUND
        if p1 == 0x02 and self.in_ap and data in (EF_PIN, EF_BASIC_FOUR, EF_MY_NUMBER):
            self.ef = data
            return SW_OK
        return SW_NOT_FOUND

    def _verify(self, p1: int, p2: int, body: bytes) -> bytes:
        if (p1, p2) != (0x00, 0x80):
            return SW_WRONG_P1P2
        if self.ef != EF_PIN:
            return SW_NO_EF
        if self.tries == 0:
            return SW_BLOCKED
        if not body:  # the question "how many tries are left?" costs nothing
            return SW_OK if self.verified else bytes([0x63, 0xC0 | self.tries])
        pin = body[1:1 + body[0]]
        if pin == self.spec.pin.encode("ascii"):
            self.tries, self.verified = MAX_TRIES, True
            return SW_OK
        self.tries -= 1
        self.verified = False
        return bytes([0x63, 0xC0 | self.tries])

    def _read_binary(self, p1: int, p2: int, body: bytes) -> bytes:
        self.reads += 1
        if self.spec.remove_at_read is not None and self.reads >= self.spec.remove_at_read:
            raise CardPulled
        if p1 & 0x80:  # short file identifier addressing: not offered by this card
            return SW_WRONG_P1P2
        if self.ef not in self.files:
            return SW_NO_EF
        if not self.verified:
            return SW_SECURITY
        data = self.files[self.ef]
        offset = (p1 << 8) | p2
        le = body[0] if body else 0
        le = le or 256
        if offset > len(data):
            return SW_WRONG_P1P2
        chunk = data[offset:offset + le]
        return chunk + (SW_OK if len(chunk) == le else SW_END_OF_FILE)


def masked(apdu: bytes) -> str:
    """The APDU as hex for the log; VERIFY's data (the PIN) is masked."""
    if len(apdu) > 5 and apdu[1] == 0x20:
        return apdu[:5].hex().upper() + "*" * (2 * len(apdu[5:]))
    return apdu.hex().upper()


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        part = sock.recv(n - len(buf))
        if not part:
            return None
        buf += part
    return buf


def _send(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(len(payload).to_bytes(2, "big") + payload)


def connect(host: str, port: int, within: float) -> socket.socket:
    """Connect to vpcd, which listens once pcscd has loaded its driver."""
    deadline = time.monotonic() + within
    while True:
        try:
            return socket.create_connection((host, port), timeout=within)
        except OSError:
            if time.monotonic() > deadline:
                raise
            # Waiting for a child service to come up, not a test race.
            time.sleep(0.02)


def serve(spec: CardSpec, sock: socket.socket, log: Any) -> None:
    card = MyNumberCard(spec)
    atr = bytes.fromhex(spec.atr)
    sock.settimeout(None)
    while True:
        header = _recv_exact(sock, 2)
        if header is None:
            return
        payload = _recv_exact(sock, int.from_bytes(header, "big"))
        if payload is None:
            return
        if len(payload) == 1:
            if payload[0] == 4:
                _send(sock, atr)
            else:
                card.reset()
            continue
        try:
            response = card.execute(payload)
        except CardPulled:
            log.write(json.dumps({"apdu": masked(payload), "sw": "removed"}) + "\n")
            log.flush()
            return
        log.write(json.dumps({"apdu": masked(payload), "sw": response[-2:].hex().upper()})
                  + "\n")
        log.flush()
        _send(sock, response)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spec", type=Path, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=VPCD_PORT)
    parser.add_argument("--within", type=float, default=10.0)
    args = parser.parse_args(argv)
    spec = CardSpec.load(args.spec)
    sock = connect(args.host, args.port, args.within)
    with sock, args.log.open("a", encoding="utf-8") as log:
        print("inserted", flush=True)
        serve(spec, sock, log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
