"""The staff console's counter board: the line in exactly the order
call-next takes it, with booking names for staff only."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from redis.asyncio import Redis

from queue_server.api_staff import counter_board
from queue_server.bookings import Bookings
from queue_server.engine import Engine
from tests.conftest import ManualClock, small_office
from tests.servers import AppHarness, app_harness

OFFICE = "testoffice"
JST = ZoneInfo("Asia/Tokyo")


async def test_board_order_is_call_next_order(redis: Redis, clean_tenant: str) -> None:
    clock = ManualClock()
    engine = Engine(redis, clean_tenant, clock=clock)
    await engine.configure(small_office())
    for cid in ("2", "3"):
        await engine.set_counter_state(OFFICE, cid, "open")
    # Counter 2 serves shomei first, then ido (priority order); shomei's max
    # wait is 20 minutes, ido's 30.
    old_ido = await engine.issue_ticket(OFFICE, "ido")
    clock.advance(60)
    for _ in range(3):
        await engine.issue_ticket(OFFICE, "shomei")
        clock.advance(60)
    await engine.issue_ticket(OFFICE, "shomei", priority=True)
    clock.advance(60)
    moved = await engine.issue_ticket(OFFICE, "ido")
    await engine.call_next(OFFICE, "3")  # counter 3 takes old ido first (its own order)
    await engine.transfer(OFFICE, "3", to_counter="2")  # … and hands it to counter 2
    clock.advance(25 * 60)  # shomei heads now past their max wait

    board = await counter_board(engine, OFFICE, "2")
    assert board["counter"]["state"] == "open" and board["current"] is None
    assert board["waiting_total"] == len(board["queue"]) == 6
    order = [t["id"] for t in board["queue"]]
    assert order[0] == old_ido["id"]  # transferred to this counter: first
    called = []
    for _ in order:
        t = await engine.call_next(OFFICE, "2")
        assert t is not None
        called.append(t["id"])
    assert called == order
    assert moved["id"] in order
    assert await engine.call_next(OFFICE, "2") is None  # the line is empty


async def test_board_shows_booking_names_to_staff_only(redis: Redis, tenant: str) -> None:
    from tests.test_bookings import booking_office

    clock = ManualClock()  # Friday 11/27: book Monday 9:00, then it is Monday 8:55
    async with app_harness(redis, tenant, booking_office(), clock=clock) as api:
        bookings = Bookings(Engine(redis, tenant, clock=clock), b"s")
        await bookings.book("bookoffice", "mynumber", datetime(2026, 11, 30, 9, tzinfo=JST),
                            "090-1234-5678", name="山田 花子")
        clock.now = datetime(2026, 11, 30, 8, 55, tzinfo=JST).timestamp()
        await api.ok("POST", "/api/v1/offices/bookoffice/counters/1/open", role="staff")
        await bookings.check_in("bookoffice", phone="090-1234-5678")
        path = "/api/v1/offices/bookoffice/counters/1/board"
        board = await api.ok("GET", path, role="staff")
        (waiting,) = board["queue"]
        assert waiting["booking"]["name"] == "山田 花子" and waiting["channel"] == "online"
        clock.now = datetime(2026, 11, 30, 9, tzinfo=JST).timestamp()  # early: waits for 9:00
        await api.act("1", "call-next")
        board = await api.ok("GET", path, role="staff")
        assert board["current"]["booking"]["name"] == "山田 花子" and board["queue"] == []
        # Public views never carry the name.
        status = await api.ok("GET", "/api/v1/offices/bookoffice/status")
        assert "山田" not in str(status)
        for role in (None, "kiosk", "display"):
            code, _ = await api.request("GET", path, role=role)
            assert code in (401, 403)
        code, err = await api.request("GET", "/api/v1/offices/bookoffice/counters/9/board",
                                      role="staff")
        assert (code, err["error"]["code"]) == (404, "unknown_counter")


async def test_card_prefill_reaches_the_clerk_and_ends_with_the_visit(api: AppHarness) -> None:
    await api.act("1", "open")
    ticket = await api.issue()
    person = {"name": "番号\u3000花子", "address": "北九州市小倉北区城内1-1",
              "birth_date": "1980-01-02", "sex": "2"}
    path = f"/api/v1/tickets/{ticket['id']}/prefill"
    for role, body, expected in (("display", person, 403), ("kiosk", {"name": ""}, 422),
                                 ("kiosk", {**person, "my_number": "123456789012"}, 422),
                                 (None, person, 401)):
        status, _ = await api.request("POST", path, role=role, json_body=body)
        assert status == expected, role
    events = await api.client.ws_connect(f"/ws/offices/{api.office}/display")
    assert (await events.receive_json())["type"] == "hello"
    status, _ = await api.request("POST", path, role="kiosk", json_body=person)
    assert status == 204
    await api.act("1", "call-next")
    board = await api.ok("GET", api.path("/counters/1/board"), role="staff")
    assert board["current"]["prefill"] == person
    called = await events.receive_json()
    assert "花子" not in str(called) and "城内" not in str(await api.status())
    await api.act("1", "finish")
    key = api.engine.keys(api.office).k(f"pf:{ticket['id']}")
    assert await api.redis.exists(key) == 0  # dropped at the end of the visit
    status, err = await api.request("POST", path, role="kiosk", json_body=person)
    assert (status, err["error"]["code"]) == (409, "already_finished")
    await events.close()


async def test_card_prefill_takes_birth_dates_without_month_or_day(api: AppHarness) -> None:
    # Some residence-card holders' My Number cards carry 00 for an unknown
    # month or day: the clerk gets what is known, the read is not wasted.
    await api.act("1", "open")
    ticket = await api.issue()
    path = f"/api/v1/tickets/{ticket['id']}/prefill"
    person = {"name": "SMITH JOHN", "address": "北九州市小倉北区城内1-1", "sex": "1"}
    for bad in ("1985-13", "1985-02-30", "85-03", "19851301", "1985/03/02", "1985-3"):
        status, err = await api.request("POST", path, role="kiosk",
                                        json_body={**person, "birth_date": bad})
        assert (status, err["error"]["code"]) == (422, "validation_failed"), bad
    await api.act("1", "call-next")
    for sent, kept in (("1985", "1985"), ("1985-03", "1985-03"), ("19850000", "1985"),
                       ("19850300", "1985-03"), ("19850015", "1985"),
                       ("19850302", "1985-03-02"), ("1985-03-02", "1985-03-02")):
        status, _ = await api.request("POST", path, role="kiosk",
                                      json_body={**person, "birth_date": sent})
        assert status == 204, sent
        board = await api.ok("GET", api.path("/counters/1/board"), role="staff")
        assert board["current"]["prefill"]["birth_date"] == kept, sent
