"""The ticket as data and as a 512-dot raster: content, languages, 和暦,
the big number, the QR read back from the pixels, the PNG preview."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import zxingcpp
from PIL import Image, ImageChops, ImageDraw, ImageFont, ImageOps

from ticket_printer import fonts
from ticket_printer.dates import wareki_year
from ticket_printer.elements import BigNumber, Note, QRCode, Text
from ticket_printer.fonts import find_font, font
from ticket_printer.layout import WIDTH, ZWSP, render_element, render_ticket, wrap
from ticket_printer.preview import preview_png
from ticket_printer.ticket import LANGS, TicketPrint, catalog, ticket_elements

TOKYO = ZoneInfo("Asia/Tokyo")
URL = "https://madoguchi.example.jp/t/kokurakita.AbCdEfGhIjKlMnOpQrStUv"


def sample_ticket(**changes: object) -> TicketPrint:
    fields: dict[str, object] = dict(
        office_name="小倉北区役所",
        service_name="住民票の写し・印鑑登録証明書",
        number="A-023",
        ahead=5,
        url=URL,
        issued_at=datetime(2026, 11, 27, 10, 3, tzinfo=TOKYO),
        wait_minutes=15,
        konbini=True,
        footer="お問い合わせ 093-582-0000",
    )
    fields.update(changes)
    return TicketPrint(**fields)  # type: ignore[arg-type]


def texts(ticket: TicketPrint) -> list[str]:
    out: list[str] = []
    for el in ticket_elements(ticket):
        if isinstance(el, Text):
            out.append(el.text.replace(ZWSP, ""))
        elif isinstance(el, Note):
            out += [t.text.replace(ZWSP, "") for t in el.texts]
    return out


def ink(im: Image.Image) -> tuple[int, int, int, int] | None:
    """Bounding box of the black dots of a mode "1" image."""
    return ImageOps.invert(im.convert("L")).getbbox()


# -- content -------------------------------------------------------------


def test_japanese_ticket_says_what_the_citizen_needs() -> None:
    lines = texts(sample_ticket())
    assert lines[:2] == ["小倉北区役所", "住民票の写し・印鑑登録証明書"]
    assert "お待ちの人数 5人" in lines
    assert "待ち時間の目安 約15分" in lines
    assert "この証明書はマイナンバーカードでコンビニでも取得できます" in lines
    assert "発券 2026年11月27日(金) 10:03" in lines
    assert lines[-1] == "お問い合わせ 093-582-0000"
    numbers = [el for el in ticket_elements(sample_ticket()) if isinstance(el, BigNumber)]
    assert [n.text for n in numbers] == ["A-023"]
    qrs = [el for el in ticket_elements(sample_ticket()) if isinstance(el, QRCode)]
    assert [q.data for q in qrs] == [URL]


def test_long_wait_says_when_to_come_back_instead_of_the_wait() -> None:
    ticket = sample_ticket(
        wait_minutes=95, come_back_by=datetime(2026, 11, 27, 2, 30, tzinfo=UTC)
    )
    lines = texts(ticket)
    assert "11:30ごろまでにお戻りください" in lines  # 02:30 UTC is 11:30 in Tokyo
    assert not any("待ち時間" in line for line in lines)


def test_wait_over_an_hour_and_nobody_ahead() -> None:
    lines = texts(sample_ticket(wait_minutes=80, ahead=4, konbini=False, footer=""))
    assert "待ち時間の目安 約1時間20分" in lines
    assert not any("コンビニ" in line for line in lines)
    # Nobody ahead: 「まもなく」, and no wait that says otherwise (issue 10 §4).
    lines = texts(sample_ticket(wait_minutes=80, ahead=0, konbini=False, footer=""))
    assert "まもなくお呼びします" in lines
    assert not any("待ち時間" in line for line in lines)
    assert lines[-1].startswith("発券")


def test_issue_time_is_in_the_office_time_zone() -> None:
    ticket = sample_ticket(issued_at=datetime(2026, 11, 27, 15, 30, tzinfo=UTC))
    assert "発券 2026年11月28日(土) 00:30" in texts(ticket)


def test_wareki_date() -> None:
    # "as well as the Western date" (the setting): both, the era first.
    assert "発券 令和8年(2026年)11月27日(金) 10:03" in texts(sample_ticket(wareki=True))
    first = sample_ticket(wareki=True, issued_at=datetime(2019, 5, 1, 9, 0, tzinfo=TOKYO))
    assert "発券 令和元年(2019年)5月1日(水) 09:00" in texts(first)
    # Another language's line keeps its own (Western) date under the Japanese one.
    english = texts(sample_ticket(wareki=True, lang="en"))
    assert "発券 令和8年(2026年)11月27日(金) 10:03" in english
    assert not any("令和" in line for line in english if not line.startswith("発券"))
    assert wareki_year(date(2019, 4, 30)) == ("heisei", 31)
    assert wareki_year(date(1989, 1, 7)) is None


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "People ahead of you: 5"),
        ("ko", "앞에 기다리는 사람: 5명"),
        ("zh-Hans", "前面等候人数：5人"),
        ("vi", "Số người đang chờ trước bạn: 5"),
    ],
)
def test_other_languages_keep_japanese_for_the_staff(lang: str, expected: str) -> None:
    ticket = sample_ticket(lang=lang, office_name_local="Kokurakita Ward Office")
    lines = texts(ticket)
    assert "お待ちの人数 5人" in lines
    assert expected in lines
    # The Japanese line comes first, the ticket's language right under it.
    assert lines.index(expected) == lines.index("お待ちの人数 5人") + 1
    assert "Kokurakita Ward Office" in lines


def test_unknown_language_prints_japanese_only() -> None:
    assert texts(sample_ticket(lang="fr")) == texts(sample_ticket())


def test_catalogs_are_complete_and_carry_every_text() -> None:
    keys = set(catalog("ja")) - {"_comment", "date_wareki", "first_year", "eras"}
    for lang in LANGS:
        assert keys <= set(catalog(lang)), lang
        assert len(catalog(lang)["weekdays"]) == 7
        assert len(catalog(lang)["months"]) == 12
    folder = Path(__file__).parents[1] / "ticket_printer" / "messages"
    files = sorted(p.name for p in folder.iterdir())
    assert files == sorted(f"ticket.{lang}.json" for lang in LANGS)


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _glyph(f: ImageFont.FreeTypeFont, ch: str) -> bytes:
    im = Image.new("L", (40, 40), 0)
    ImageDraw.Draw(im).text((4, 4), ch, font=f, fill=255)
    return im.tobytes()


def test_font_has_every_character_of_every_catalog() -> None:
    # A missing glyph is drawn as the .notdef box: the same picture as a
    # code point that no font has.
    f = font(26)
    notdef = _glyph(f, "\U0010fffd")
    for lang in LANGS:
        chars = set("".join(_strings(catalog(lang))))
        missing = [c for c in chars if not c.isspace() and c != ZWSP and _glyph(f, c) == notdef]
        assert not missing, (lang, missing)


def test_font_comes_from_a_debian_package() -> None:
    found = find_font()
    assert Path(found.path).is_file()
    assert found.path.startswith("/usr/share/fonts/")
    assert find_font(bold=True).path != found.path
    # Chinese lines get the Simplified Chinese face of the same collection.
    assert find_font(lang="zh-Hans") != found
    # Without fontconfig the usual font folders are searched.
    searched = fonts._search(False)
    assert searched is not None and Path(searched.path).is_file()


def test_ticket_rejects_bad_data() -> None:
    with pytest.raises(ValueError, match="time zone"):
        sample_ticket(issued_at=datetime(2026, 11, 27, 10, 3))
    with pytest.raises(ValueError, match="negative"):
        sample_ticket(ahead=-1)


# -- raster ----------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_raster_is_512_dots_wide_one_bit_and_mostly_white(lang: str) -> None:
    im = render_ticket(sample_ticket(lang=lang)).image()
    assert im.mode == "1"
    assert im.width == WIDTH == 512
    assert 500 < im.height < 1400
    black = im.histogram()[0] / (im.width * im.height)
    assert 0.03 < black < 0.25


def test_big_number_is_at_least_120_dots_tall_and_fits_the_paper() -> None:
    for number in ("A-023", "B-107", "Z-999"):
        im = render_element(BigNumber(number))
        box = ink(im)
        assert box is not None
        left, top, right, bottom = box
        assert bottom - top >= 120, number
        assert left >= 16 and right <= 512 - 16, number


def test_the_raster_contains_the_ticket_number() -> None:
    # OCR-free: the number's own rendering appears in the ticket raster at
    # the place of the number piece, and another number's does not.
    layout = render_ticket(sample_ticket())
    y = 0
    for piece in layout.pieces:
        if isinstance(piece.element, BigNumber):
            break
        y += piece.image.height
    ticket = layout.image()
    number = render_element(BigNumber("A-023"))
    crop = ticket.crop((0, y, WIDTH, y + number.height))
    assert ImageChops.difference(crop.convert("L"), number.convert("L")).getbbox() is None
    other = render_element(BigNumber("A-024"))
    assert ImageChops.difference(crop.convert("L"), other.convert("L")).getbbox() is not None


def test_qr_in_the_raster_reads_back_as_the_ticket_url() -> None:
    im = render_ticket(sample_ticket()).image()
    codes = zxingcpp.read_barcodes(im.convert("L"))
    assert [c.text for c in codes] == [URL]
    assert codes[0].format == zxingcpp.BarcodeFormat.QRCode


def test_wrap_prefers_marked_breaks_and_splits_long_words() -> None:
    f = font(24, bold=True)
    konbini = catalog("ja")["konbini"]
    lines = wrap(konbini, f, 448)
    assert len(lines) == 2
    assert all(ZWSP not in line for line in lines)
    assert "".join(lines) == konbini.replace(ZWSP, "")
    assert lines[1].startswith("コンビニ")  # never 「コン/ビニ」
    long_word = "x" * 200
    assert "".join(wrap(long_word, f, 448)) == long_word
    assert all(f.getlength(line) <= 448 for line in wrap(long_word, f, 448))
    assert wrap("Please come back by 11:30", f, 448) == ["Please come back by 11:30"]


# -- preview ---------------------------------------------------------------


def test_png_preview_is_the_exact_raster() -> None:
    layout = render_ticket(sample_ticket(wareki=True))
    png = preview_png(layout)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    im = Image.open(io.BytesIO(png))
    im.verify()
    im = Image.open(io.BytesIO(png))
    assert im.size == layout.image().size
    assert im.convert("1").tobytes() == layout.image().tobytes()
    assert len(png) < 40_000


def test_wrap_breaks_japanese_between_phrases_not_inside_words() -> None:
    """The demo's longest service names at the ticket's service-name size:
    a line ends between phrases or after a list separator (「戸籍」 and
    「印鑑登録」 stay whole; the old wrap printed 「戸／籍」), Korean between
    its spaced words, and every line still fits the paper."""
    f = font(34, bold=True)
    cases = (("証明書（住民票・印鑑登録・戸籍）", ("証明書", "印鑑登録", "戸籍")),
             ("戸籍届出（出生・婚姻・死亡など）", ("戸籍届出", "婚姻", "死亡")),
             ("국민건강보험・연금 (가입・탈퇴)", ("국민건강보험・연금", "(가입・탈퇴)")))
    for name, words in cases:
        lines = wrap(name, f, WIDTH - 64)
        assert "".join(lines).replace(" ", "") == name.replace(" ", "")
        assert len(lines) > 1  # wide enough to need a break at this size
        assert all(f.getlength(line) <= WIDTH - 64 for line in lines)
        for word in words:
            assert any(word in line for line in lines), (word, lines)
