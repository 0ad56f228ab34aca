"""Print one ticket, the way the kiosk agent does it.

One connection per ticket (some printers hold output until the connection
closes): open, ask the status, send the whole job in one write only if the
printer can print, ask the status again (a printer switched off mid-job
loses the job silently; a printer that stops answering is UNKNOWN, and the
job is then *unconfirmed*, never printed), close. Blocking I/O: call it from
a thread (``asyncio.to_thread``) in async code.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal

from escpos.escpos import Escpos
from escpos.exceptions import DeviceNotFoundError

from .connections import PrinterAddress, make_printer, parse_printer_url
from .escpos_out import EscposOptions, ticket_bytes
from .status import PrinterState, PrinterStatus, query_status
from .ticket import TicketPrint

__all__ = ["PrintOptions", "PrintResult", "print_ticket", "printer_status"]

log = logging.getLogger(__name__)

Outcome = Literal["printed", "unconfirmed", "not_sent", "failed"]


@dataclass(frozen=True)
class PrintOptions:
    escpos: EscposOptions = field(default_factory=EscposOptions)
    timeout: float = 3.0  # seconds: connect, write, each status reply
    # A printer that cannot report status (file:/device paths, some USB
    # adapters) can be trusted explicitly; otherwise its tickets stay
    # "unconfirmed" and the agent keeps them.
    trust_without_status: bool = False


@dataclass(frozen=True)
class PrintResult:
    outcome: Outcome
    before: PrinterStatus
    after: PrinterStatus | None = None
    bytes_sent: int = 0
    error: str | None = None  # machine-readable: a PrinterState value, or "send_failed"
    detail: str = ""

    @property
    def printed(self) -> bool:
        return self.outcome == "printed"

    def as_dict(self) -> dict[str, object]:
        return {
            "outcome": self.outcome, "printed": self.printed, "error": self.error,
            "detail": self.detail, "bytes_sent": self.bytes_sent,
            "before": self.before.as_dict(),
            "after": self.after.as_dict() if self.after else None,
        }


def _open(printer: Escpos) -> PrinterStatus | None:
    """Open the connection; the UNREACHABLE status when that fails."""
    try:
        printer.open()
    # DeviceNotFoundError from python-escpos; pyusb without a libusb backend
    # raises NoBackendError, a ValueError.
    except (DeviceNotFoundError, OSError, ValueError) as e:
        return PrinterStatus(PrinterState.UNREACHABLE, detail=str(e).replace("\n", " "))
    return None


def printer_status(
    url: str | PrinterAddress, options: PrintOptions | None = None
) -> PrinterStatus:
    """Open the printer, ask its status, close (for the agent's status reports)."""
    options = options or PrintOptions()
    printer = make_printer(url, options.escpos.profile, options.timeout)
    failed = _open(printer)
    if failed is not None:
        return failed
    try:
        return query_status(printer)
    finally:
        printer.close()


def print_ticket(
    url: str | PrinterAddress, ticket: TicketPrint, options: PrintOptions | None = None
) -> PrintResult:
    options = options or PrintOptions()
    address = parse_printer_url(url) if isinstance(url, str) else url
    # Rendered before connecting: the connection stays open only for the I/O.
    job = ticket_bytes(ticket, options.escpos)
    printer = make_printer(address, options.escpos.profile, options.timeout)
    failed = _open(printer)
    if failed is not None:
        return PrintResult("not_sent", failed, error=failed.state.value, detail=failed.detail)
    try:
        before = query_status(printer)
        trusted = before.state is PrinterState.UNKNOWN and options.trust_without_status
        if not (before.can_print or trusted):
            return PrintResult("not_sent", before, error=before.state.value,
                               detail=before.detail or before.state.value)
        try:
            # python-escpos has no public raw write; _raw is its one way to
            # send prepared bytes, and each printer class implements it.
            printer._raw(job)
        except OSError as e:
            return PrintResult("failed", before, bytes_sent=0, error="send_failed", detail=str(e))
        after = query_status(printer)
        if after.can_print or (after.state is PrinterState.UNKNOWN and trusted):
            return PrintResult("printed", before, after, len(job))
        if after.state is PrinterState.UNKNOWN:
            return PrintResult("unconfirmed", before, after, len(job), error=after.state.value,
                               detail=after.detail)
        # Paper ran out or the cover opened during the job: part of it may
        # be lost, so it counts as not printed (reprint after the fix).
        return PrintResult("failed", before, after, len(job), error=after.state.value,
                           detail=after.detail or after.state.value)
    finally:
        printer.close()
