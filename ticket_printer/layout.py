"""The ticket as a 1-bit raster: exactly 512 dots wide (80 mm paper at
180 dpi), black = printed.

Each element of the ticket becomes one piece of image; the pieces stacked
are the ticket (`TicketLayout.image()`, also the PNG preview). The printer
gets the same pieces: runs of non-QR pieces as one ``GS v 0`` raster each,
and the QR either as the printer's own (native) QR or as its piece.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

import budoux
import segno
from PIL import Image, ImageDraw, ImageFont

from .elements import BigNumber, Element, Gap, Note, QRCode, Rule, Text
from .fonts import font
from .ticket import TicketPrint, ticket_elements

__all__ = [
    "MARGIN",
    "WIDTH",
    "ZWSP",
    "Piece",
    "TicketLayout",
    "qr_quiet_zone",
    "render_element",
    "render_ticket",
    "stack",
    "warm_up",
    "wrap",
]

WIDTH = 512
MARGIN = 16
INNER = WIDTH - 2 * MARGIN
WHITE, BLACK = 255, 0
# Vertical space of one text line, in font sizes: enough for Vietnamese
# stacked accents above and CJK descenders below.
LINE = 1.34
BASELINE = 1.04
ZWSP = "\u200b"
QUIET_MODULES = 4  # the quiet zone a QR reader needs around the symbol

# Break opportunities: any CJK character (with closing punctuation kept on
# its line, 禁則), or a space-separated word.
_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\uac00-\ud7af"
_TOKEN = re.compile(rf"[{_CJK}][、。，．）」』！？ー]*|[^\s{_CJK}]+\s*|\s+")
# Japanese and Chinese are written without spaces: break between phrases
# (BudouX, the model Chromium uses for `word-break: auto-phrase`), so a
# service name never breaks inside a word (「戸／籍」); inside a phrase wider
# than the paper, after a list separator.
_KANA = re.compile("[\u3040-\u30ff]")
_HANZI = re.compile("[\u4e00-\u9fff]")
_HANGUL = re.compile("[\uac00-\ud7af]")
_AFTER_SEPARATOR = re.compile("(?<=[・、，,])")


@lru_cache(maxsize=2)
def _phrase_parser(language: str) -> budoux.Parser:
    if language == "ja":
        return budoux.load_default_japanese_parser()
    return budoux.load_default_simplified_chinese_parser()


def _tokens(para: str) -> list[str]:
    """Where a line of `para` may end, as the pieces between."""
    if ZWSP in para:
        return para.split(ZWSP)
    if _HANGUL.search(para):  # Korean breaks between its spaced words
        return re.findall(r"\S+\s*|\s+", para)
    if not (_KANA.search(para) or _HANZI.search(para)):
        return _TOKEN.findall(para)
    parser = _phrase_parser("ja" if _KANA.search(para) or not _HANZI.search(para) else "zh")
    return [piece for phrase in parser.parse(para)
            for piece in _AFTER_SEPARATOR.split(phrase) if piece]


@dataclass(frozen=True)
class Piece:
    element: Element

    @cached_property
    def image(self) -> Image.Image:
        """Mode "1", WIDTH wide. Drawn when first asked for: a native-QR job
        never needs the QR's pixels (encoding them costs more than all the
        text together)."""
        return render_element(self.element)


@dataclass(frozen=True)
class TicketLayout:
    pieces: tuple[Piece, ...]

    def image(self) -> Image.Image:
        """The whole ticket as printed in raster mode (the preview)."""
        return stack([p.image for p in self.pieces])

    def segments(self) -> list[Image.Image | Piece]:
        """Runs of non-QR pieces stacked into one image; QR pieces alone."""
        out: list[Image.Image | Piece] = []
        run: list[Image.Image] = []
        for piece in self.pieces:
            if isinstance(piece.element, QRCode):
                if run:
                    out.append(stack(run))
                    run = []
                out.append(piece)
            else:
                run.append(piece.image)
        if run:
            out.append(stack(run))
        return out


def stack(images: list[Image.Image]) -> Image.Image:
    out = Image.new("1", (WIDTH, sum(i.height for i in images)), WHITE)
    y = 0
    for im in images:
        out.paste(im, (0, y))
        y += im.height
    return out


_THRESHOLD = [BLACK] * 128 + [WHITE] * 128


def _to_1bit(im: Image.Image) -> Image.Image:
    # Antialiased glyphs thresholded at half grey: crisper on thermal paper
    # than dithering, and strokes keep their weight.
    return im.point(_THRESHOLD, mode="1")


def wrap(text: str, f: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Lines of `text` that fit `width`. Japanese and Chinese break between
    phrases; a catalog or footer text may mark its own breaks with U+200B
    (zero width space), and then breaks only there."""
    lines: list[str] = []
    for para in text.split("\n"):
        tokens = _tokens(para)
        line = ""
        for token in tokens:
            if not line or f.getlength(line + token.rstrip()) <= width:
                line += token
                continue
            lines.extend(_split_long(line.rstrip(), f, width))
            line = token.lstrip()
        lines.extend(_split_long(line.rstrip(), f, width))
    return lines


def _split_long(line: str, f: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """A single word wider than the paper (a long name) breaks anywhere."""
    if f.getlength(line) <= width:
        return [line]
    out = [""]
    for ch in line:
        if out[-1] and f.getlength(out[-1] + ch) > width:
            out.append("")
        out[-1] += ch
    return out


def _text(el: Text, width: int = INNER) -> Image.Image:
    f = font(el.size, el.bold, el.lang)
    lines = wrap(el.text, f, width)
    step = round(el.size * LINE)
    im = Image.new("L", (WIDTH, step * len(lines)), WHITE)
    draw = ImageDraw.Draw(im)
    for i, line in enumerate(lines):
        y = i * step + round(el.size * BASELINE)
        if el.align == "center":
            draw.text((WIDTH // 2, y), line, font=f, fill=BLACK, anchor="ms")
        else:
            draw.text(((WIDTH - width) // 2, y), line, font=f, fill=BLACK, anchor="ls")
    return _to_1bit(im)


@lru_cache(maxsize=512)
def _number_font(text: str) -> ImageFont.FreeTypeFont:
    # The largest size whose ink fits the paper width.
    for size in range(240, 40, -4):
        f = font(size, bold=True)
        left, _, right, _ = f.getbbox(text, anchor="ls")
        if right - left <= INNER:
            return f
    return font(40, bold=True)


def _number(el: BigNumber) -> Image.Image:
    f = _number_font(el.text)
    left, top, right, bottom = f.getbbox(el.text, anchor="ls")
    pad = 12
    if bottom - top < el.min_height:
        raise ValueError(f"number {el.text!r} too long to print {el.min_height} dots tall")
    im = Image.new("L", (WIDTH, bottom - top + 2 * pad), WHITE)
    x = (WIDTH - (right - left)) // 2 - left
    ImageDraw.Draw(im).text((x, pad - top), el.text, font=f, fill=BLACK, anchor="ls")
    return _to_1bit(im)


def qr_quiet_zone(el: QRCode) -> int:
    return QUIET_MODULES * el.module


def _qr(el: QRCode) -> Image.Image:
    # No error-level boost: the printer's native QR uses exactly the level
    # asked for, and the preview should look like what it prints.
    code = segno.make(el.data, error=el.error.lower(), micro=False, boost_error=False)
    matrix = code.matrix
    n = len(matrix)
    symbol = Image.frombytes(
        "L", (n, n), bytes(BLACK if v else WHITE for row in matrix for v in row)
    ).resize((n * el.module, n * el.module), Image.Resampling.NEAREST)
    quiet = qr_quiet_zone(el)
    im = Image.new("L", (WIDTH, symbol.height + 2 * quiet), WHITE)
    im.paste(symbol, ((WIDTH - symbol.width) // 2, quiet))
    return im.convert("1")


def _note(el: Note) -> Image.Image:
    border, pad = 3, 10
    inner = INNER - 2 * (border + pad)
    body = stack([_text(t, inner) for t in el.texts])
    im = Image.new("1", (WIDTH, body.height + 2 * (border + pad)), WHITE)
    im.paste(body, (0, border + pad))
    draw = ImageDraw.Draw(im)
    draw.rectangle((MARGIN, 0, WIDTH - MARGIN - 1, im.height - 1), outline=BLACK, width=border)
    return im


def _rule(el: Rule) -> Image.Image:
    im = Image.new("1", (WIDTH, el.thickness + 8), WHITE)
    ImageDraw.Draw(im).rectangle(
        (MARGIN, 4, WIDTH - MARGIN - 1, 4 + el.thickness - 1), fill=BLACK
    )
    return im


def render_element(el: Element) -> Image.Image:
    if isinstance(el, Text):
        return _text(el)
    if isinstance(el, BigNumber):
        return _number(el)
    if isinstance(el, QRCode):
        return _qr(el)
    if isinstance(el, Note):
        return _note(el)
    if isinstance(el, Rule):
        return _rule(el)
    if isinstance(el, Gap):
        return Image.new("1", (WIDTH, el.height), WHITE)
    raise TypeError(f"not a ticket element: {el!r}")


def warm_up() -> None:
    """Load the fonts (about 0.1 s for the .ttc files) before the first
    ticket, e.g. when the kiosk agent starts."""
    for size, bold in ((22, False), (24, False), (26, False), (28, False), (24, True),
                       (28, True), (32, True), (34, True)):
        font(size, bold)
    _number_font("A-000")


def render_ticket(ticket: TicketPrint | list[Element]) -> TicketLayout:
    elements = ticket_elements(ticket) if isinstance(ticket, TicketPrint) else ticket
    return TicketLayout(tuple(Piece(el) for el in elements))
