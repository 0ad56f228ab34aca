"""Tiny runs of the HTTP and websocket benchmarks (bench/http_tickets.py,
bench/fanout.py) against the test Redis: they start a real `madoguchi serve`
process, so this checks the harness end to end and that every count adds
up. Not a timed test: no latency or throughput is asserted."""

from __future__ import annotations

import json

import pytest
import redis

from bench import fanout, http_tickets

LATENCY_KEYS = {"n", "p50_ms", "p95_ms", "p99_ms", "mean_ms", "min_ms", "max_ms"}


def _tenant_keys(redis_url: str, tenant: str) -> list[bytes]:
    client = redis.Redis.from_url(redis_url)
    try:
        return list(client.scan_iter(match=f"mg:{{{tenant}*", count=1000))
    finally:
        client.close()


def test_http_tickets_tiny_run(redis_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    result = http_tickets.main(
        ["--redis-url", redis_url, "--requests", "200", "--concurrency", "4",
         "--processes", "2", "--warmup", "8", "--duration", "60"]
    )
    assert json.loads(capsys.readouterr().out) == result  # one JSON object on stdout

    assert result["benchmark"] == "http_tickets"
    assert result["parameters"]["concurrency"] == 4
    assert result["completed"] == result["succeeded"] == 200
    assert result["errors_by_status"] == {}
    assert result["latency"].keys() == LATENCY_KEYS
    assert result["latency"]["n"] == 200
    lat = result["latency"]
    assert 0 < lat["min_ms"] <= lat["p50_ms"] <= lat["p95_ms"] <= lat["p99_ms"] <= lat["max_ms"]
    assert result["rps"] > 0
    # Two load generator processes, their latencies merged.
    assert result["parameters"]["client_processes"] == 2
    assert result["cpu"]["server_s"] >= 0 and len(result["cpu"]["clients_s"]) == 2
    assert result["server"]["log_level"] == "WARNING"
    assert result["server"]["tenant"].startswith("bench")
    assert _tenant_keys(redis_url, result["server"]["tenant"]) == []


def test_http_tickets_open_loop(redis_url: str) -> None:
    result = http_tickets.run(redis_url=redis_url, requests=40, concurrency=2, rate=200.0,
                              warmup=2)
    assert result["parameters"]["rate"] == 200.0
    assert result["completed"] == result["succeeded"] == 40
    # Latency counts from the due time, service time from sending: never less.
    assert result["service_time"]["n"] == 40
    assert result["latency"]["max_ms"] >= result["service_time"]["max_ms"]


@pytest.mark.parametrize(("client", "compress"), [("raw", True), ("aiohttp", False)])
def test_fanout_tiny_run(redis_url: str, client: str, compress: bool) -> None:
    clients, calls = 20, 5
    result = fanout.run(redis_url=redis_url, clients=clients, processes=2, calls=calls,
                        client=client, compress=compress)

    assert result["benchmark"] == "fanout"
    assert result["parameters"]["client"] == client
    assert result["connected"] == result["hellos"] == clients
    # Offered as browsers do, the server may take it; not offered, never used.
    assert result["sockets_with_permessage_deflate"] in ((0, clients) if compress else (0,))
    assert result["connect_errors"] == 0
    assert result["calls_made"] == result["calls_seen_by_every_client"] == calls
    assert result["deliveries"] == result["deliveries_expected"] == clients * calls
    assert result["missed_deliveries"] == 0
    per_call = result["called_latency_per_call_max_over_clients_from_response"]
    assert per_call.keys() == LATENCY_KEYS and per_call["n"] == calls
    assert result["called_latency_all_deliveries_from_response"]["n"] == clients * calls
    assert result["called_latency_all_deliveries_from_request"]["min_ms"] > 0
    assert result["issued_latency_per_call_max_over_clients_from_response"]["n"] == calls
    memory = result["memory"]
    assert memory["server_rss_kb_all_connected"] > 0
    assert isinstance(memory["rss_kb_per_connection"], float)
    assert _tenant_keys(redis_url, result["server"]["tenant"]) == []
