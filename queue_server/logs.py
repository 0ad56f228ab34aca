"""Structured JSON logs. Never log personal data (phone numbers, names) or
capabilities (ticket ids, tokens): log route names, not request paths."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter


def setup(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s", rename_fields={
            "asctime": "time", "levelname": "level", "name": "logger"})
    )
    # force: a library may have configured logging on import (python-escpos
    # calls logging.basicConfig()); this set-up replaces it, level included.
    logging.basicConfig(handlers=[handler], level=level, force=True)
