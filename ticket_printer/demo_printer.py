"""``madoguchi demo-printer``: the fake TCP receipt printer of the tests as
the demo's printer (`png_printer`). It answers status queries like a healthy
Epson TM-T88 and writes a PNG of each ticket it prints to ``var/printed/``.

``madoguchi run-demo`` starts it with ``--port 0`` and reads the first line
it prints (``demo printer listening on tcp://127.0.0.1:PORT``) to learn the
port it got. Registered with the kiosk agent's command, so this module
imports only the standard library until the command runs (a base install
has no Pillow)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import Any

LISTENING = "demo printer listening on "
PRINTED = "demo printer printed "  # then the PNG's path, one line per ticket


def register(sub: Any) -> None:
    p = sub.add_parser("demo-printer",
                       help="demo only: a fake network receipt printer writing PNGs")
    p.add_argument("--port", type=int, default=9100,
                   help="TCP port on 127.0.0.1 (0: any free port; default 9100)")
    p.add_argument("--out", default="var/printed", help="folder for the PNG of each ticket")
    p.set_defaults(func=run)


def run(settings: Any, args: argparse.Namespace) -> int:
    try:
        from .png_printer import DemoPrinter
    except ImportError:
        print("madoguchi demo-printer needs the printer extra: "
              "pip install 'madoguchi[printer]'", file=sys.stderr)
        return 2
    try:
        printer = DemoPrinter(Path(args.out), port=args.port,
                              on_printed=lambda path: print(f"{PRINTED}{path}", flush=True))
    except OSError as exc:
        print(f"madoguchi demo-printer: cannot listen on 127.0.0.1:{args.port} ({exc.strerror});"
              " choose another port with --port", file=sys.stderr)
        return 1
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with printer:
        print(f"{LISTENING}{printer.url}  (tickets as PNG in {args.out}/)", flush=True)
        stop.wait()
    return 0
