"""Printer URLs from the configuration, and the python-escpos printer each
one means.

    tcp://192.0.2.10:9100            network printer (port 9100 by default)
    usb:04b8:0202                    USB vendor:product ids, hex
    usb:04b8:0202?in_ep=0x82&out_ep=0x01
    serial:/dev/ttyUSB0?baudrate=38400&parity=N&bytesize=8&stopbits=1&flow=dsrdtr
    file:/dev/usb/lp0  or  /dev/usb/lp0   a device or file, written only

A bad URL is a `PrinterURLError` naming what is wrong, at start-up rather
than at the first ticket.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, urlsplit

from escpos.escpos import Escpos

__all__ = [
    "FileAddress",
    "PrinterAddress",
    "PrinterURLError",
    "SerialAddress",
    "TcpAddress",
    "UsbAddress",
    "make_printer",
    "parse_printer_url",
]

BAUD_RATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)


class PrinterURLError(ValueError):
    pass


@dataclass(frozen=True)
class TcpAddress:
    host: str
    port: int = 9100


@dataclass(frozen=True)
class UsbAddress:
    vendor: int
    product: int
    in_ep: int = 0x82
    out_ep: int = 0x01


@dataclass(frozen=True)
class SerialAddress:
    device: str
    baudrate: int = 9600
    bytesize: int = 8
    parity: Literal["N", "E", "O"] = "N"
    stopbits: int = 1
    # python-escpos 3.1 passes only dsrdtr and xonxoff to pyserial (no RTS/CTS).
    flow: Literal["dsrdtr", "xonxoff", "none"] = "dsrdtr"


@dataclass(frozen=True)
class FileAddress:
    path: str


PrinterAddress = TcpAddress | UsbAddress | SerialAddress | FileAddress


def _int(url: str, name: str, text: str, base: int = 10, lo: int = 0, hi: int = 65535) -> int:
    try:
        value = int(text, base)
    except ValueError:
        raise PrinterURLError(f"{url}: {name} {text!r} is not a number") from None
    if not lo <= value <= hi:
        raise PrinterURLError(f"{url}: {name} {value} is out of range {lo}..{hi}")
    return value


def _options(url: str, query: str, allowed: set[str]) -> dict[str, str]:
    options = dict(parse_qsl(query, keep_blank_values=True))
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise PrinterURLError(
            f"{url}: unknown option {', '.join(unknown)} (known: {', '.join(sorted(allowed))})"
        )
    return options


def _tcp(url: str) -> TcpAddress:
    parts = urlsplit(url)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise PrinterURLError(f"{url}: a network printer URL is tcp://host:port, nothing more")
    if not parts.hostname:
        raise PrinterURLError(f"{url}: no host (expected tcp://host:9100)")
    try:
        port = parts.port
    except ValueError:
        raise PrinterURLError(f"{url}: bad port") from None
    return TcpAddress(parts.hostname, 9100 if port is None else port)


def _usb(url: str) -> UsbAddress:
    ids, _, query = url[len("usb:"):].partition("?")
    vid, sep, pid = ids.partition(":")
    if not sep or not vid or not pid:
        raise PrinterURLError(f"{url}: expected usb:VID:PID with hex ids, e.g. usb:04b8:0202")
    opts = _options(url, query, {"in_ep", "out_ep"})
    return UsbAddress(
        _int(url, "vendor id", vid, 16, 1),
        _int(url, "product id", pid, 16, 1),
        _int(url, "in_ep", opts.get("in_ep", "0x82"), 0, 0, 255),
        _int(url, "out_ep", opts.get("out_ep", "0x01"), 0, 0, 255),
    )


def _serial(url: str) -> SerialAddress:
    device, _, query = url[len("serial:"):].partition("?")
    if not device.startswith("/") and not device.upper().startswith("COM"):
        raise PrinterURLError(f"{url}: expected serial:/dev/ttyUSB0?baudrate=9600")
    opts = _options(url, query, {"baudrate", "bytesize", "parity", "stopbits", "flow"})
    baudrate = _int(url, "baudrate", opts.get("baudrate", "9600"), lo=1, hi=10_000_000)
    if baudrate not in BAUD_RATES:
        raise PrinterURLError(f"{url}: baudrate {baudrate} is not one of {BAUD_RATES}")
    parity = opts.get("parity", "N").upper()
    if parity not in ("N", "E", "O"):
        raise PrinterURLError(f"{url}: parity must be N, E or O")
    bytesize = _int(url, "bytesize", opts.get("bytesize", "8"), lo=7, hi=8)
    stopbits = _int(url, "stopbits", opts.get("stopbits", "1"), lo=1, hi=2)
    flow = opts.get("flow", "dsrdtr")
    if flow not in ("dsrdtr", "xonxoff", "none"):
        raise PrinterURLError(f"{url}: flow must be dsrdtr, xonxoff or none")
    return SerialAddress(device, baudrate, bytesize, parity, stopbits, flow)  # type: ignore[arg-type]


def parse_printer_url(url: str) -> PrinterAddress:
    url = url.strip()
    if not url:
        raise PrinterURLError("no printer URL given")
    if url.startswith("/"):
        return FileAddress(url)
    scheme = url.partition(":")[0].lower()
    if scheme == "tcp":
        return _tcp(url)
    if scheme == "usb":
        return _usb(url)
    if scheme == "serial":
        return _serial(url)
    if scheme == "file":
        path = url[len("file:"):]
        path = path[2:] if path.startswith("//") else path  # file:///dev/x too
        if not path.startswith("/"):
            raise PrinterURLError(f"{url}: expected file:/absolute/path")
        return FileAddress(path)
    raise PrinterURLError(
        f"{url}: unknown printer URL; use tcp://host:9100, usb:VID:PID, "
        "serial:/dev/ttyUSB0?baudrate=…, file:/path or a device path"
    )


def make_printer(
    address: PrinterAddress | str, profile: str = "TM-T88V", timeout: float = 3.0
) -> Escpos:
    """The python-escpos printer for `address`, not yet opened. `timeout`
    (seconds) bounds connecting, writing and each status reply."""
    if isinstance(address, str):
        address = parse_printer_url(address)
    if isinstance(address, TcpAddress):
        from escpos.printer import Network

        return Network(address.host, address.port, timeout=timeout, profile=profile)
    if isinstance(address, UsbAddress):
        from escpos.printer import Usb

        # pyusb counts its timeout in milliseconds.
        return Usb(address.vendor, address.product, timeout=int(timeout * 1000),
                   in_ep=address.in_ep, out_ep=address.out_ep, profile=profile)
    if isinstance(address, SerialAddress):
        from escpos.printer import Serial

        return Serial(
            address.device, address.baudrate, address.bytesize, timeout,
            parity=address.parity, stopbits=address.stopbits,
            xonxoff=address.flow == "xonxoff", dsrdtr=address.flow == "dsrdtr",
            profile=profile,
        )
    from escpos.printer import File

    return File(address.path, profile=profile)
