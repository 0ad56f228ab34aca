"""Printer status (DLE EOT 1-4) against the fake network printer, printing
only to a printer that can print, and printer URLs."""

from __future__ import annotations

from pathlib import Path

import pytest
from escpos.printer import File, Network, Serial, Usb

from tests.escpos_decode import decode
from tests.fake_printer import (
    COVER_OPEN,
    OK,
    PAPER_END,
    PAPER_NEAR_END,
    FakePrinter,
    closed_port,
)
from tests.test_ticket_layout import sample_ticket
from ticket_printer.connections import (
    FileAddress,
    PrinterURLError,
    SerialAddress,
    TcpAddress,
    UsbAddress,
    make_printer,
    parse_printer_url,
)
from ticket_printer.escpos_out import ticket_bytes
from ticket_printer.printing import PrintOptions, print_ticket, printer_status
from ticket_printer.status import PrinterState, decode_status

# A printer that does not answer is given this long per reply.
SHORT = PrintOptions(timeout=0.3)


# -- reply bytes -------------------------------------------------------------


@pytest.mark.parametrize(
    ("replies", "state"),
    [
        (OK, PrinterState.OK),
        (PAPER_NEAR_END, PrinterState.PAPER_NEAR_END),
        (PAPER_END, PrinterState.PAPER_END),
        (COVER_OPEN, PrinterState.COVER_OPEN),
        ({**OK, 3: 0x12 | 0x08}, PrinterState.ERROR),  # autocutter error
        ({**OK, 1: 0x12 | 0x08}, PrinterState.OFFLINE),
        ({**PAPER_END, 2: 0x12 | 0x20 | 0x04}, PrinterState.COVER_OPEN),
        ({1: 0x12, 2: 0x12}, PrinterState.UNKNOWN),
    ],
)
def test_decode_status(replies: dict[int, int], state: PrinterState) -> None:
    status = decode_status(replies)
    assert status.state is state
    assert status.can_print is (state in (PrinterState.OK, PrinterState.PAPER_NEAR_END))


def test_decoded_fields() -> None:
    status = decode_status(PAPER_END)
    assert (status.online, status.paper, status.cover_open) == (False, "end", False)
    assert decode_status(PAPER_NEAR_END).paper == "near_end"
    assert decode_status(OK).as_dict()["state"] == "ok"


# -- against the fake printer ------------------------------------------------------


@pytest.mark.parametrize(
    ("replies", "state"),
    [
        (OK, PrinterState.OK),
        (PAPER_END, PrinterState.PAPER_END),
        (PAPER_NEAR_END, PrinterState.PAPER_NEAR_END),
        (COVER_OPEN, PrinterState.COVER_OPEN),
    ],
)
def test_status_of_a_network_printer(replies: dict[int, int], state: PrinterState) -> None:
    with FakePrinter(replies) as fake:
        status = printer_status(fake.url, SHORT)
        fake.wait_jobs(1)
    assert status.state is state
    assert status.replies == replies
    assert fake.queries == [1, 2, 3, 4]


def test_silent_printer_is_unknown_never_ok() -> None:
    with FakePrinter(mode="silent") as fake:
        status = printer_status(fake.url, SHORT)
        fake.wait_jobs(1)
    assert status.state is PrinterState.UNKNOWN
    assert not status.can_print
    assert "no answer" in status.detail


def test_printer_that_hangs_up_is_unknown() -> None:
    with FakePrinter(mode="close") as fake:
        status = printer_status(fake.url, SHORT)
    assert status.state is PrinterState.UNKNOWN
    assert not status.can_print


def test_connection_refused_is_unreachable() -> None:
    status = printer_status(f"tcp://127.0.0.1:{closed_port()}", SHORT)
    assert status.state is PrinterState.UNREACHABLE
    assert status.detail


def test_reply_that_is_not_a_status_byte_is_unknown() -> None:
    with FakePrinter({**OK, 2: 0xFF}) as fake:
        status = printer_status(fake.url, SHORT)
    assert status.state is PrinterState.UNKNOWN
    assert "0xff" in status.detail


# -- print_ticket: before and after -------------------------------------------------


@pytest.mark.parametrize("replies", [PAPER_END, COVER_OPEN])
def test_ticket_is_not_sent_to_a_printer_that_cannot_print(replies: dict[int, int]) -> None:
    with FakePrinter(replies) as fake:
        result = print_ticket(fake.url, sample_ticket(), SHORT)
        [job] = fake.wait_jobs(1)
    assert result.outcome == "not_sent"
    assert not result.printed
    assert result.error == decode_status(replies).state.value
    assert result.bytes_sent == 0
    # Only the four status queries reached the printer: no image, no cut.
    assert [c.name for c in decode(job)] == ["status_query"] * 4


def test_ticket_is_not_sent_to_a_silent_printer() -> None:
    with FakePrinter(mode="silent") as fake:
        result = print_ticket(fake.url, sample_ticket(), SHORT)
        [job] = fake.wait_jobs(1)
    assert (result.outcome, result.error) == ("not_sent", "unknown")
    assert [c.name for c in decode(job)] == ["status_query"]


@pytest.mark.parametrize(
    "url",
    ["tcp://127.0.0.1:{port}", "usb:04b8:0202", "serial:/dev/ttyUSB-none", "/no/such/dir/lp0"],
)
def test_ticket_to_an_unreachable_printer(url: str) -> None:
    result = print_ticket(url.format(port=closed_port()), sample_ticket(), SHORT)
    assert (result.outcome, result.error) == ("not_sent", "unreachable")
    assert result.as_dict()["before"]["state"] == "unreachable"
    assert result.detail


def test_fake_printer_ignores_query_bytes_inside_a_raster() -> None:
    # A raster whose dots spell DLE EOT 1 is image data, not a status query.
    raster = b"\x1dv0\x00\x01\x00\x03\x00" + b"\x10\x04\x01"
    with FakePrinter() as fake:
        p = make_printer(fake.url, timeout=2)
        p.open()
        p._raw(b"\x1b@" + raster)
        p.close()
        [job] = fake.wait_jobs(1)
    assert fake.queries == []
    assert [c.name for c in decode(job)] == ["init", "raster"]


def test_near_end_still_prints_and_says_so() -> None:
    with FakePrinter(PAPER_NEAR_END) as fake:
        result = print_ticket(fake.url, sample_ticket(), SHORT)
    assert result.printed
    assert result.after is not None and result.after.paper == "near_end"


def test_paper_running_out_during_the_ticket_is_a_failure() -> None:
    with FakePrinter(rounds=[OK, PAPER_END]) as fake:
        result = print_ticket(fake.url, sample_ticket(), SHORT)
    assert (result.outcome, result.error) == ("failed", "paper_end")
    assert result.bytes_sent > 0


def test_printer_going_silent_after_the_ticket_is_unconfirmed() -> None:
    with FakePrinter(rounds=[OK, None]) as fake:
        result = print_ticket(fake.url, sample_ticket(), SHORT)
        [job] = fake.wait_jobs(1)
    assert (result.outcome, result.error) == ("unconfirmed", "unknown")
    assert not result.printed
    assert job.count(ticket_bytes(sample_ticket())) == 1


def test_file_printer_cannot_report_status(tmp_path: Path) -> None:
    out = tmp_path / "lp0"
    result = print_ticket(f"file:{out}", sample_ticket(), SHORT)
    assert (result.outcome, result.error) == ("not_sent", "unknown")
    assert "cannot be read" in result.before.detail
    trusted = PrintOptions(timeout=0.3, trust_without_status=True)
    result = print_ticket(str(out), sample_ticket(), trusted)
    assert result.printed
    data = out.read_bytes()
    # The four queries went into the file too (it cannot answer them).
    assert data.endswith(ticket_bytes(sample_ticket()) + b"\x10\x04\x01")


# -- printer URLs -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("tcp://192.0.2.10:9100", TcpAddress("192.0.2.10", 9100)),
        ("tcp://printer.local", TcpAddress("printer.local", 9100)),
        ("tcp://[::1]:9101", TcpAddress("::1", 9101)),
        ("usb:04b8:0202", UsbAddress(0x04B8, 0x0202)),
        ("usb:04B8:0E15?in_ep=0x81&out_ep=2", UsbAddress(0x04B8, 0x0E15, 0x81, 2)),
        ("serial:/dev/ttyUSB0", SerialAddress("/dev/ttyUSB0")),
        (
            "serial:/dev/ttyS0?baudrate=38400&parity=e&bytesize=7&stopbits=2&flow=xonxoff",
            SerialAddress("/dev/ttyS0", 38400, 7, "E", 2, "xonxoff"),
        ),
        ("file:/dev/usb/lp0", FileAddress("/dev/usb/lp0")),
        ("file:///tmp/ticket.bin", FileAddress("/tmp/ticket.bin")),
        ("/dev/usb/lp0", FileAddress("/dev/usb/lp0")),
    ],
)
def test_good_printer_urls(url: str, address: object) -> None:
    assert parse_printer_url(url) == address


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "no printer URL"),
        ("tcp://:9100", "no host"),
        ("tcp://host:99999", "bad port"),
        ("tcp://host:abc", "bad port"),
        ("tcp://host:9100/path", "nothing more"),
        ("usb:04b8", "usb:VID:PID"),
        ("usb:zzzz:0202", "not a number"),
        ("usb:04b8:0202?speed=1", "unknown option speed"),
        ("serial:ttyUSB0", "serial:/dev/ttyUSB0"),
        ("serial:/dev/ttyUSB0?baudrate=12345", "baudrate 12345"),
        ("serial:/dev/ttyUSB0?parity=X", "parity"),
        ("serial:/dev/ttyUSB0?flow=rtscts", "flow"),
        ("file:relative/path", "absolute"),
        ("lpt://printer", "unknown printer URL"),
        ("192.0.2.10:9100", "unknown printer URL"),
    ],
)
def test_bad_printer_urls(url: str, message: str) -> None:
    with pytest.raises(PrinterURLError, match=message):
        parse_printer_url(url)


def test_urls_make_python_escpos_printers() -> None:
    net = make_printer("tcp://192.0.2.10:9100", timeout=2)
    assert isinstance(net, Network) and (net.host, net.port, net.timeout) == ("192.0.2.10", 9100, 2)
    usb = make_printer("usb:04b8:0202", timeout=2)
    assert isinstance(usb, Usb) and usb.usb_args == {"idVendor": 0x04B8, "idProduct": 0x0202}
    assert usb.timeout == 2000
    ser = make_printer("serial:/dev/ttyUSB0?baudrate=38400")
    assert isinstance(ser, Serial) and (ser.devfile, ser.baudrate) == ("/dev/ttyUSB0", 38400)
    assert isinstance(make_printer("/dev/usb/lp0"), File)
    assert net.profile.profile_data["media"]["width"]["pixels"] == 512
