"""Can an office keep its bookings? (issue 11, "Bookings kept")

A service that books more work per slot than the counters serving it can do
leaves booked citizens waiting however well the queue is run. The check
warns (it never refuses: an office may accept it knowingly) and gives the
numbers: per slot, the booked minutes (capacity × expected minutes) against
the counter minutes of the counters serving the service, less the walk-in
work those counters must also do there — the walk-ins of every service a
counter takes before or alongside this one, from the statistics' busiest
hour, shared among the counters serving each of those services.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from .clock import zone
from .office_config import Office
from .stats import Visit


def walk_in_peak_per_hour(visits: Sequence[Visit], timezone: str) -> dict[str, float]:
    """Per service, walk-in arrivals in the busiest hour of the day, averaged
    over the days the statistics hold (bookings are not walk-ins)."""
    tz = zone(timezone)
    days: set[Any] = set()
    counts: dict[tuple[str, int], int] = defaultdict(int)
    for v in visits:
        days.add(v.day)
        if not v.booked:
            counts[(v.service, datetime.fromtimestamp(v.issued, tz).hour)] += 1
    peak: dict[str, float] = {}
    for (service, _hour), n in counts.items():
        peak[service] = max(peak.get(service, 0.0), n / len(days))
    return peak


def booking_capacity_warnings(office: Office,
                              walk_in_per_hour: Mapping[str, float] | None = None
                              ) -> list[dict[str, Any]]:
    """One warning per bookable service whose booked minutes per slot exceed
    what its counters have left for them. Each names the service and its
    field (as validation problems do) and carries every number the sentence
    needs: slot_minutes, capacity, expected_minutes, booked_minutes,
    counters, counter_minutes, walk_in_minutes, available_minutes."""
    rates = walk_in_per_hour or {}
    serving: dict[str, int] = defaultdict(int)
    for counter in office.counters:
        for sid in counter.services:
            serving[sid] += 1
    warnings = []
    for index, service in enumerate(office.services):
        if not service.bookable:
            continue
        slot = service.slot_minutes
        mine = [c for c in office.counters if service.id in c.services]
        # Walk-in work these counters do in one slot: services each counter
        # takes before this one (or this one itself), each service's work
        # shared evenly among all counters that serve it.
        walk_in = 0.0
        for counter in mine:
            rank = counter.services.index(service.id)
            for sid in counter.services[: rank + 1]:
                other = office.service(sid)
                if other is None or not other.walk_in or not serving[sid]:
                    continue
                minutes = rates.get(sid, 0.0) * slot / 60 * other.expected_minutes
                walk_in += minutes / serving[sid]
        counter_minutes = len(mine) * slot
        available = max(0, round(counter_minutes - walk_in))
        booked = service.slot_capacity * service.expected_minutes
        if booked > available:
            warnings.append({
                "type": "booking_capacity",
                "field": f"services.{index}.slot_capacity",
                "service": service.id,
                "service_name": service.names.ja,
                "slot_minutes": slot,
                "capacity": service.slot_capacity,
                "expected_minutes": service.expected_minutes,
                "booked_minutes": booked,
                "counters": len(mine),
                "counter_minutes": counter_minutes,
                "walk_in_minutes": round(walk_in),
                "available_minutes": available,
            })
    return warnings
