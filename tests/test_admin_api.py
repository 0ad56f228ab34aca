"""The administration API against real Redis: who may read and write which
office, whole-configuration validation that saves nothing half, export and
import (JSON and YAML, to another office id), version conflicts, device
tokens, the audit log, and config.changed reaching the displays."""

from __future__ import annotations

import json
import re
import string
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
import yaml
from argon2 import PasswordHasher
from multidict import CIMultiDict
from redis.asyncio import Redis

from queue_server import audit
from queue_server.api_admin import load_yaml
from queue_server.auth import Tokens
from queue_server.errors import MadoguchiError
from queue_server.office_config import SMS_PLACEHOLDERS, Office
from queue_server.sessions import LOGIN, Sessions
from queue_server.sms_outbox import KINDS, catalog, languages, render
from queue_server.users import Users
from tests.conftest import small_office
from tests.servers import AppHarness, app_harness, bearer, receive_json

A = "testoffice"
B = "otheroffice"
PASSWORD = "sakura kawa yama 2026"
CHEAP = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


@dataclass
class Person:
    """A logged-in person: the session cookie and the page's CSRF token."""

    site: AppHarness
    name: str
    cookie: str
    csrf: str

    def headers(self, csrf: bool = True) -> dict[str, str]:
        h = {"Cookie": f"mg_session={self.cookie}"}
        if csrf:
            h["X-CSRF-Token"] = self.csrf
        return h

    async def call(self, method: str, path: str, *, json_body: Any = None,
                   text: str | None = None, content_type: str = "application/json",
                   headers: dict[str, str] | None = None, csrf: bool = True,
                   raw: bool = False) -> tuple[int, Any, CIMultiDict[str]]:
        """(status, JSON body or text (`raw`: always the text), headers)."""
        h = {**self.headers(csrf), **(headers or {})}
        kwargs: dict[str, Any] = {"headers": h}
        if json_body is not None:
            kwargs["data"] = json.dumps(json_body, ensure_ascii=False).encode()
            h["Content-Type"] = "application/json"
        elif text is not None:
            kwargs["data"] = text.encode()
            h["Content-Type"] = content_type
        async with self.site.client.request(method, path, **kwargs) as resp:
            data = await resp.read()
            body: Any = data.decode()
            if resp.content_type == "application/json" and data and not raw:
                body = json.loads(data)
            return resp.status, body, resp.headers.copy()

    async def ok(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        status, body, _ = await self.call(method, path, **kwargs)
        assert status == expect, (method, path, status, body)
        return body


@dataclass
class Site:
    harness: AppHarness
    admin: Person
    manager_a: Person
    manager_b: Person
    staff_a: Person


async def person(site: AppHarness, name: str, role: str, offices: list[str]) -> Person:
    await Users(site.redis, site.tenant, hasher=CHEAP).create(
        name, PASSWORD, role, offices, display_name=f"{name} さん")
    cookie, session = await Sessions(site.redis, site.tenant).create(name)
    return Person(site, name, cookie, session.csrf)


@pytest.fixture
async def site(redis: Redis, tenant: str) -> AsyncIterator[Site]:
    async with app_harness(redis, tenant, small_office(A)) as harness:
        harness.app[LOGIN].users.hasher = CHEAP  # type: ignore[union-attr]
        await harness.engine.configure(small_office(B))
        yield Site(
            harness,
            await person(harness, "admin1", "admin", []),
            await person(harness, "manager-a", "manager", [A]),
            await person(harness, "manager-b", "manager", [B]),
            await person(harness, "clerk-a", "staff", [A]),
        )


def config_path(office: str, rest: str = "") -> str:
    return f"/api/v1/admin/offices/{office}/config{rest}"


async def office_keys(redis: Redis, tenant: str, office: str) -> dict[bytes, Any]:
    """Every key of the office with its full content (and the tenant's audit
    stream and office registry): a refused change must leave all of it."""
    out: dict[bytes, Any] = {}
    pattern = f"mg:{{{tenant}:{office}}}:*"
    keys = [k async for k in redis.scan_iter(match=pattern, count=1000)]
    keys += [audit.audit_key(tenant).encode(), f"mg:{{{tenant}}}:offices".encode()]
    for key in keys:
        kind = (await redis.type(key)).decode()
        if kind == "hash":
            value: Any = await redis.hgetall(key)
        elif kind == "zset":
            value = await redis.zrange(key, 0, -1, withscores=True)
        elif kind == "set":
            value = sorted(await redis.smembers(key))
        elif kind == "list":
            value = await redis.lrange(key, 0, -1)
        elif kind == "string":
            value = await redis.get(key)
        elif kind == "stream":
            value = (await redis.xlen(key), await redis.xrevrange(key, count=1))
        elif kind == "none":
            value = None
        else:  # pragma: no cover - a new key type would need handling here
            raise AssertionError(f"unexpected key type {kind} for {key!r}")
        out[key] = (kind, value)
    assert len(out) > 5, "found no office keys: the pattern is wrong"
    return out


async def loaded(who: Person, office: str) -> tuple[dict[str, Any], int]:
    body = await who.ok("GET", config_path(office))
    return body["config"], body["version"]


async def audit_entries(who: Person, query: str = "") -> list[dict[str, Any]]:
    body = await who.ok("GET", f"/api/v1/admin/audit{query}")
    entries: list[dict[str, Any]] = body["entries"]
    return entries


# --- who may do what

async def test_managers_reach_only_their_offices_and_staff_none(site: Site) -> None:
    h = site.harness
    # Nobody logged in, no token.
    for path in ("/api/v1/admin/offices", config_path(A), "/api/v1/admin/tokens",
                 "/api/v1/admin/audit"):
        assert (await h.request("GET", path))[0] == 401
    # A manager: their office, not the other.
    body = await site.manager_a.ok("GET", "/api/v1/admin/offices")
    assert [o["id"] for o in body["offices"]] == [A] and body["may_create"] is False
    config, version = await loaded(site.manager_a, A)
    assert config["id"] == A and version >= 1
    for method, path in (("GET", config_path(B)), ("PUT", config_path(B)),
                         ("POST", config_path(B, "/diff")),
                         ("GET", config_path(B, "?format=yaml")),
                         ("GET", f"/api/v1/admin/audit?office={B}")):
        status, err, _ = await site.manager_a.call(method, path, json_body={**config, "id": B})
        assert status == 403 and err["error"]["code"] == "forbidden", (method, path, err)
    # Only an admin creates offices (POST, or a PUT to a new id).
    new = {**config, "id": "newoffice"}
    assert (await site.manager_a.call("POST", "/api/v1/admin/offices", json_body=new))[0] == 403
    status, err, _ = await site.manager_a.call("PUT", config_path("newoffice"), json_body=new)
    assert status == 403, err
    # Counter staff and devices may not administer at all.
    for method in ("GET", "PUT"):
        status, err, _ = await site.staff_a.call(method, config_path(A), json_body=config)
        assert status == 403 and err["error"]["code"] == "forbidden"
    assert (await site.staff_a.call("GET", "/api/v1/admin/offices"))[0] == 403
    assert (await site.staff_a.call("GET", "/api/v1/admin/tokens"))[0] == 403
    for role in ("kiosk", "display", "staff"):
        status, _ = await h.request("GET", config_path(A), role=role)
        assert status == 403, role
    # A write with the cookie but without the page's CSRF token is refused.
    status, err, _ = await site.manager_a.call("PUT", config_path(A), json_body=config,
                                               csrf=False)
    assert status == 403 and err["error"]["code"] == "csrf_failed"
    # An admin sees every office, and so does an admin token.
    body = await site.admin.ok("GET", "/api/v1/admin/offices")
    assert {o["id"] for o in body["offices"]} == {A, B} and body["may_create"] is True
    await site.admin.ok("GET", config_path(B))
    admin_token, _ = await Tokens(h.redis, h.tenant).create("admin", "*")
    status, _ = await h.request("GET", config_path(B), headers=bearer(admin_token))
    assert status == 200
    # An admin token of one office is that office's only.
    status, _ = await h.request("GET", config_path(B), role="admin")
    assert status == 403


async def test_admin_creates_an_office(site: Site) -> None:
    h = site.harness
    doc = json.loads(small_office("kokurakita").model_dump_json(by_alias=True,
                                                                exclude_none=True))
    doc["names"] = {"ja": "小倉北区役所", "en": "Kokurakita Ward Office"}
    created = await site.admin.ok("POST", "/api/v1/admin/offices", 201, json_body=doc)
    assert created["office"] == "kokurakita" and created["created"] is True
    offices = await h.ok("GET", "/api/v1/offices")
    assert "小倉北区役所" in [o["names"]["ja"] for o in offices["offices"]]
    services = await h.ok("GET", "/api/v1/offices/kokurakita/services")
    assert [s["id"] for s in services["services"]] == ["shomei", "ido", "okuyami"]
    # Once only.
    status, err, _ = await site.admin.call("POST", "/api/v1/admin/offices", json_body=doc)
    assert status == 409 and err["error"]["code"] == "office_exists"
    # As a copy under another id (?id=), from YAML.
    text = yaml.safe_dump(doc, allow_unicode=True)
    created = await site.admin.ok("POST", "/api/v1/admin/offices?id=yahatahigashi", 201,
                                  text=text, content_type="application/yaml")
    assert created["office"] == "yahatahigashi"
    entries = await audit_entries(site.admin)
    assert [(e["action"], e["office"]) for e in entries[:2]] == [
        ("office.create", "yahatahigashi"), ("office.create", "kokurakita")]
    assert entries[0]["copied_from"] == "kokurakita" and entries[0]["user"] == "admin1"
    assert entries[1]["services"] == 3 and entries[1]["counters"] == 5


# --- validation: everything at its field, nothing saved half

def broken(config: dict[str, Any]) -> dict[str, Any]:
    doc = json.loads(json.dumps(config))
    doc["names"]["ja"] = ""
    doc["services"][0]["expected_minutes"] = 0
    doc["services"][0]["names"]["en"] = "Certificates"  # a valid change alongside
    doc["services"][1]["letter"] = "A"  # the letter of services[0]
    doc["counters"][1]["services"] = ["shomei", "nosuchservice"]
    doc["hours"]["weekly"]["1"] = {"open": "17:00", "close": "08:30"}
    doc["booking"]["reminder_time"] = "25:00"
    doc["sms_texts"] = {"en": {"near": "Number {number} is near: {linkk}"}}
    return doc


async def test_invalid_configuration_is_refused_per_field_and_changes_nothing(
    site: Site,
) -> None:
    h = site.harness
    config, version = await loaded(site.manager_a, A)
    before = await office_keys(h.redis, h.tenant, A)
    status, err, _ = await site.manager_a.call(
        "PUT", config_path(A), json_body=broken(config), headers={"If-Match": f'"{version}"'})
    assert status == 422, err
    assert err["error"]["code"] == "validation_failed"
    problems = {p["field"]: p for p in err["error"]["details"]["problems"]}
    expected = {
        "names.ja": "string_too_short",
        "services.0.expected_minutes": "greater_than",
        "services.1.letter": "duplicate_letter",
        "counters.1.services.1": "unknown_service",
        "hours.weekly.1": "close_before_open",
        "booking.reminder_time": "time_format",
        "sms_texts.en.near": "sms_unknown_placeholder",
    }
    assert {f: p["type"] for f, p in problems.items()} == expected, problems
    assert problems["services.0.expected_minutes"]["ctx"] == {"gt": 0}
    assert problems["sms_texts.en.near"]["ctx"]["placeholder"] == "linkk"
    assert all(p["problem"] for p in problems.values())
    assert await office_keys(h.redis, h.tenant, A) == before

    # The same as YAML; and the import preview refuses it the same way.
    text = yaml.safe_dump(broken(config), allow_unicode=True)
    status, err, _ = await site.manager_a.call("PUT", config_path(A), text=text,
                                               content_type="application/yaml")
    assert status == 422 and len(err["error"]["details"]["problems"]) == len(expected)
    status, err, _ = await site.manager_a.call("POST", config_path(A, "/diff"), text=text,
                                               content_type="application/yaml")
    assert status == 422
    # Bad documents of every kind: 4xx, never a 500, nothing stored.
    zone = {**config, "timezone": "Mars/Olympus"}
    status, err, _ = await site.manager_a.call("PUT", config_path(A), json_body=zone)
    assert status == 422 and err["error"]["details"]["problems"][0]["field"] == "timezone"
    extra = {**config, "colour": "blue"}
    status, err, _ = await site.manager_a.call("PUT", config_path(A), json_body=extra)
    assert status == 422
    assert err["error"]["details"]["problems"][0] == {
        "field": "colour", "problem": "Extra inputs are not permitted",
        "type": "extra_forbidden"}
    for text_, kind, code in (("{", "application/json", "invalid_json"),
                              ("[1, 2]", "application/json", "validation_failed"),
                              ("a: [", "application/yaml", "invalid_yaml"),
                              ("a: &x [1]\nb: *x\n", "application/yaml", "invalid_yaml"),
                              ("id: x", "text/plain", "unsupported_media_type")):
        status, err, _ = await site.manager_a.call("PUT", config_path(A), text=text_,
                                                   content_type=kind)
        assert 400 <= status < 500 and err["error"]["code"] == code, (text_, status, err)
    assert await office_keys(h.redis, h.tenant, A) == before


async def test_a_valid_save_changes_the_office_in_one_step(site: Site) -> None:
    h = site.harness
    config, version = await loaded(site.manager_a, A)
    config["services"][0]["names"]["ja"] = "証明書"
    config["services"][0]["expected_minutes"] = 7
    config["sms_texts"] = {"en": {"near": "Nearly your turn ({number}): {link}"}}
    body = await site.manager_a.ok("PUT", config_path(A), json_body=config,
                                   headers={"If-Match": f'"{version}"'})
    assert body == {"office": A, "version": version + 1, "changes": 3, "created": False,
                    "warnings": []}
    services = await h.ok("GET", h.path("/services"))
    assert services["services"][0]["names"]["ja"] == "証明書"
    assert services["services"][0]["expected_minutes"] == 7
    office = Office.model_validate_json(await h.redis.get(h.engine.keys(A).config))
    assert office.sms_template("near", "en") == "Nearly your turn ({number}): {link}"
    assert office.sms_template("near", "ja") is None


async def test_a_booking_capacity_the_counters_cannot_keep_is_saved_with_a_warning(
    site: Site,
) -> None:
    config, version = await loaded(site.manager_a, A)
    okuyami = next(i for i, sv in enumerate(config["services"]) if sv["id"] == "okuyami")
    config["services"][okuyami].update(bookable=True, slot_minutes=60, slot_capacity=2)
    expected = {
        "type": "booking_capacity", "field": f"services.{okuyami}.slot_capacity",
        "service": "okuyami", "service_name": "okuyami", "slot_minutes": 60, "capacity": 2,
        "expected_minutes": 60, "booked_minutes": 120, "counters": 1, "counter_minutes": 60,
        "walk_in_minutes": 0, "available_minutes": 60}
    # The import preview says it before anything is stored, also for a new office.
    preview = await site.manager_a.ok("POST", config_path(A, "/diff"), json_body=config)
    assert preview["warnings"] == [expected]
    preview = await site.admin.ok("POST", config_path("newoffice", "/diff"), json_body=config)
    assert preview["exists"] is False and preview["warnings"] == [expected]
    body = await site.manager_a.ok("PUT", config_path(A), json_body=config,
                                   headers={"If-Match": f'"{version}"'})
    assert body["version"] == version + 1 and body["warnings"] == [expected]  # saved, warned
    again = await site.manager_a.ok("GET", config_path(A))
    assert again["warnings"] == [expected]


async def test_walk_in_statistics_count_against_the_bookable_minutes(site: Site) -> None:
    h = site.harness
    config, version = await loaded(site.manager_a, A)
    okuyami = next(i for i, sv in enumerate(config["services"]) if sv["id"] == "okuyami")
    config["services"][okuyami].update(bookable=True, walk_in=True, slot_minutes=60,
                                       slot_capacity=1)
    body = await site.manager_a.ok("PUT", config_path(A), json_body=config,
                                   headers={"If-Match": f'"{version}"'})
    assert body["warnings"] == []  # one 60-minute booking an hour fits its one counter
    await h.engine.issue_ticket(A, "okuyami")  # a walk-in this hour: the statistics see it
    [warning] = (await site.manager_a.ok("GET", config_path(A)))["warnings"]
    assert (warning["service"], warning["walk_in_minutes"], warning["available_minutes"]) == (
        "okuyami", 60, 0)


# --- export and import

async def test_yaml_export_imports_as_a_new_office_with_the_new_id(site: Site) -> None:
    status, text, headers = await site.admin.call("GET", config_path(A, "?format=yaml"))
    assert status == 200 and headers["Content-Type"].startswith("application/yaml")
    config, version = await loaded(site.admin, A)
    assert headers["ETag"] == f'"{version}"'
    assert f'filename="madoguchi-{A}-v{version}.yaml"' in headers["Content-Disposition"]
    assert "24:00" in text and load_yaml(text) == config  # times stay text (YAML 1.1: 1440)
    created = await site.admin.ok("PUT", config_path("wakamatsu"), 201, text=text,
                                  content_type="application/yaml")
    assert created["created"] is True and created["office"] == "wakamatsu"
    copy, _ = await loaded(site.admin, "wakamatsu")
    assert copy == {**config, "id": "wakamatsu"}
    entry = (await audit_entries(site.admin))[0]
    assert entry["action"] == "office.create" and entry["imported_from"] == A


async def test_json_export_imports_over_another_office(site: Site) -> None:
    """Copying one ward office's set-up onto another existing one: the
    manager of both does it; the id stays the target's."""
    both = await person(site.harness, "manager-ab", "manager", [A, B])
    config_a, _ = await loaded(both, A)
    config_a["services"][0]["names"]["ja"] = "証明書（写し元）"
    await both.ok("PUT", config_path(A), json_body=config_a)
    status, text, headers = await both.call("GET", config_path(A, "?format=json"), raw=True)
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    exported = json.loads(text)
    preview = await both.ok("POST", config_path(B, "/diff"), text=text)
    assert preview["imported_from"] == A and preview["exists"] is True
    assert {"path": "services[shomei].names.ja", "old": "shomei",
            "new": "証明書（写し元）"} in preview["changes"]
    _, version_b = await loaded(both, B)
    done = await both.ok("PUT", config_path(B), text=text,
                         headers={"If-Match": f'"{version_b}"'})
    assert done["version"] == version_b + 1 and done["changes"] == len(preview["changes"])
    config_b, _ = await loaded(both, B)
    assert config_b == {**exported, "id": B}
    entry = (await audit_entries(both, f"?office={B}"))[0]
    assert entry["action"] == "config.import" and entry["imported_from"] == A
    assert entry["user"] == "manager-ab"


async def test_a_save_over_someone_elses_change_is_refused(site: Site) -> None:
    h = site.harness
    config, version = await loaded(site.manager_a, A)
    theirs = json.loads(json.dumps(config))
    theirs["services"][0]["expected_minutes"] = 9
    mine = json.loads(json.dumps(config))
    mine["services"][1]["expected_minutes"] = 25
    await site.admin.ok("PUT", config_path(A), json_body=theirs,
                        headers={"If-Match": f'"{version}"'})
    before = await office_keys(h.redis, h.tenant, A)
    for headers, query in (({"If-Match": f'"{version}"'}, ""), ({}, f"?version={version}")):
        status, err, _ = await site.manager_a.call("PUT", config_path(A, query),
                                                   json_body=mine, headers=headers)
        assert status == 409 and err["error"]["code"] == "config_conflict", err
        assert err["error"]["details"] == {"current_version": version + 1,
                                           "sent_version": version}
    assert await office_keys(h.redis, h.tenant, A) == before
    # Saving what is already there changes nothing (no new version, no entry).
    again = await site.admin.ok("PUT", config_path(A), json_body=theirs)
    assert again == {"office": A, "version": version + 1, "changes": 0, "created": False,
                     "warnings": []}
    assert await office_keys(h.redis, h.tenant, A) == before


# --- live

async def test_an_open_display_socket_receives_config_changed(site: Site) -> None:
    h = site.harness
    config, version = await loaded(site.manager_a, A)
    async with h.client.ws_connect(f"/ws/offices/{A}/display") as ws:
        hello = await receive_json(ws)
        assert hello["type"] == "hello"
        config["display"]["theme"] = "light"
        await site.manager_a.ok("PUT", config_path(A), json_body=config)
        event = await receive_json(ws)
    assert event["type"] == "config.changed" and event["office"] == A
    assert event["version"] == version + 1


# --- device tokens

async def test_device_tokens_are_created_listed_and_revoked(site: Site) -> None:
    h = site.harness
    created = await site.manager_a.ok("POST", "/api/v1/admin/tokens", 201, json_body={
        "role": "kiosk", "office": A, "label": "1F 入口の発券機"})
    token, token_id = created["token"], created["id"]
    assert token.startswith("mg_") and len(token_id) == 16
    # The token works for what a kiosk does.
    status, _ = await h.request("POST", h.path("/tickets"), json_body={"service": "shomei"},
                                headers=bearer(token))
    assert status == 201
    # Listed to its office's manager (never the secret); not to the other office's.
    listed = (await site.manager_a.ok("GET", "/api/v1/admin/tokens"))["tokens"]
    mine = [t for t in listed if t["id"] == token_id]
    assert mine and mine[0]["label"] == "1F 入口の発券機" and "token" not in mine[0]
    assert all(t["office"] == A for t in listed)
    assert token_id not in {t["id"] for t in
                            (await site.manager_b.ok("GET", "/api/v1/admin/tokens"))["tokens"]}
    assert token_id in {t["id"] for t in
                        (await site.admin.ok("GET", "/api/v1/admin/tokens"))["tokens"]}
    # What a manager may not issue or revoke.
    for body, code in (({"role": "admin", "office": A}, "forbidden"),
                       ({"role": "kiosk", "office": "*"}, "forbidden"),
                       ({"role": "kiosk", "office": B}, "forbidden"),
                       ({"role": "printer", "office": A}, "validation_failed")):
        status, err, _ = await site.manager_a.call("POST", "/api/v1/admin/tokens",
                                                   json_body=body)
        assert err["error"]["code"] == code, (body, status, err)
    status, err, _ = await site.staff_a.call("POST", "/api/v1/admin/tokens",
                                             json_body={"role": "kiosk", "office": A})
    assert status == 403
    status, err, _ = await site.manager_b.call("DELETE", f"/api/v1/admin/tokens/{token_id}")
    assert status == 404 and err["error"]["code"] == "unknown_token"
    # Revoked: refused at once.
    await site.manager_a.ok("DELETE", f"/api/v1/admin/tokens/{token_id}")
    status, err = await h.request("POST", h.path("/tickets"), json_body={"service": "shomei"},
                                  headers=bearer(token))
    assert status == 401 and err["error"]["code"] == "unauthorized"
    status, err, _ = await site.manager_a.call("DELETE", f"/api/v1/admin/tokens/{token_id}")
    assert status == 404
    # The audit log says who made and revoked it, never the secret.
    entries = await audit_entries(site.manager_a)
    assert [(e["action"], e["token"]["id"], e["user"]) for e in entries[:2]] == [
        ("token.revoke", token_id, "manager-a"), ("token.create", token_id, "manager-a")]
    raw = [fields for _, fields in await h.redis.xrange(audit.audit_key(h.tenant))]
    assert raw and all(token.encode() not in v and token[3:].encode() not in v
                       for f in raw for v in f.values())
    # An admin may issue an all-office admin token.
    created = await site.admin.ok("POST", "/api/v1/admin/tokens", 201,
                                  json_body={"role": "admin", "office": "*", "label": "CLI"})
    assert created["office"] == "*"
    assert created["id"] not in {
        t["id"] for t in (await site.manager_a.ok("GET", "/api/v1/admin/tokens"))["tokens"]}


# --- the audit log

async def test_audit_records_who_what_and_when(site: Site) -> None:
    h = site.harness
    config, version = await loaded(site.manager_a, A)
    config["services"][0]["names"]["ja"] = "証明書"
    config["services"][0]["expected_minutes"] = 7
    config["counters"].append({"id": "6", "names": {"ja": "6番窓口"},
                               "services": ["ido", "shomei"]})
    config["counters"][1]["services"] = ["ido", "shomei"]  # reordered
    await site.manager_a.ok("PUT", config_path(A), json_body=config,
                            headers={"If-Match": f'"{version}"'})
    entry = (await audit_entries(site.manager_a, f"?office={A}&limit=1"))[0]
    assert entry["action"] == "config.update" and entry["office"] == A
    assert (entry["user"], entry["name"], entry["role"], entry["via"]) == (
        "manager-a", "manager-a さん", "manager", "session")
    assert entry["version"] == version + 1
    when = datetime.fromisoformat(entry["at"])
    assert when.utcoffset() is not None and abs(when.timestamp() - h.engine.clock()) < 60
    assert entry["changes"] == [
        {"path": "services[shomei].names.ja", "old": "shomei", "new": "証明書"},
        {"path": "services[shomei].expected_minutes", "old": 5.0, "new": 7.0},
        {"path": "counters[2].services", "old": ["shomei", "ido"], "new": ["ido", "shomei"]},
        {"path": "counters[6]", "old": None,
         "new": {"id": "6", "names": {"ja": "6番窓口"}, "services": ["ido", "shomei"],
                 "order": "priority"}},
    ]
    # Each manager reads their offices' entries; an admin reads all.
    other, _ = await loaded(site.manager_b, B)
    other["queue"]["max_recalls"] = 3
    await site.manager_b.ok("PUT", config_path(B), json_body=other)
    assert {e["office"] for e in await audit_entries(site.manager_a)} == {A}
    assert {e["office"] for e in await audit_entries(site.manager_b)} == {B}
    assert {e["office"] for e in await audit_entries(site.admin)} == {A, B}
    page = await site.admin.ok("GET", "/api/v1/admin/audit?limit=1")
    older = await site.admin.ok("GET", f"/api/v1/admin/audit?limit=1&before="
                                       f"{page['next_before']}")
    assert page["entries"][0]["office"] == B and older["entries"][0]["office"] == A
    for query in ("?limit=x", "?before=nope"):
        assert (await site.admin.call("GET", f"/api/v1/admin/audit{query}"))[0] == 400
    # No passwords or session secrets anywhere in the log.
    raw = json.dumps([e for e in await audit_entries(site.admin)], ensure_ascii=False)
    assert PASSWORD not in raw and site.manager_a.cookie not in raw
    assert site.manager_a.csrf not in raw


async def test_accounts_list_is_for_admins(site: Site) -> None:
    users = (await site.admin.ok("GET", "/api/v1/admin/users"))["users"]
    assert {u["name"] for u in users} == {"admin1", "manager-a", "manager-b", "clerk-a"}
    assert all(set(u) == {"name", "display_name", "role", "offices", "disabled", "log_id"}
               for u in users)
    assert (await site.manager_a.call("GET", "/api/v1/admin/users"))[0] == 403


# --- pieces

def test_diff_names_changes_by_id_and_order() -> None:
    old = {"services": [{"id": "a", "n": 1}, {"id": "b", "n": 2}], "x": [1, 2], "y": "t"}
    new = {"services": [{"id": "b", "n": 3}, {"id": "c", "n": 4}], "x": [2, 1],
           "z": "x" * 400}
    changes = audit.diff(old, new)
    assert changes[:4] == [
        {"path": "services[a]", "old": {"id": "a", "n": 1}, "new": None},
        {"path": "services[b].n", "old": 2, "new": 3},
        {"path": "services[c]", "old": None, "new": {"id": "c", "n": 4}},
        {"path": "x", "old": [1, 2], "new": [2, 1]},
    ]
    assert changes[4] == {"path": "y", "old": "t", "new": None}
    assert changes[5]["path"] == "z" and len(changes[5]["new"]) == audit.MAX_TEXT + 1
    reordered = audit.diff({"s": [{"id": "a"}, {"id": "b"}]}, {"s": [{"id": "b"}, {"id": "a"}]})
    assert reordered == [{"path": "s[order]", "old": ["a", "b"], "new": ["b", "a"]}]


def test_sms_placeholders_are_the_ones_senders_fill() -> None:
    """Every placeholder the catalogs use is allowed in an office's own text
    (and nothing the senders never fill is)."""
    assert set(SMS_PLACEHOLDERS) <= set(KINDS)
    for lang in languages():
        for kind, allowed in SMS_PLACEHOLDERS.items():
            used = {n for _, n, _, _ in string.Formatter().parse(catalog(lang)[kind]) if n}
            assert used <= set(allowed), (lang, kind, used)
    office = small_office().model_dump(by_alias=True, exclude_none=True)
    office["sms_texts"] = {"ko": {"come_now": "{number} {service} {ahead} {link} {office}"}}
    text = Office.model_validate(office).sms_template("come_now", "ko")
    assert text is not None
    assert render("come_now", "ko", {"number": "A-1"}) != text  # the lead wires render()
    for bad, kind in (("{", "sms_braces"), ("}", "sms_braces"), ("{0}", "sms_unknown_placeholder"),
                      ("{slot}", "sms_unknown_placeholder"),
                      ("{number!r}", "sms_unknown_placeholder"),
                      ("{number:>5}", "sms_unknown_placeholder")):
        office["sms_texts"] = {"ko": {"come_now": bad}}
        with pytest.raises(ValueError) as refused:
            Office.model_validate(office)
        assert refused.value.errors()[0]["type"] == kind, bad  # type: ignore[attr-defined]


def test_yaml_loader_keeps_clerks_times_as_text() -> None:
    assert load_yaml("open: 08:30\nclose: 17:00\nn: 10\nm: 7.5\n") == {
        "open": "08:30", "close": "17:00", "n": 10, "m": 7.5}
    with pytest.raises(MadoguchiError):
        load_yaml("a: !!python/object:os.system x")


async def test_the_admin_operations_are_in_the_openapi_document(site: Site) -> None:
    doc = await site.harness.ok("GET", "/api/v1/openapi.json")
    ops = {(path, method) for path, item in doc["paths"].items() for method in item}
    for route in site.harness.app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if path.startswith("/api/v1/admin/") and route.method not in ("HEAD", "OPTIONS"):
            assert (path, route.method.lower()) in ops, path
    for path, item in doc["paths"].items():
        if path.startswith("/api/v1/admin/"):
            for op in item.values():
                in_path = {p["name"] for p in op["parameters"] if p["in"] == "path"}
                assert in_path == set(re.findall(r"\{(\w+)\}", path)), path
    put = doc["paths"]["/api/v1/admin/offices/{office}/config"]["put"]
    assert put["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/Office")
