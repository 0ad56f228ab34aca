"""``madoguchi kiosk-agent``: plugged into the ``madoguchi`` command through
the ``madoguchi.cli`` entry point group (queue_server imports nothing from
here)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path
from typing import Any

from queue_server import logs

TOKEN_ENV = "MADOGUCHI_KIOSK_TOKEN"


def register(sub: Any) -> None:
    # The demo's printer registers here too (one entry point for the
    # printer commands: adding one would need every venv reinstalled).
    from .demo_printer import register as register_demo_printer

    register_demo_printer(sub)
    p = sub.add_parser("kiosk-agent", help="kiosk PC agent: prints the kiosk's tickets")
    p.add_argument("--server", default=os.environ.get("MADOGUCHI_SERVER"),
                   help="the server, e.g. https://madoguchi.example (or $MADOGUCHI_SERVER)")
    p.add_argument("--token", help=f"the kiosk's device token (better: ${TOKEN_ENV}, which "
                                   "other users of the PC cannot see in the process list)")
    p.add_argument("--printer", default=os.environ.get("MADOGUCHI_PRINTER"),
                   help="tcp://host:9100 | usb:VID:PID | serial:/dev/ttyUSB0 | file:/dev/usb/lp0 "
                        "(or $MADOGUCHI_PRINTER)")
    p.add_argument("--card-reader", nargs="?", const="", default=None,
                   help="read My Number cards (書かない) on this PC/SC reader; the name or its "
                        "beginning, or no value for the first reader with a card")
    p.add_argument("--state-dir", default="var/kiosk-agent",
                   help="where the agent remembers printed jobs")
    p.add_argument("--kanji", action="store_true",
                   help="print text in the printer's kanji mode (Shift-JIS) instead of images")
    p.add_argument("--image-qr", action="store_true",
                   help="print the QR as an image (printers without native QR)")
    p.add_argument("--trust-without-status", action="store_true",
                   help="print to a printer that cannot report its status")
    p.set_defaults(func=run)


def run(settings: Any, args: argparse.Namespace) -> int:
    from .agent import KioskAgent
    from .connections import PrinterURLError, parse_printer_url
    from .escpos_out import EscposOptions
    from .printing import PrintOptions

    if not args.server or not args.printer:
        print("error: give --server and --printer (or $MADOGUCHI_SERVER, $MADOGUCHI_PRINTER)",
              file=sys.stderr)
        return 2
    token = args.token or os.environ.get(TOKEN_ENV, "")
    if not token:
        print(f"error: give the kiosk token with ${TOKEN_ENV} or --token", file=sys.stderr)
        return 2
    try:
        parse_printer_url(args.printer)
    except PrinterURLError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    options = PrintOptions(escpos=EscposOptions(kanji=args.kanji, native_qr=not args.image_qr),
                           trust_without_status=args.trust_without_status)
    card = None
    if args.card_reader is not None:
        from checkin.card_agent import CardAgent  # needs the cardreader extra (pyscard)

        card = CardAgent(reader=args.card_reader or None)
    # After every import: python-escpos calls logging.basicConfig() when
    # imported, which made a plain basicConfig here a no-op (no INFO lines).
    logs.setup(settings.log_level)
    agent = KioskAgent(args.server, token, args.printer, Path(args.state_dir), options=options,
                       card=card)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await agent.run(stop)

    asyncio.run(main())
    return 0
