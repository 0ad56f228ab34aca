"""bench/kiosk_print.py runs end to end (server, kiosk page in Chromium, the
kiosk-agent command, the fake printer) on a tiny run."""

from __future__ import annotations

import argparse

from bench import kiosk_print
from tests.browser import require_browser


async def test_kiosk_print_benchmark_smoke(redis_url: str) -> None:
    require_browser()
    result = await kiosk_print.run(argparse.Namespace(redis_url=redis_url, n=3, warmup=1))
    latency = result["latency"]
    assert latency["n"] == 3 and 0 < latency["p50_ms"] <= latency["max_ms"]
    assert isinstance(result["meets_target"], bool)
