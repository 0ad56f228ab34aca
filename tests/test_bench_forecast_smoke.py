"""bench/forecast.py runs end to end with tiny parameters and reports sane
JSON (not a timing test: no assertion is about speed)."""

from __future__ import annotations

from bench import forecast


def test_forecast_bench_smoke(redis_url: str) -> None:
    result = forecast.main(["--redis-url", redis_url, "--n", "5", "--sizes", "20"])
    assert result["benchmark"] == "forecast"
    block = result["waiting"]["20"]
    assert block["forecast_tickets"] == 20
    for kind in ("forecast", "status", "ticket_view"):
        assert block[kind]["n"] == 5
        assert 0 < block[kind]["p50_ms"] <= block[kind]["p99_ms"]
