"""A PNG of the exact ticket raster, for the admin pages and for people
checking a layout: the same pixels the printer gets in raster mode (in
kanji mode the printer draws the text lines with its own fonts)."""

from __future__ import annotations

import io

from .layout import TicketLayout, render_ticket
from .ticket import TicketPrint

__all__ = ["preview_png"]


def preview_png(ticket: TicketPrint | TicketLayout) -> bytes:
    layout = ticket if isinstance(ticket, TicketLayout) else render_ticket(ticket)
    out = io.BytesIO()
    # 1-bit PNG: ~10 KB, and exactly the dots (no scaling, no antialiasing).
    layout.image().save(out, format="PNG", optimize=True)
    return out.getvalue()
