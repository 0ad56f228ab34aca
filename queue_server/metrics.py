"""Prometheus metrics of one process."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Histogram(
            "madoguchi_http_request_duration_seconds",
            "HTTP request duration by route",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
        )
        self.tickets = Counter(
            "madoguchi_tickets_issued_total", "Tickets issued", ["office"],
            registry=self.registry,
        )
        self.calls = Counter(
            "madoguchi_calls_total", "Tickets called to a counter", ["office"],
            registry=self.registry,
        )
        self.websockets = Gauge(
            "madoguchi_websockets", "Open websockets", ["kind"], registry=self.registry
        )
