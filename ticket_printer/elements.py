"""The ticket as a list of printable elements, before any pixel exists.

Both renderers read this list: the raster renderer (``layout``) draws every
element into the 512-dot image, and the kanji-mode writer (``escpos_out``)
sends the Shift-JIS-encodable texts as printer text instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["BigNumber", "Element", "Gap", "Note", "QRCode", "Rule", "Text"]

Align = Literal["left", "center"]


@dataclass(frozen=True)
class Text:
    """One paragraph, wrapped to the paper width."""

    text: str
    size: int = 26  # pixel height of the font (180 dpi: 26 px ≈ 3.7 mm)
    bold: bool = False
    align: Align = "center"
    lang: str = "ja"


@dataclass(frozen=True)
class BigNumber:
    """The ticket number, as large as the paper allows."""

    text: str
    min_height: int = 120  # the digits' ink must be at least this tall


@dataclass(frozen=True)
class Rule:
    thickness: int = 2


@dataclass(frozen=True)
class Gap:
    height: int


@dataclass(frozen=True)
class QRCode:
    data: str
    module: int = 5  # dots per module; the same number goes to the printer's native QR
    error: Literal["L", "M", "Q", "H"] = "M"


@dataclass(frozen=True)
class Note:
    """Texts in a box: the notice a citizen should not miss (コンビニ交付)."""

    texts: tuple[Text, ...]


Element = Text | BigNumber | Rule | Gap | QRCode | Note
