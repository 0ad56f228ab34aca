"""Printer status through ``DLE EOT n`` (real-time status transmission).

The four queries tell: n=1 online/offline, n=2 why offline (cover open,
printing stopped at paper end), n=3 errors (cutter, unrecoverable,
auto-recoverable), n=4 the paper roll sensors (near end, end). Every reply
byte has bits 1 and 4 set and bits 0 and 7 clear; anything else is not a
status reply.

python-escpos 3.1 reads a missing reply as "online, paper OK" (an empty
reply) or raises ``TimeoutError`` (a silent printer). Here a printer that
does not answer every query within the timeout is UNKNOWN — never OK — so a
job is not reported printed on a printer that may be off.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from escpos.escpos import Escpos

__all__ = ["PrinterState", "PrinterStatus", "decode_status", "query_status"]

DLE_EOT = b"\x10\x04"
FIXED_MASK, FIXED_BITS = 0x93, 0x12  # bits 0, 1, 4, 7 of every reply


class PrinterState(StrEnum):
    OK = "ok"
    PAPER_NEAR_END = "paper_near_end"  # prints; staff should change the roll soon
    PAPER_END = "paper_end"
    COVER_OPEN = "cover_open"
    ERROR = "error"  # cutter jam, head overheated, ...
    OFFLINE = "offline"  # offline for another reason (paper being fed by hand)
    UNREACHABLE = "unreachable"  # no connection at all (refused, no such device)
    UNKNOWN = "unknown"  # connected, but no (valid) answer: possibly off


PRINTABLE = (PrinterState.OK, PrinterState.PAPER_NEAR_END)


@dataclass(frozen=True)
class PrinterStatus:
    state: PrinterState
    online: bool | None = None
    cover_open: bool | None = None
    paper: Literal["ok", "near_end", "end"] | None = None
    error: bool | None = None
    detail: str = ""  # why UNKNOWN / UNREACHABLE, for the staff console and logs
    replies: dict[int, int] = field(default_factory=dict)  # DLE EOT n -> reply byte

    @property
    def can_print(self) -> bool:
        return self.state in PRINTABLE

    def as_dict(self) -> dict[str, object]:
        return {
            "state": self.state.value, "online": self.online, "cover_open": self.cover_open,
            "paper": self.paper, "error": self.error, "detail": self.detail,
        }


def decode_status(replies: dict[int, int]) -> PrinterStatus:
    """The state from the four reply bytes (all four must be there)."""
    missing = [n for n in (1, 2, 3, 4) if n not in replies]
    if missing:
        return PrinterStatus(PrinterState.UNKNOWN, detail=f"no reply to DLE EOT {missing}",
                             replies=dict(replies))
    online = not replies[1] & 0x08
    cover_open = bool(replies[2] & 0x04)
    error = bool(replies[2] & 0x40) or bool(replies[3] & 0x68)
    paper: Literal["ok", "near_end", "end"] = "ok"
    if replies[4] & 0x60 == 0x60 or replies[2] & 0x20:
        paper = "end"
    elif replies[4] & 0x0C == 0x0C:
        paper = "near_end"
    # Most specific cause first; with the cover open the paper sensor
    # reading means nothing, so the cover wins.
    if cover_open:
        state = PrinterState.COVER_OPEN
    elif paper == "end":
        state = PrinterState.PAPER_END
    elif error:
        state = PrinterState.ERROR
    elif not online:
        state = PrinterState.OFFLINE
    elif paper == "near_end":
        state = PrinterState.PAPER_NEAR_END
    else:
        state = PrinterState.OK
    return PrinterStatus(state, online, cover_open, paper, error, replies=dict(replies))


def _drain(printer: Escpos) -> None:
    """Drop bytes already waiting on a network printer's socket: a late reply
    to an earlier query must not be read as the answer to the next one."""
    sock = getattr(printer, "_device", None)
    if not isinstance(sock, socket.socket):
        return
    sock.setblocking(False)
    try:
        while sock.recv(4096):
            pass
    except OSError:  # BlockingIOError: nothing (more) waiting
        pass
    finally:
        sock.settimeout(getattr(printer, "timeout", None))


def query_status(printer: Escpos) -> PrinterStatus:
    """Ask an open printer DLE EOT 1..4; the read timeout is the printer
    connection's own (``Network(timeout=...)``, ``Serial(timeout=...)``)."""
    _drain(printer)
    replies: dict[int, int] = {}
    for n in (1, 2, 3, 4):
        try:
            reply = bytes(printer.query_status(DLE_EOT + bytes([n])))
        except TimeoutError:
            return PrinterStatus(PrinterState.UNKNOWN, detail=f"no answer to DLE EOT {n}",
                                 replies=replies)
        except NotImplementedError:  # a file or device that cannot be read back
            return PrinterStatus(PrinterState.UNKNOWN, detail="status cannot be read",
                                 replies=replies)
        except OSError as e:  # reset, USB and serial errors (all OSError subclasses)
            return PrinterStatus(PrinterState.UNKNOWN, detail=f"DLE EOT {n}: {e}",
                                 replies=replies)
        if not reply:
            return PrinterStatus(PrinterState.UNKNOWN,
                                 detail=f"connection closed at DLE EOT {n}", replies=replies)
        byte = reply[-1]  # the newest byte answers this query
        if byte & FIXED_MASK != FIXED_BITS:
            return PrinterStatus(PrinterState.UNKNOWN,
                                 detail=f"not a status reply to DLE EOT {n}: {byte:#04x}",
                                 replies=replies)
        replies[n] = byte
    return decode_status(replies)
