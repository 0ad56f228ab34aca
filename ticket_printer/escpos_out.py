"""The ticket as ESC/POS bytes, written through python-escpos.

Default path (works on every ESC/POS printer): the ticket's raster pieces as
``GS v 0`` bit images, the QR as the printer's own ``GS ( k`` symbol (or as
its raster piece). python-escpos' own text path cannot print Japanese (it
sends kanji as GB18030 and kana as "?"), so text never goes through
``Escpos.text()``.

Kanji mode (a per-printer option, for printers with a kanji ROM): Japanese
and English lines go as Shift-JIS text between ``FS C 1``/``FS &`` and
``FS .``, which is ~10× fewer bytes — it matters on serial printers. Lines the
printer's fonts cannot show (Korean, Vietnamese, Chinese glyph forms) and
the big number stay rasters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from escpos.constants import QR_ECLEVEL_H, QR_ECLEVEL_L, QR_ECLEVEL_M, QR_ECLEVEL_Q
from escpos.escpos import Escpos
from escpos.printer import Dummy
from PIL import Image

from .elements import Gap, Note, QRCode, Rule, Text
from .layout import ZWSP, Piece, TicketLayout, qr_quiet_zone, render_element, render_ticket, wrap
from .ticket import TicketPrint

__all__ = ["KANJI_OFF", "KANJI_ON", "EscposOptions", "ticket_bytes", "write_ticket"]

ESC, GS, FS = b"\x1b", b"\x1d", b"\x1c"
# FS C 1 selects Shift-JIS; FS & enters kanji mode (ignored by printers that
# switch automatically under Shift-JIS, needed by the others); FS . leaves.
KANJI_ON = FS + b"C\x01" + FS + b"&"
KANJI_OFF = FS + b"."
EC_LEVELS = {"L": QR_ECLEVEL_L, "M": QR_ECLEVEL_M, "Q": QR_ECLEVEL_Q, "H": QR_ECLEVEL_H}
KANJI_LANGS = ("ja", "en")  # fonts of a Japanese printer: JIS kanji, kana, ASCII
PAPER_DOTS = 512


@dataclass(frozen=True)
class EscposOptions:
    kanji: bool = False  # Shift-JIS text mode instead of text rasters
    native_qr: bool = True  # GS ( k; False: the QR goes as part of the raster
    cut: Literal["full", "partial"] = "full"
    profile: str = "TM-T88V"  # python-escpos capabilities profile (512-dot paper)


class _PrinterFont:
    """Width of text in the printer's own fonts (kanji 24 dots, ASCII 12 dots,
    times the character size), so kanji-mode lines are wrapped by `wrap()`
    at the same preferred breaks as the raster."""

    def __init__(self, magnification: int) -> None:
        self.mag = magnification

    def getlength(self, text: str) -> float:
        return sum(24 if len(ch.encode("cp932")) == 2 else 12 for ch in text) * self.mag


def _magnification(text: Text) -> tuple[int, int]:
    """(width, height) multipliers of the printer font for a text: a large
    text is double height, and double width too when it still fits one line."""
    if text.size <= 30:
        return 1, 1
    one_line = _PrinterFont(2).getlength(text.text.replace(ZWSP, "")) <= PAPER_DOTS
    return (2 if one_line else 1), 2


def _kanji_bytes(text: Text) -> bytes | None:
    """The text as Shift-JIS, or None when it must stay a raster."""
    if text.lang not in KANJI_LANGS:
        return None
    try:
        return text.text.replace(ZWSP, "").encode("cp932")
    except UnicodeEncodeError:
        return None


def _write_kanji_text(p: Escpos, text: Text) -> None:
    width, height = _magnification(text)
    lines = wrap(text.text, _PrinterFont(width), PAPER_DOTS)  # type: ignore[arg-type]
    size = bytes([(width - 1) << 4 | (height - 1)])  # GS ! n: width and height multipliers
    align = b"\x01" if text.align == "center" else b"\x00"
    body = b"\n".join(line.replace(ZWSP, "").encode("cp932") for line in lines)
    p._raw(
        ESC + b"a" + align + GS + b"!" + size + ESC + b"E" + (b"\x01" if text.bold else b"\x00")
        + KANJI_ON + body + KANJI_OFF + b"\n"
        + GS + b"!\x00" + ESC + b"E\x00" + ESC + b"a\x00"
    )


def _write_native_qr(p: Escpos, el: QRCode) -> None:
    quiet = bytes([min(255, qr_quiet_zone(el))])
    p._raw(ESC + b"J" + quiet + ESC + b"a\x01")  # ESC J: feed n dots (1/180 in)
    # center=True raises for native QR in python-escpos 3.1: align with ESC a.
    p.qr(el.data, ec=EC_LEVELS[el.error], size=el.module, native=True)
    p._raw(ESC + b"a\x00" + ESC + b"J" + quiet)


def _image(p: Escpos, image: Image.Image) -> None:
    p.image(image, impl="bitImageRaster")


def _write_kanji_mode(p: Escpos, layout: TicketLayout, options: EscposOptions) -> None:
    for piece in layout.pieces:
        el = piece.element
        if isinstance(el, QRCode) and options.native_qr:
            _write_native_qr(p, el)
        elif isinstance(el, Gap):
            p._raw(ESC + b"J" + bytes([min(255, el.height)]))
        elif isinstance(el, Text) and _kanji_bytes(el) is not None:
            _write_kanji_text(p, el)
        elif isinstance(el, Note) and all(_kanji_bytes(t) is not None for t in el.texts):
            _image(p, render_element(Rule()))
            for t in el.texts:
                _write_kanji_text(p, t)
            _image(p, render_element(Rule()))
        else:
            _image(p, piece.image)


def write_ticket(
    p: Escpos, ticket: TicketPrint | TicketLayout, options: EscposOptions | None = None
) -> None:
    options = options or EscposOptions()
    layout = ticket if isinstance(ticket, TicketLayout) else render_ticket(ticket)
    p.hw("INIT")
    if options.kanji:
        _write_kanji_mode(p, layout, options)
    elif options.native_qr:
        for segment in layout.segments():
            if isinstance(segment, Piece):
                assert isinstance(segment.element, QRCode)
                _write_native_qr(p, segment.element)
            else:
                _image(p, segment)
    else:
        _image(p, layout.image())
    p.cut(mode="PART" if options.cut == "partial" else "FULL")


def ticket_bytes(
    ticket: TicketPrint | TicketLayout, options: EscposOptions | None = None
) -> bytes:
    """The whole job as bytes. The job is built first and sent in one write:
    one write per command (python-escpos' way) costs a TCP round of Nagle +
    delayed ACK on some stacks, and the job should reach the printer whole."""
    options = options or EscposOptions()
    p = Dummy(profile=options.profile)
    write_ticket(p, ticket, options)
    return p.output
