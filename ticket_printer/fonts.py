"""Find the Japanese font the ticket is drawn with.

The font comes from a Debian package (``fonts-noto-cjk``, or the IPAex fonts),
never from the project: fontconfig is asked first, because it knows where
the package put the file and which face of a ``.ttc`` collection is the
Japanese one; a search of the usual font directories is the fallback for a
machine without ``fc-match``. ``MADOGUCHI_TICKET_FONT`` (and
``MADOGUCHI_TICKET_FONT_BOLD``) override both, for a site with its own font.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import ImageFont

__all__ = ["FontFile", "FontNotFoundError", "find_font", "font"]

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
# Fallback file names, best first; (file name, face index for Japanese).
KNOWN_FILES = {
    False: (("NotoSansCJK-Regular.ttc", 0), ("ipaexg.ttf", 0), ("ipag.ttf", 0)),
    True: (("NotoSansCJK-Bold.ttc", 0), ("NotoSansCJK-Black.ttc", 0), ("ipaexg.ttf", 0)),
}
# fontconfig's language tags for the ticket languages whose glyph shapes
# differ by region (Chinese hanzi); everything else is drawn with the
# Japanese face, which also covers Hangul and Vietnamese letters.
FC_LANG = {"zh-Hans": "zh-cn"}


class FontNotFoundError(RuntimeError):
    pass


@dataclass(frozen=True)
class FontFile:
    path: str
    index: int = 0


def _fc_match(lang: str, bold: bool) -> FontFile | None:
    if shutil.which("fc-match") is None:
        return None
    pattern = f"sans-serif:lang={lang}" + (":weight=bold" if bold else "")
    try:
        out = subprocess.run(
            ["fc-match", "-f", "%{file}\t%{index}\t%{lang}", pattern],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    parts = out.split("\t")
    if len(parts) != 3 or not parts[0]:
        return None
    # fc-match always answers with *some* font; only take one that really
    # covers the language (otherwise it is e.g. DejaVu and kanji become boxes).
    if lang not in parts[2].split("|"):
        return None
    return FontFile(parts[0], int(parts[1] or 0))


def _search(bold: bool) -> FontFile | None:
    for name, index in KNOWN_FILES[bold]:
        for root in FONT_DIRS:
            if root.is_dir():
                for found in sorted(root.rglob(name)):
                    return FontFile(str(found), index)
    return None


@cache
def find_font(bold: bool = False, lang: str = "ja") -> FontFile:
    override = os.environ.get("MADOGUCHI_TICKET_FONT_BOLD" if bold else "MADOGUCHI_TICKET_FONT")
    if override:
        return FontFile(override)
    found = _fc_match(FC_LANG.get(lang, "ja"), bold)
    if found is None and lang != "ja":
        return find_font(bold, "ja")
    found = found or _search(bold) or (_search(False) if bold else None)
    if found is None:
        raise FontNotFoundError(
            "no Japanese font found: install the Debian package fonts-noto-cjk "
            "(or fonts-ipaexfont-gothic), or set MADOGUCHI_TICKET_FONT"
        )
    return found


def font(size: int, bold: bool = False, lang: str = "ja") -> ImageFont.FreeTypeFont:
    """The Japanese font (or `lang`'s face of it) at `size` pixels."""
    f = find_font(bold, lang)
    return _load(f.path, f.index, size)


@cache
def _load(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    # Cached per file and size, not per language: every language but Chinese
    # shares the Japanese face, and loading a .ttc takes tens of milliseconds.
    return ImageFont.truetype(path, size, index=index)
