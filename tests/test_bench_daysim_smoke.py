"""A short, small day of bench/day_simulation.py against the test Redis: a
real `madoguchi serve` on the simulated clock, driven over HTTP. Checks the
harness end to end and that the counts add up; no figure is asserted."""

from __future__ import annotations

from bench import day_simulation


async def test_day_simulation_short_day(redis_url: str) -> None:
    result = await day_simulation.simulate(redis_url, load=0.3, seed=3, close=(10, 0))
    assert result["tickets"] > 0 and result["tickets"] == sum(result["by_kind"].values())
    assert result["http_errors"] == {}
    # The server really ran on the simulated day: the first wait is measured
    # from tickets issued in its opening hours.
    assert set(result["walk_in_wait_min_by_issue_hour"]) <= {"08", "09"}
    assert result["booked"]["n"] >= 1
    assert 0 < result["counter_utilisation_mean"] <= 1
    assert result["estimates"]["overall"]["n"] > 0
    for key in ("printed", "lost_turn_following_advice", "remote_turn_passed_before_arrival",
                "wait_after_return_min"):
        assert key in result["come_back"]
