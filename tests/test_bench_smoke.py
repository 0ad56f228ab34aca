"""The benchmarks run end to end with tiny parameters and report sane JSON.
Not timing tests: no assertion is about speed. The M/M/c check is the one
quantitative assertion: the engine-driven simulation must reproduce Erlang C
(a broken engine or simulation moves W_q far off, it is very sensitive to
the effective service rate near rho ~ 0.6)."""

from __future__ import annotations

from typing import Any

from redis import Redis

from bench import engine_ops, estimate_accuracy


def _keys_left(redis_url: str, tenant: str) -> int:
    """Keys of a benchmark's throw-away tenant still in Redis (office keys
    `mg:{tenant:office}:...` and tenant-wide `mg:{tenant}:...`)."""
    client = Redis.from_url(redis_url)
    try:
        return sum(1 for _ in client.scan_iter(match=f"mg:{{{tenant}[:}}]*", count=1000))
    finally:
        client.close()


def _check_latency(block: dict[str, Any], n: int) -> None:
    assert block["n"] == n
    assert 0 < block["p50_ms"] <= block["p95_ms"] <= block["p99_ms"] <= block["max_ms"]
    assert block["mean_ms"] > 0
    assert block["ops_per_s"] > 0


def test_engine_ops_smoke(redis_url: str) -> None:
    result = engine_ops.main(["--redis-url", redis_url, "--n", "50", "--concurrency", "4"])
    assert result["benchmark"] == "engine_ops"
    assert result["parameters"]["n"] == 50
    for mode in ("sequential", "concurrent"):
        assert set(result[mode]) == {"issue_ticket", "ticket", "call_next"}
        for block in result[mode].values():
            _check_latency(block, 50)
    assert set(result["meets_target"]["latency_sequential"]) == {
        "issue_ticket",
        "ticket",
        "call_next",
    }
    assert result["environment"]["event_loop"] in {"asyncio", "uvloop"}
    assert _keys_left(redis_url, result["parameters"]["tenant"]) == 0


def test_estimate_accuracy_smoke(redis_url: str) -> None:
    result = estimate_accuracy.main(
        [
            "--redis-url", redis_url,
            "--seed", "1",
            "--days", "1",
            "--day-minutes", "30",
            # Busy enough that people wait in half an hour.
            "--rates", "shomei=60,ido=12,kokuho=6",
            "--mmc-servers", "2",
            "--mmc-rho", "0.6",
            "--mmc-arrivals", "1500",
            "--mmc-warmup", "100",
            # The M/M/c assertion needs every arrival even on a loaded box.
            "--max-seconds", "600",
        ]
    )  # fmt: skip
    day = result["office_day"]
    assert day["tickets"] > 10
    assert day["served"] == day["tickets"]  # the office serves everyone left
    assert sum(s["tickets"] for s in day["per_service"].values()) == day["tickets"]
    assert day["no_estimate"] == 0  # every counter is open
    assert day["old_formula_differs"] >= 0  # the forecast prints, the old formula is re-scored
    est = day["estimate"]
    assert est["mae_minutes"] >= 0 and 0 <= est["under_share"] <= 1
    assert day["p90_actual_wait_minutes"] >= 0
    assert set(day["safety_sd_sweep"]) == {"0.0", "0.5", "1.0"}
    # A larger safety margin never lowers an estimate.
    sweep = [day["safety_sd_sweep"][k] for k in ("0.0", "0.5", "1.0")]
    assert sweep[0]["under_share"] >= sweep[1]["under_share"] >= sweep[2]["under_share"]
    assert (
        sweep[0]["mean_estimate_minutes"]
        <= sweep[1]["mean_estimate_minutes"]
        <= sweep[2]["mean_estimate_minutes"]
    )

    for tenant in result["parameters"]["tenants"]:
        assert _keys_left(redis_url, tenant) == 0

    mmc = result["mmc"]
    assert result["stopped_by_time_cap"] is False
    assert mmc["parameters"]["arrivals_run"] == 1500
    assert mmc["measured_tickets"] == 1400
    assert mmc["wq_erlang_c_minutes"] > 0
    # Seed 1 is deterministic (the engine's FIFO order fixes which service
    # time goes to whom) and gives -7 %; over seeds 1-4 this size gave
    # -25 %..+18 %. 30 % passes a correct engine, while a service rate 10 %
    # off moves Erlang C's W_q by +51 % (slower) or -32 % (faster).
    assert abs(mmc["wq_rel_error"]) <= 0.30, mmc
    assert abs(mmc["p_wait_sim"] - mmc["p_wait_erlang_c"]) <= 0.06, mmc
