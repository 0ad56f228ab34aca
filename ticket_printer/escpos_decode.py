"""A small decoder of ESC/POS byte streams, for the tests and the demo printer.

No released Python package decodes ESC/POS with kanji (DESIGN §9), so the
tests carry their own: it turns the bytes a printer received back into a
list of commands — init, ``GS v 0`` rasters (decoded back to bitmaps), text
runs (Shift-JIS inside kanji mode, UTF-8 outside), ``GS ( k`` QR settings and
stored data, cuts, feeds, ``DLE EOT`` status queries. An unknown command is
an error, so a stray byte in the output cannot pass unnoticed.

`decode_prefix()` decodes as much of a stream as is complete; the fake
printer uses it to answer status queries as they arrive without mistaking
bytes inside a raster for a query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PIL import Image

__all__ = ["Cmd", "DecodeError", "Raster", "decode", "decode_prefix", "join_rasters"]

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10

# Fixed-length commands: prefix + command byte -> (name, number of parameter bytes).
FIXED: dict[tuple[int, int], tuple[str, int]] = {
    (ESC, ord("@")): ("init", 0),
    (ESC, ord("a")): ("align", 1),
    (ESC, ord("!")): ("print_mode", 1),
    (ESC, ord("E")): ("bold", 1),
    (ESC, ord("-")): ("underline", 1),
    (ESC, ord("M")): ("font", 1),
    (ESC, ord("G")): ("double_strike", 1),
    (ESC, ord("t")): ("codepage", 1),
    (ESC, ord("R")): ("charset", 1),
    (ESC, ord("d")): ("feed_lines", 1),
    (ESC, ord("J")): ("feed_dots", 1),
    (ESC, ord("2")): ("line_spacing_default", 0),
    (ESC, ord("3")): ("line_spacing", 1),
    (ESC, ord("{")): ("upside_down", 1),
    (ESC, ord("V")): ("rotate", 1),
    (ESC, ord("p")): ("cash_drawer", 3),
    (GS, ord("!")): ("char_size", 1),
    (GS, ord("b")): ("smoothing", 1),
    (GS, ord("B")): ("reverse", 1),
    (GS, ord("H")): ("hri_position", 1),
    (GS, ord("h")): ("barcode_height", 1),
    (GS, ord("w")): ("barcode_width", 1),
    (GS, ord("f")): ("hri_font", 1),
    (GS, ord("L")): ("left_margin", 2),
    (GS, ord("W")): ("print_width", 2),
    (GS, ord("a")): ("asb", 1),
    (FS, ord("C")): ("kanji_code", 1),
    (FS, ord("&")): ("kanji_on", 0),
    (FS, ord(".")): ("kanji_off", 0),
    (FS, ord("!")): ("kanji_print_mode", 1),
    (FS, ord("-")): ("kanji_underline", 1),
    (FS, ord("W")): ("kanji_quadruple", 1),
    (FS, ord("S")): ("kanji_spacing", 2),
    (DLE, 0x04): ("status_query", 1),
    (DLE, 0x05): ("realtime_request", 1),
}
CONTROL = {0x0A: "lf", 0x0D: "cr", 0x09: "tab", 0x0C: "form_feed"}
QR_FUNCTIONS = {65: "qr_model", 67: "qr_size", 69: "qr_ec", 80: "qr_store", 81: "qr_print",
                82: "qr_size_query"}


class DecodeError(ValueError):
    pass


class _Incomplete(Exception):
    pass


@dataclass(frozen=True)
class Raster:
    """A ``GS v 0`` bit image: `width` dots, `height` rows, bit 1 = printed."""

    width: int
    height: int
    data: bytes
    mode: int = 0

    def image(self) -> Image.Image:
        """Mode "1" image, black where the printer prints (Pillow's 1 = white)."""
        return Image.frombytes("1", (self.width, self.height), bytes(b ^ 0xFF for b in self.data))

    def black_fraction(self) -> float:
        ones = sum(bin(b).count("1") for b in self.data)
        return ones / (self.width * self.height)


@dataclass(frozen=True)
class Cmd:
    name: str
    raw: bytes
    value: Any = None  # the command's parameter: int, text, QR data, Raster


@dataclass
class _State:
    kanji: bool = False  # FS & seen (or FS C 1 on a printer that switches by itself)
    commands: list[Cmd] = field(default_factory=list)


def _need(buf: bytes, end: int) -> None:
    if end > len(buf):
        raise _Incomplete


def _is_sjis_lead(b: int) -> bool:
    return 0x81 <= b <= 0x9F or 0xE0 <= b <= 0xFC


def _text(buf: bytes, i: int, kanji: bool) -> tuple[Cmd, int]:
    start = i
    while i < len(buf) and buf[i] >= 0x20 and buf[i] != 0x7F:
        if kanji and _is_sjis_lead(buf[i]):
            if i + 1 >= len(buf):
                break  # half a character: wait for the rest
            i += 2
        else:
            i += 1
    if i == start:
        raise _Incomplete
    raw = buf[start:i]
    text = raw.decode("cp932") if kanji else raw.decode("utf-8", errors="replace")
    return Cmd("text", raw, text), i


def _gs_paren(buf: bytes, i: int) -> tuple[Cmd, int]:
    _need(buf, i + 5)
    fn = buf[i + 2]
    size = buf[i + 3] | buf[i + 4] << 8
    end = i + 5 + size
    _need(buf, end)
    body = buf[i + 5 : end]
    raw = buf[i:end]
    if fn == ord("k") and body[:1] == b"1":  # QR code (cn = 49)
        name = QR_FUNCTIONS.get(body[1], f"qr_fn_{body[1]}")
        if name == "qr_store":
            return Cmd(name, raw, body[3:]), end  # body: cn fn m data
        if name == "qr_print":
            return Cmd(name, raw), end
        return Cmd(name, raw, body[2] if len(body) == 3 else body[2:]), end
    return Cmd(f"gs_paren_{chr(fn)}", raw, body), end


def _gs_v0(buf: bytes, i: int) -> tuple[Cmd, int]:
    _need(buf, i + 8)
    if buf[i + 2] != ord("0"):
        raise DecodeError(f"GS v {buf[i + 2]:#x} at {i} is not a raster command")
    mode = buf[i + 3]
    width_bytes = buf[i + 4] | buf[i + 5] << 8
    height = buf[i + 6] | buf[i + 7] << 8
    end = i + 8 + width_bytes * height
    _need(buf, end)
    raster = Raster(width_bytes * 8, height, buf[i + 8 : end], mode)
    return Cmd("raster", buf[i:end], raster), end


def _gs_cut(buf: bytes, i: int) -> tuple[Cmd, int]:
    _need(buf, i + 3)
    m = buf[i + 2]
    if m in (0, 1, 48, 49):
        return Cmd("cut", buf[i : i + 3], "full" if m in (0, 48) else "partial"), i + 3
    _need(buf, i + 4)
    return Cmd("cut", buf[i : i + 4], "full" if m in (65, 97) else "partial"), i + 4


def _one(buf: bytes, i: int, state: _State) -> tuple[Cmd, int]:
    b = buf[i]
    if b in CONTROL:
        return Cmd(CONTROL[b], buf[i : i + 1]), i + 1
    if b not in (ESC, GS, FS, DLE):
        if b < 0x20:
            raise DecodeError(f"unknown control byte {b:#04x} at offset {i}")
        return _text(buf, i, state.kanji)
    _need(buf, i + 2)
    c = buf[i + 1]
    if b == GS and c == ord("v"):
        return _gs_v0(buf, i)
    if b == GS and c == ord("("):
        return _gs_paren(buf, i)
    if b == GS and c == ord("V"):
        return _gs_cut(buf, i)
    if b == ESC and c == ord("c"):  # ESC c 3/4/5 n: panel and sensor settings
        _need(buf, i + 4)
        return Cmd("esc_c", buf[i : i + 4], buf[i + 3]), i + 4
    if (b, c) not in FIXED:
        raise DecodeError(f"unknown command {bytes([b, c])!r} at offset {i}")
    name, n = FIXED[(b, c)]
    _need(buf, i + 2 + n)
    raw = buf[i : i + 2 + n]
    value = raw[2] if n == 1 else raw[2:] if n else None
    if name == "kanji_on":
        state.kanji = True
    elif name == "kanji_off":
        state.kanji = False
    return Cmd(name, raw, value), i + 2 + n


def decode_prefix(buf: bytes, kanji: bool = False) -> tuple[list[Cmd], int, bool]:
    """Commands wholly inside `buf`, the bytes they take, and whether kanji
    mode is on after them (pass it back in with the rest of the stream)."""
    state = _State(kanji=kanji)
    i = 0
    while i < len(buf):
        try:
            cmd, end = _one(buf, i, state)
        except _Incomplete:
            break
        state.commands.append(cmd)
        i = end
    return state.commands, i, state.kanji


def decode(buf: bytes) -> list[Cmd]:
    """The whole stream; trailing bytes that make no complete command are an error."""
    commands, used, _ = decode_prefix(buf)
    if used != len(buf):
        raise DecodeError(f"incomplete command at offset {used}: {buf[used:used + 16]!r}")
    return commands


def join_rasters(commands: list[Cmd]) -> list[Raster]:
    """Rasters that follow each other with nothing printed between them are
    one picture (python-escpos cuts tall images into 960-row fragments)."""
    out: list[Raster] = []
    adjacent = False
    for cmd in commands:
        if cmd.name == "raster":
            r: Raster = cmd.value
            if adjacent and out[-1].width == r.width:
                prev = out[-1]
                out[-1] = Raster(r.width, prev.height + r.height, prev.data + r.data, prev.mode)
            else:
                out.append(r)
            adjacent = True
        else:
            adjacent = False
    return out
