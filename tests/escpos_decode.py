"""The ESC/POS decoder lives in ticket_printer.escpos_decode (the demo
printer uses it too); the tests import it from here."""

from ticket_printer.escpos_decode import (
    Cmd,
    DecodeError,
    Raster,
    decode,
    decode_prefix,
    join_rasters,
)

__all__ = ["Cmd", "DecodeError", "Raster", "decode", "decode_prefix", "join_rasters"]
