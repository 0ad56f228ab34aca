"""The demo's printer: the tests' fake TCP receipt printer that also keeps a
PNG of each ticket it prints (the raster the kiosk agent sent, the QR
included when the agent prints it as an image). Needs the printer extra
(Pillow); ``madoguchi demo-printer`` (`demo_printer`) runs it."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from .escpos_decode import DecodeError, Raster, decode, join_rasters
from .fake_printer import FakePrinter

log = logging.getLogger("madoguchi.demo_printer")


def ticket_image(rasters: list[Raster]) -> Any:
    """The job's pictures one below the other, as on the paper (white
    background, black dots)."""
    from PIL import Image

    images = [r.image() for r in rasters]
    sheet = Image.new("1", (max(i.width for i in images), sum(i.height for i in images)), 1)
    top = 0
    for image in images:
        sheet.paste(image, (0, top))
        top += image.height
    return sheet


class DemoPrinter(FakePrinter):
    """A FakePrinter that keeps each printed ticket as a PNG in `out_dir`."""

    def __init__(self, out_dir: Path, port: int = 0,
                 on_printed: Callable[[Path], None] | None = None) -> None:
        super().__init__(port=port)
        self.out_dir = out_dir
        self.on_printed = on_printed
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._count = 0
        self._count_lock = threading.Lock()

    def _finish(self, data: bytes) -> None:
        # Written before the job counts as finished: whoever waits for it
        # finds the file.
        with contextlib.suppress(DecodeError, ValueError, OSError):
            rasters = join_rasters(decode(data))
            if rasters:
                with self._count_lock:
                    self._count += 1
                    name = f"{datetime.now():%Y%m%d-%H%M%S}-{self._count:04d}.png"
                path = self.out_dir / name
                ticket_image(rasters).save(path.with_suffix(".tmp"), format="PNG")
                path.with_suffix(".tmp").rename(path)  # whole files only
                log.info("printed", extra={"file": str(path)})
                if self.on_printed is not None:
                    self.on_printed(path)
        super()._finish(data)
