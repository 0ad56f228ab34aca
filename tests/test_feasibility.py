"""The booking feasibility check (queue_server/feasibility.py): on crafted
offices, with and without walk-in statistics; the demo offices pass it."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from queue_server.demo_data import demo_offices
from queue_server.feasibility import booking_capacity_warnings, walk_in_peak_per_hour
from queue_server.office_config import Office
from queue_server.stats import Visit

TZ = ZoneInfo("Asia/Tokyo")


def office(capacity: int, counters: list[list[str]], slot: int = 30) -> Office:
    svc = lambda sid, letter, minutes, **kw: {  # noqa: E731
        "id": sid, "names": {"ja": sid, "en": sid}, "letter": letter,
        "expected_minutes": minutes, **kw}
    return Office.model_validate({
        "id": "feas", "names": {"ja": "テスト", "en": "Test"},
        "services": [
            svc("shomei", "A", 6),
            svc("mynumber", "C", 15, bookable=True, slot_minutes=slot, slot_capacity=capacity),
        ],
        "counters": [{"id": str(i + 1), "names": {"ja": f"{i + 1}番", "en": f"{i + 1}"},
                      "services": s} for i, s in enumerate(counters)],
    })


def test_the_issue_case_three_times_fifteen_on_one_counter() -> None:
    warnings = booking_capacity_warnings(office(3, [["shomei"], ["mynumber", "shomei"]]))
    assert warnings == [{
        "type": "booking_capacity", "field": "services.1.slot_capacity",
        "service": "mynumber", "service_name": "mynumber", "slot_minutes": 30, "capacity": 3,
        "expected_minutes": 15, "booked_minutes": 45, "counters": 1, "counter_minutes": 30,
        "walk_in_minutes": 0, "available_minutes": 30}]


def test_two_counters_can_keep_it_and_exactly_full_is_no_warning() -> None:
    assert booking_capacity_warnings(office(3, [["mynumber"], ["mynumber", "shomei"]])) == []
    assert booking_capacity_warnings(office(2, [["mynumber", "shomei"]])) == []


def test_walk_in_demand_takes_its_share_of_the_counters() -> None:
    # Two counters serve mynumber: 60 counter-minutes per slot. 4 mynumber
    # walk-ins an hour (2 per slot × 15 = 30 min) on both counters, and 10
    # shomei walk-ins an hour taken first on counter 2 (5 per slot × 6 = 30 min,
    # shared with counter 1: 15 min here) leave 15 minutes for bookings.
    counters = [["shomei"], ["shomei", "mynumber"], ["mynumber"]]
    rates = {"mynumber": 4.0, "shomei": 10.0}
    [w] = booking_capacity_warnings(office(2, counters), rates)
    assert (w["counter_minutes"], w["walk_in_minutes"], w["available_minutes"]) == (60, 45, 15)
    assert (w["capacity"], w["booked_minutes"]) == (2, 30)
    # One booking of 15 minutes fits the 15 left exactly: no warning.
    assert booking_capacity_warnings(office(1, counters), rates) == []
    # Without statistics the same office can take 4 bookings per slot.
    assert booking_capacity_warnings(office(4, counters)) == []


def test_services_after_this_one_on_a_counter_do_not_count() -> None:
    # shomei comes after mynumber on its only counter: its walk-ins wait.
    o = office(2, [["mynumber", "shomei"]])
    assert booking_capacity_warnings(o, {"shomei": 30.0}) == []


def test_walk_in_peak_is_the_busiest_hour_averaged_over_days() -> None:
    def visit(d: date, hour: int, service: str, booked: bool = False) -> Visit:
        t = datetime(d.year, d.month, d.day, hour, 10, tzinfo=TZ).timestamp()
        fields: dict[str, Any] = {
            "day": d, "service": service, "final_service": service, "channel": "kiosk",
            "priority": False, "booked": booked, "issued": t, "due": t, "arrived": t,
            "called": None, "serving": None, "ended": None, "outcome": "waiting",
            "counter": "", "recalls": 0}
        return Visit(**fields)

    d1 = date(2020, 1, 6)
    d2 = d1 + timedelta(days=1)
    visits = [visit(d1, 9, "mynumber") for _ in range(4)] + [
        visit(d2, 9, "mynumber") for _ in range(2)] + [
        visit(d1, 10, "mynumber") for _ in range(5)] + [
        visit(d2, 10, "mynumber", booked=True) for _ in range(9)]
    assert walk_in_peak_per_hour(visits, "Asia/Tokyo") == {"mynumber": 3.0}


def test_the_demo_offices_can_keep_their_bookings() -> None:
    for o in demo_offices():
        assert booking_capacity_warnings(o) == [], o.id
