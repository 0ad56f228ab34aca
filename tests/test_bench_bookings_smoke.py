"""bench/bookings.py runs, and its overbooking check holds on a tiny run."""

from __future__ import annotations

from bench import bookings


async def test_booking_benchmark_smoke(redis_url: str) -> None:
    result = await bookings.run(redis_url, n=5, bookings_total=120, concurrency=8, capacity=3)
    booking = result["booking"]
    assert booking["outcomes"]["booked"] == 20 * 3  # 20 target slots of 3 seats
    assert booking["outcomes"]["slot_full"] == 120 - 60
    assert booking["overbooked_slots"] == [] and booking["booked_equals_capacity"]
    for form in ("range_30_days", "one_day"):
        summary = result["availability"][form]
        assert summary["n"] == 5 and summary["p50_ms"] <= summary["p99_ms"]
