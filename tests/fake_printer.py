"""The fake TCP printer lives in ticket_printer.fake_printer (the demo's
``madoguchi demo-printer`` uses it too); the tests import it from here."""

from ticket_printer.fake_printer import (
    COVER_OPEN,
    OK,
    PAPER_END,
    PAPER_NEAR_END,
    FakePrinter,
    closed_port,
)

__all__ = ["COVER_OPEN", "OK", "PAPER_END", "PAPER_NEAR_END", "FakePrinter", "closed_port"]
