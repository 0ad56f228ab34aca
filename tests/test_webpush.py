"""Web Push for the ticket page (displays/webpush.py, displays/push_worker.py):
VAPID keys, subscriptions, and delivery to a local fake push service that
verifies the VAPID signature and decrypts the payload (tests/fake_push.py).
Real Redis, the real app in-process; no sleeps: tests wait on the fake
service's messages or on the workers' acknowledged entries."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid import Vapid02
from redis.asyncio import Redis

from displays.push_worker import GROUP, PushWorker
from displays.ticket_pages import PUSH
from displays.webpush import (
    MAX_PER_TICKET,
    PUSH_TTL_SECONDS,
    PushSubscription,
    Subscriptions,
    b64url,
    push_key,
    text,
    vapid_key,
)
from queue_server.engine import Engine
from queue_server.events import last_id
from tests.conftest import small_office
from tests.fake_push import FakePushService, b64url_decode
from tests.servers import AppHarness, app_harness, free_port
from tests.test_openapi import app_operations, doc_operations


@pytest.fixture
def allow_local_push(monkeypatch: pytest.MonkeyPatch) -> None:
    """Subscriptions may name the fake push service on 127.0.0.1 (http)."""
    monkeypatch.setenv("MADOGUCHI_PUSH_HOSTS", "127.0.0.1")


@pytest.fixture
async def site(redis: Redis, tenant: str, allow_local_push: None) -> AsyncIterator[AppHarness]:
    async with app_harness(redis, tenant, small_office()) as harness:
        yield harness


@pytest.fixture
async def push_service() -> AsyncIterator[FakePushService]:
    async with FakePushService() as service:
        yield service


def worker(site: AppHarness) -> PushWorker:
    return site.app[PUSH].worker


async def handled(sites: list[AppHarness], *event_ids: str, within: float = 10.0) -> None:
    """Returns once the push workers of `sites` have acknowledged every one of
    `event_ids` (woken by each worker's progress flag, not by polling)."""
    workers = [worker(s) for s in sites]
    wanted = set(event_ids)
    async with asyncio.timeout(within):
        while not wanted <= {e for w in workers for e in w.handled}:
            waits = [asyncio.create_task(w.progress.wait()) for w in workers]
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in waits:
                    task.cancel()
            for w in workers:
                w.progress.clear()


async def subscribe(site: AppHarness, ticket_id: str, body: dict[str, Any],
                    expect: int = 201) -> Any:
    return await site.ok("POST", f"/api/v1/tickets/{ticket_id}/push-subscription", expect,
                         json_body=body)


# --- VAPID keys ---------------------------------------------------------------------


async def test_vapid_key_pair_is_made_once_and_shared_by_processes(
        redis: Redis, tenant: str) -> None:
    async with app_harness(redis, tenant, small_office()) as a, \
            app_harness(redis, tenant) as b:
        key_a = (await a.ok("GET", "/api/v1/push/vapid-public-key"))["public_key"]
        key_b = (await b.ok("GET", "/api/v1/push/vapid-public-key"))["public_key"]
        assert key_a == key_b
        point = b64url_decode(key_a)
        assert len(point) == 65 and point[0] == 4
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        stored = json.loads(await redis.get(vapid_key(tenant)))
        # The public key is derived from the kept private key; the private
        # key is in Redis only, never in a reply.
        signer = Vapid02.from_raw(stored["private"].encode())
        assert b64url(signer.public_key.public_bytes(
            Encoding.X962, PublicFormat.UncompressedPoint)) == key_a
        _, body = await a.request("GET", "/api/v1/push/vapid-public-key")
        assert stored["private"] not in json.dumps(body)
    # A restart keeps the pair (it is in Redis, not in the process).
    await redis.set(vapid_key(tenant), json.dumps(stored))
    async with app_harness(redis, tenant) as c:
        assert (await c.ok("GET", "/api/v1/push/vapid-public-key"))["public_key"] == key_a


# --- subscriptions ------------------------------------------------------------------


async def test_subscription_is_validated_strictly(site: AppHarness,
                                                  push_service: FakePushService) -> None:
    ticket = await site.issue()
    good = push_service.subscriber().json()
    fcm = {**good, "endpoint": "https://fcm.googleapis.com/fcm/send/" + "a" * 40}
    bad_point = b64url(b"\x04" + b"\x01" * 64)  # 65 bytes, but not on the curve
    bad_bodies: list[Any] = [
        {**good, "endpoint": "http://fcm.googleapis.com/fcm/send/abc"},   # not https
        {**good, "endpoint": "https://push.example.org/abc"},            # not a push service
        {**good, "endpoint": "https://user:pw@fcm.googleapis.com/x"},    # credentials
        {**good, "endpoint": "ftp://fcm.googleapis.com/x"},
        {**good, "endpoint": "https://fcm.googleapis.com/" + "a" * 2000},
        {**good, "endpoint": "https://fcm.googleapis.com/a b"},
        {**good, "keys": {**good["keys"], "p256dh": bad_point}},
        {**good, "keys": {**good["keys"], "p256dh": good["keys"]["p256dh"][:60]}},
        {**good, "keys": {**good["keys"], "auth": b64url(b"x" * 15)}},
        {**good, "keys": {"p256dh": good["keys"]["p256dh"]}},
        {**good, "lang": "fr"},
        {**good, "extra": 1},
        {"endpoint": good["endpoint"]},
        {**good, "endpoint": 42},
    ]
    for body in bad_bodies:
        status, reply = await site.request(
            "POST", f"/api/v1/tickets/{ticket['id']}/push-subscription", json_body=body)
        assert status == 422, (body, status, reply)
        # An unknown language is named as such (the supported ones listed).
        expected = "unsupported_language" if body.get("lang") == "fr" else "validation_failed"
        assert reply["error"]["code"] == expected, (body, reply)
    status, reply = await site.request(
        "POST", f"/api/v1/tickets/{ticket['id']}/push-subscription", data=b"{not json",
        headers={"Content-Type": "application/json"})
    assert status == 400 and reply["error"]["code"] == "invalid_json"

    await subscribe(site, ticket["id"], good)
    await subscribe(site, ticket["id"], fcm)  # the real services' https endpoints pass
    # Unknown (well-formed or not) tickets: 404 JSON.
    for tid in (f"{site.office}.{'A' * 22}", f"nosuchoffice.{'A' * 22}", "garbage"):
        status, reply = await site.request(
            "POST", f"/api/v1/tickets/{tid}/push-subscription", json_body=good)
        assert status == 404 and reply["error"]["code"] == "unknown_ticket", (tid, reply)


async def test_a_few_subscriptions_per_ticket_expiring_with_it(
        site: AppHarness, push_service: FakePushService, redis: Redis) -> None:
    ticket = await site.issue()
    subs = [push_service.subscriber() for _ in range(MAX_PER_TICKET + 1)]
    for sub in subs:
        await subscribe(site, ticket["id"], sub.json())
    await subscribe(site, ticket["id"], subs[-1].json("en"))  # the same endpoint again
    key = push_key(site.tenant, ticket["id"])
    assert key.startswith(f"mg:{{{site.tenant}:{site.office}}}:push:")  # the office's slot
    stored = [json.loads(v)["endpoint"] for v in (await redis.hgetall(key)).values()]
    assert sorted(stored) == sorted(s.endpoint for s in subs[1:])  # the oldest went
    ttl = await redis.ttl(key)
    assert 0 < ttl <= 2 * 24 * 3600

    # Ended tickets take no subscriptions.
    await site.act("1", "open")
    await site.act("1", "call-next")
    await site.act("1", "finish")
    status, reply = await site.request(
        "POST", f"/api/v1/tickets/{ticket['id']}/push-subscription",
        json_body=push_service.subscriber().json())
    assert status == 409 and reply["error"]["code"] == "already_finished"


# --- delivery ------------------------------------------------------------------------


async def test_call_and_recall_reach_the_push_service_signed_and_encrypted(
        site: AppHarness, push_service: FakePushService) -> None:
    ticket = await site.issue(lang="en")
    sub = push_service.subscriber()
    await subscribe(site, ticket["id"], sub.json("en"))
    public_key = (await site.ok("GET", "/api/v1/push/vapid-public-key"))["public_key"]
    await site.act("1", "open")

    called = await site.act("1", "call-next")
    assert called["id"] == ticket["id"]
    [first] = await push_service.wait_for(1)
    assert first.problems == []
    assert first.token == sub.token
    assert first.vapid_key == public_key  # signed with the server's key pair
    assert first.headers["TTL"] == str(PUSH_TTL_SECONDS)
    assert first.headers["Urgency"] == "high"
    number = ticket["number"]
    assert first.payload == {
        "v": 1, "kind": "called", "number": number, "counter": "Counter 1", "lang": "en",
        "title": text("en", "push.title_called", number=number),
        "body": text("en", "push.body", counter="Counter 1"),
        "path": f"/t/{ticket['id']}",
    }
    assert first.payload["title"] == f"{number}: it is your turn"
    assert b"Counter 1" not in first.body  # encrypted on the wire

    recalled = await site.act("1", "recall")
    received = await push_service.wait_for(2)
    assert received[1].problems == []
    assert received[1].payload is not None and received[1].payload["kind"] == "recalled"
    await handled([site], recalled["last_event"])
    assert worker(site).delivered == 2


async def test_each_call_is_pushed_once_with_two_server_processes(
        redis: Redis, tenant: str, allow_local_push: None,
        push_service: FakePushService) -> None:
    async with app_harness(redis, tenant, small_office()) as a, \
            app_harness(redis, tenant) as b:
        assert worker(a).consumer != worker(b).consumer
        stream = a.engine.keys(a.office).events
        before = await last_id(redis, stream)  # the group starts after the configuration
        subs = {}
        for n in range(4):
            ticket = await a.issue()
            sub = push_service.subscriber()
            await subscribe(a if n % 2 else b, ticket["id"], sub.json("ja"))
            subs[ticket["id"]] = sub
        for counter in ("1", "2"):
            await b.act(counter, "open")
        calls = []
        for n in range(4):
            calls.append(await (a if n % 2 else b).act("1" if n % 2 else "2", "call-next"))
        every = [e[0].decode() for e in await redis.xrange(stream, f"({before}", "+")]
        await handled([a, b], *every)  # every entry of the stream, whichever worker took it

        taken = [e for s in (a, b) for e in worker(s).handled]
        assert sorted(taken) == sorted(set(taken)), "an entry was handled twice"
        assert len(push_service.received) == 4
        assert {r.token for r in push_service.received} == {s.token for s in subs.values()}
        for call in calls:
            [message] = push_service.for_token(subs[call["id"]].token)
            assert message.problems == []
            assert message.payload is not None and message.payload["number"] == call["number"]
        pending = await redis.xpending(stream, GROUP)
        assert pending["pending"] == 0


async def test_gone_subscriptions_are_deleted_and_the_others_still_served(
        site: AppHarness, push_service: FakePushService, redis: Redis) -> None:
    ticket = await site.issue()
    gone, alive = push_service.subscriber(), push_service.subscriber()
    push_service.status[gone.token] = 410
    await subscribe(site, ticket["id"], gone.json())
    await subscribe(site, ticket["id"], alive.json())
    await site.act("1", "open")
    called = await site.act("1", "call-next")
    await handled([site], called["last_event"])
    assert len(push_service.for_token(alive.token)) == 1
    assert len(push_service.for_token(gone.token)) == 1
    stored = [json.loads(v)["endpoint"] for v in
              (await redis.hgetall(push_key(site.tenant, ticket["id"]))).values()]
    assert stored == [alive.endpoint]


async def test_subscriptions_go_when_the_ticket_ends(
        site: AppHarness, push_service: FakePushService, redis: Redis) -> None:
    ticket = await site.issue()
    await subscribe(site, ticket["id"], push_service.subscriber().json())
    await site.act("1", "open")
    await site.act("1", "call-next")
    done = await site.act("1", "finish")
    await handled([site], done["last_event"])
    assert not await redis.exists(push_key(site.tenant, ticket["id"]))


async def test_failures_are_logged_without_the_endpoint(
        site: AppHarness, push_service: FakePushService,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    first, second = await site.issue(), await site.issue()
    refused = push_service.subscriber()
    # Nobody listens on this port: the connection is refused.
    refused.endpoint = f"http://127.0.0.1:{free_port()}/push/{refused.token}"
    failing = push_service.subscriber()
    push_service.status[failing.token] = 500
    await subscribe(site, first["id"], refused.json())
    await subscribe(site, second["id"], failing.json())
    await site.act("1", "open")
    await site.act("2", "open")
    a = await site.act("1", "call-next")
    b = await site.act("2", "call-next")
    await handled([site], a["last_event"], b["last_event"])
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("displays")]
    assert any("push not delivered" in m for m in messages), messages
    assert any("answered 500" in m for m in messages), messages
    # The server's own records (the test servers' access logs are not the app's).
    everything = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records
                           if r.name.startswith(("displays", "madoguchi", "queue_server")))
    for secret in (refused.token, failing.token, first["id"], second["id"]):
        assert secret not in everything


async def test_the_worker_stops_promptly_and_leaves_the_group(
        redis: Redis, tenant: str, allow_local_push: None) -> None:
    async with app_harness(redis, tenant, small_office()) as site:
        consumer = worker(site).consumer
        stream = site.engine.keys(site.office).events
        ticket = await site.issue()
        await handled([site], ticket["last_event"])
        names = [c["name"].decode() for c in await redis.xinfo_consumers(stream, GROUP)]
        assert consumer in names
        # Shut the app down (the harness's own exit would also delete the keys).
        started = time.monotonic()
        await site.client.close()
        assert time.monotonic() - started < 1.5  # not the 2 s of a blocked read
        names = [c["name"].decode() for c in await redis.xinfo_consumers(stream, GROUP)]
        assert consumer not in names


async def test_push_operations_are_in_the_openapi_document(site: AppHarness) -> None:
    doc = await site.ok("GET", "/api/v1/openapi.json")
    assert "get" in doc["paths"]["/api/v1/push/vapid-public-key"]
    op = doc["paths"]["/api/v1/tickets/{ticket_id}/push-subscription"]["post"]
    assert op["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/PushSubscription")
    assert {"PushSubscription", "PushKeys"} <= set(doc["components"]["schemas"])
    assert "get" in doc["paths"]["/api/v1/offices/{office}/counters"]
    missing = app_operations(site.app) - doc_operations(doc)
    assert not missing, missing


async def test_a_call_left_unacknowledged_by_a_dead_process_is_pushed_by_another(
        redis: Redis, tenant: str, allow_local_push: None, push_service: FakePushService,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A process took the call from the group and died before acknowledging
    # it: made here by hand, before any app runs.
    engine = Engine(redis, tenant)
    office = small_office()
    await engine.configure(office)
    stream = engine.keys(office.id).events
    await redis.xgroup_create(stream, GROUP, id="$", mkstream=True)
    ticket = await engine.issue_ticket(office.id, "shomei")
    sub = push_service.subscriber()
    await Subscriptions(redis, tenant).add(ticket["id"],
                                           PushSubscription.model_validate(sub.json()))
    await engine.set_counter_state(office.id, "1", "open")
    called = await engine.call_next(office.id, "1")
    assert called is not None
    taken = await redis.xreadgroup(GROUP, "dead-process", {stream: ">"})
    assert [e[0].decode() for e in taken[0][1]][-1] == called["last_event"]

    # Any idle time counts as dead here (a minute in production).
    monkeypatch.setattr("displays.push_worker.CLAIM_IDLE_MS", 0)
    async with app_harness(redis, tenant) as site:
        [message] = await push_service.wait_for(1)
        assert message.token == sub.token and message.problems == []
        assert message.payload is not None and message.payload["number"] == called["number"]
        await handled([site], called["last_event"])
        assert (await redis.xpending(stream, GROUP))["pending"] == 0
