from queue_server.engine import Engine


async def test_issue_call_finish_roundtrip(engine: Engine) -> None:
    ticket = await engine.issue_ticket("testoffice", "shomei")
    assert ticket["number"] == "A-001"
    await engine.set_counter_state("testoffice", "1", "open")
    called = await engine.call_next("testoffice", "1")
    assert called is not None and called["id"] == ticket["id"]
    assert called["state"] == "called"
    done = await engine.finish("testoffice", "1")
    assert done["state"] == "done"


async def test_tickets_left_from_yesterday_are_not_called_next_morning(
    engine: Engine, clock
) -> None:
    old = await engine.issue_ticket("testoffice", "shomei")
    clock.advance(24 * 3600)
    fresh = await engine.issue_ticket("testoffice", "shomei")
    await engine.set_counter_state("testoffice", "1", "open")
    called = await engine.call_next("testoffice", "1")
    assert called is not None and called["id"] == fresh["id"]
    assert fresh["number"] == "A-001"  # numbering restarted on the new day
    stale = await engine.ticket(old["id"])
    assert stale["state"] == "cancelled"
