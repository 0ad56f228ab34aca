"""ESC/POS output, printed for real through python-escpos to the fake
network printer and decoded back: init, 512-dot ``GS v 0`` rasters equal to
the layout, the QR's data (native) or pixels (image), Shift-JIS in kanji
mode, cut."""

from __future__ import annotations

import pytest
import zxingcpp
from escpos.printer import Network

from tests.escpos_decode import Cmd, DecodeError, decode, join_rasters
from tests.fake_printer import FakePrinter
from tests.test_ticket_layout import URL, sample_ticket
from ticket_printer.escpos_out import EscposOptions, ticket_bytes, write_ticket
from ticket_printer.layout import Piece, render_ticket
from ticket_printer.printing import PrintOptions, print_ticket


def names(commands: list[Cmd]) -> list[str]:
    return [c.name for c in commands]


def job_of(fake: FakePrinter) -> list[Cmd]:
    [job] = fake.wait_jobs(1)
    assert not fake.errors
    return decode(job)


def test_raster_ticket_through_a_network_printer(printer: FakePrinter) -> None:
    ticket = sample_ticket()
    result = print_ticket(printer.url, ticket)
    assert result.printed, result
    commands = job_of(printer)
    # Status before and after the ticket, around one init ... cut job.
    assert printer.queries == [1, 2, 3, 4, 1, 2, 3, 4]
    job = [c for c in commands if c.name != "status_query"]
    assert job[0].name == "init"
    assert job[-1] == Cmd("cut", b"\x1dV\x00", "full")
    assert job[-2].name == "feed_lines"
    assert result.bytes_sent == sum(len(c.raw) for c in job)

    # The rasters are the layout's pieces, dot for dot, around the native QR.
    segments = render_ticket(ticket).segments()
    rasters = join_rasters(commands)
    assert [r.width for r in rasters] == [512, 512]
    assert isinstance(segments[1], Piece)
    for raster, image in zip(rasters, (segments[0], segments[2]), strict=True):
        assert not isinstance(image, Piece)
        assert raster.image().size == image.size
        assert raster.image().tobytes() == image.tobytes()
        assert 0.02 < raster.black_fraction() < 0.3
    assert not any(c.name == "text" for c in commands)  # no text path: no GB18030

    # Native QR: model 2, module size, error level M, the URL, print.
    qr = [c for c in commands if c.name.startswith("qr_")]
    assert names(qr) == ["qr_model", "qr_size", "qr_ec", "qr_store", "qr_print"]
    assert qr[1].value == 5 and qr[2].value == ord("1")  # 48 + 1: level M
    assert qr[3].value == URL.encode()
    # It sits between the two rasters, centred with ESC a 1.
    at = names(commands).index("qr_model")
    assert Cmd("align", b"\x1ba\x01", 1) in commands[at - 3 : at]


def test_python_escpos_network_printer_writes_the_same_job(printer: FakePrinter) -> None:
    ticket = sample_ticket(lang="ko")
    p = Network("127.0.0.1", printer.port, timeout=5, profile="TM-T88V")
    p.open()
    write_ticket(p, ticket)
    p.close()
    [job] = printer.wait_jobs(1)
    assert job == ticket_bytes(ticket)
    assert printer.queries == []


def test_image_qr_option(printer: FakePrinter) -> None:
    ticket = sample_ticket(lang="vi")
    options = PrintOptions(escpos=EscposOptions(native_qr=False, cut="partial"))
    assert print_ticket(printer.url, ticket, options).printed
    commands = job_of(printer)
    assert not any(c.name.startswith("qr_") for c in commands)
    assert [c for c in commands if c.name != "status_query"][-1].value == "partial"
    # python-escpos sends a tall image as 960-row fragments: together they
    # are the whole ticket, the preview's pixels.
    assert names(commands).count("raster") >= 2
    [raster] = join_rasters(commands)
    image = render_ticket(ticket).image()
    assert raster.image().tobytes() == image.tobytes()
    codes = zxingcpp.read_barcodes(raster.image().convert("L"))
    assert [c.text for c in codes] == [URL]


def test_kanji_mode_sends_shift_jis_text(printer: FakePrinter) -> None:
    ticket = sample_ticket(wareki=True)
    options = PrintOptions(escpos=EscposOptions(kanji=True))
    result = print_ticket(printer.url, ticket, options)
    assert result.printed
    commands = job_of(printer)
    [job] = printer.jobs
    assert "小倉北区役所".encode("cp932") in job
    assert "小倉北区役所".encode("gb18030") not in job
    # Every text run sits inside FS C 1, FS & ... FS .
    inside = False
    texts: list[str] = []
    for i, c in enumerate(commands):
        if c.name == "kanji_on":
            assert commands[i - 1] == Cmd("kanji_code", b"\x1cC\x01", 1)
            inside = True
        elif c.name == "kanji_off":
            inside = False
        elif c.name == "text":
            assert inside, c
            texts.append(c.value)
    joined = "".join(texts)
    for expected in ("小倉北区役所", "受付番号", "お待ちの人数 5人", "待ち時間の目安 約15分",
                     "発券 令和8年(2026年)11月27日(金) 10:03", "コンビニでも取得できます"):
        assert expected in joined
    # The big number stays a raster (legible from across the lobby), the QR native.
    assert any(c.name == "raster" and c.value.height > 120 for c in commands)
    assert any(c.name == "qr_store" and c.value == URL.encode() for c in commands)
    # Far fewer bytes than the all-raster job.
    assert result.bytes_sent < len(ticket_bytes(ticket)) / 2


def test_kanji_mode_keeps_text_the_printer_cannot_show_as_raster() -> None:
    ticket = sample_ticket(lang="ko")
    commands = decode(ticket_bytes(ticket, EscposOptions(kanji=True)))
    joined = "".join(c.value for c in commands if c.name == "text")
    assert "お待ちの人数 5人" in joined
    assert "명" not in joined  # Korean has no Shift-JIS: its lines are rasters
    assert sum(c.name == "raster" for c in commands) > 5


def test_decoder_rejects_garbage() -> None:
    with pytest.raises(DecodeError, match="unknown command"):
        decode(b"\x1b@\x1b\x7f")
    with pytest.raises(DecodeError, match="incomplete"):
        decode(b"\x1dv0\x00\x40\x00\x10\x00" + b"\x00" * 10)
