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
