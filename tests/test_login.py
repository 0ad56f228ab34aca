"""Logging in over HTTP against the real app and Redis: the cookie and its
attributes, CSRF on cookie requests, offices a session may act in (the
counter API), logout and password change ending sessions server-side,
open redirects refused, lock-out, and the session endpoint.

Requests go through a client without a cookie jar: each test says which
cookie it sends, so "the old cookie no longer works" is really tested."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any

import aiohttp
import pytest
from argon2 import PasswordHasher
from redis.asyncio import Redis

from queue_server.sessions import COOKIE, LOGIN, SECURE_COOKIE, session_key
from queue_server.settings import Settings
from queue_server.users import Users
from tests.conftest import ManualClock, small_office
from tests.servers import AppHarness, app_harness, bearer

GOOD = "sakura kawa yama 2026"
NEW = "fune ni notte umi e"
OTHER_OFFICE = "otheroffice"
CALL = "/api/v1/offices/{office}/counters/{counter}/call-next"
CHEAP = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


@dataclass
class Reply:
    status: int
    body: Any
    headers: Any
    cookies: SimpleCookie

    @property
    def location(self) -> str:
        return str(self.headers.get("Location", ""))


@dataclass
class Login:
    cookie: str
    csrf: str
    name: str = COOKIE

    def header(self) -> dict[str, str]:
        return {"Cookie": f"{self.name}={self.cookie}"}

    def with_csrf(self, token: str | None = None) -> dict[str, str]:
        return {**self.header(), "X-CSRF-Token": self.csrf if token is None else token}


class Site:
    """The app, spoken to without a cookie jar."""

    def __init__(self, harness: AppHarness, http: aiohttp.ClientSession) -> None:
        self.harness = harness
        self.http = http
        self.users = Users(harness.redis, harness.tenant, hasher=CHEAP)

    def url(self, path: str) -> str:
        return str(self.harness.client.make_url(path))

    async def send(self, method: str, path: str, *, headers: dict[str, str] | None = None,
                   data: Any = None, json_body: Any = None) -> Reply:
        async with self.http.request(method, self.url(path), headers=headers or {}, data=data,
                                     json=json_body, allow_redirects=False) as resp:
            raw = await resp.read()
            cookies: SimpleCookie = SimpleCookie()
            for value in resp.headers.getall("Set-Cookie", []):
                cookies.load(value)
            body = json.loads(raw) if raw and resp.content_type == "application/json" else raw
            return Reply(resp.status, body, resp.headers, cookies)

    async def login(self, name: str, password: str = GOOD, *, next_: str | None = None,
                    headers: dict[str, str] | None = None) -> Reply:
        form = {"name": name, "password": password}
        if next_ is not None:
            form["next"] = next_
        return await self.send("POST", "/login", data=form,
                               headers={"Accept": "application/json", **(headers or {})})

    async def logged_in(self, name: str, password: str = GOOD) -> Login:
        reply = await self.login(name, password)
        assert reply.status == 200, reply.body
        cookie_name = next(iter(reply.cookies))
        return Login(reply.cookies[cookie_name].value, reply.body["csrf"], cookie_name)

    async def call_next(self, office: str, counter: str, headers: dict[str, str]) -> Reply:
        return await self.send("POST", CALL.format(office=office, counter=counter),
                               headers=headers)


def assert_error(reply: Reply, status: int, code: str) -> None:
    assert reply.status == status, (reply.status, reply.body)
    assert isinstance(reply.body, dict) and set(reply.body) == {"error"}, reply.body
    assert reply.body["error"]["code"] == code, reply.body
    assert reply.body["error"]["message"], reply.body


@pytest.fixture
async def site(redis: Redis, tenant: str, clock: ManualClock) -> AsyncIterator[Site]:
    """Two offices (testoffice and otheroffice), every counter open, and
    one account per role."""
    async with app_harness(redis, tenant, small_office(), clock=clock) as harness:
        await harness.engine.configure(small_office(OTHER_OFFICE))
        for office in (harness.office, OTHER_OFFICE):
            for counter in ("1", "2"):
                await harness.engine.set_counter_state(office, counter, "open")
        # Cheap argon2 parameters (the same code; milliseconds, not 0.1 s
        # and 64 MiB a hash on a shared CI machine): the app's store too, so
        # logins do not rehash. test_users checks the real defaults.
        harness.app[LOGIN].users.hasher = CHEAP  # type: ignore[union-attr]
        users = Users(redis, tenant, hasher=CHEAP)
        await users.create("clerk", GOOD, "staff", [harness.office], display_name="窓口 花子")
        await users.create("boss", GOOD, "manager", [OTHER_OFFICE])
        await users.create("root", GOOD, "admin")
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
            yield Site(harness, http)


# --- logging in: the cookie

async def test_login_sets_a_strict_httponly_session_cookie(site: Site, redis: Redis,
                                                           tenant: str) -> None:
    reply = await site.login("clerk")
    assert reply.status == 200, reply.body
    assert reply.body["next"] == "/staff"
    assert reply.body["user"] == {"name": "clerk", "display_name": "窓口 花子", "role": "staff",
                                  "offices": ["testoffice"]}
    assert reply.headers["Cache-Control"] == "no-store"
    morsel = reply.cookies[COOKIE]
    assert morsel["httponly"] is True and morsel["samesite"] == "Strict"
    assert morsel["path"] == "/" and not morsel["secure"] and not morsel["domain"]
    assert not morsel["max-age"] and not morsel["expires"]  # gone when the browser closes
    assert len(morsel.value) == 43
    # Redis keeps the session under the cookie's SHA-256, never the cookie.
    digest = hashlib.sha256(morsel.value.encode()).hexdigest()
    assert await redis.exists(session_key(tenant, digest))
    assert not [k async for k in redis.scan_iter(f"*{morsel.value}*")]

    session = await site.send("GET", "/api/v1/session",
                              headers={"Cookie": f"{COOKIE}={morsel.value}"})
    assert session.status == 200, session.body
    assert session.body["user"]["name"] == "clerk" and session.body["csrf"] == reply.body["csrf"]
    assert session.body["expires"]["idle_at"].startswith("2026-11-27T22:00")  # 10:00 + 12 h
    assert session.headers["Cache-Control"] == "no-store"


async def test_secure_host_cookie_behind_https(redis: Redis, tenant: str) -> None:
    settings = Settings(tenant=tenant, public_base_url="https://madoguchi.city.example.jp")
    async with app_harness(redis, tenant, small_office(), settings=settings) as harness:
        harness.app[LOGIN].users.hasher = CHEAP  # type: ignore[union-attr]
        await Users(redis, tenant, hasher=CHEAP).create("clerk", GOOD, "staff", [harness.office])
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
            site = Site(harness, http)
            reply = await site.login(
                "clerk", headers={"Origin": "https://madoguchi.city.example.jp"})
            assert reply.status == 200, reply.body
            assert COOKIE not in reply.cookies
            morsel = reply.cookies[SECURE_COOKIE]
            assert morsel["secure"] is True and morsel["httponly"] is True
            assert morsel["samesite"] == "Strict" and morsel["path"] == "/"
            # Login CSRF: a form on another site may not log the browser in.
            assert_error(await site.login("clerk", headers={"Origin": "https://evil.example"}),
                         403, "csrf_failed")
            # The cookie under the plain name is not the session cookie here.
            session = await site.send("GET", "/api/v1/session", headers={
                "Cookie": f"{COOKIE}={morsel.value}"})
            assert_error(session, 401, "session_expired")
            logout = await site.send("POST", "/logout", headers={
                "Cookie": f"{SECURE_COOKIE}={morsel.value}", "Accept": "application/json",
                "X-CSRF-Token": reply.body["csrf"]})
            assert logout.status == 200
            cleared = logout.cookies[SECURE_COOKIE]
            assert cleared.value == "" and cleared["max-age"] == "0" and cleared["secure"]


@pytest.mark.parametrize(("asked", "goes_to"), [
    (None, "/staff"),
    ("/account/password", "/account/password"),
    ("/staff?office=testoffice&counter=3#queue", "/staff?office=testoffice&counter=3#queue"),
    ("https://evil.example/staff", "/staff"),
    ("//evil.example/staff", "/staff"),
    ("/\\evil.example", "/staff"),
    ("/\t/evil.example", "/staff"),
    ("javascript:alert(1)", "/staff"),
    ("staff", "/staff"),
    ("/login", "/staff"),
    ("/" + "a" * 3000, "/staff"),
])
async def test_form_login_redirects_only_to_local_paths(site: Site, asked: str | None,
                                                        goes_to: str) -> None:
    form = {"name": "clerk", "password": GOOD, **({"next": asked} if asked is not None else {})}
    reply = await site.send("POST", "/login", data=form)  # a plain HTML form
    assert reply.status == 303, reply.body
    assert reply.location == goes_to
    assert COOKIE in reply.cookies
    as_json = await site.login("clerk", next_=asked)
    assert as_json.body["next"] == goes_to


async def test_form_login_errors_return_to_the_page(site: Site) -> None:
    reply = await site.send("POST", "/login", data={"name": "clerk", "password": "nope",
                                                    "next": "/account/password"})
    assert reply.status == 303 and not reply.cookies
    assert reply.location == "/login?error=login_failed&next=%2Faccount%2Fpassword"


async def test_wrong_and_unknown_get_the_same_answer(site: Site) -> None:
    wrong = await site.login("clerk", "not the password")
    unknown = await site.login("nobody", GOOD)
    assert_error(wrong, 401, "login_failed")
    assert wrong.body == unknown.body and not wrong.cookies and not unknown.cookies


async def test_lockout_says_until_when(site: Site, clock: ManualClock) -> None:
    for _ in range(4):
        assert_error(await site.login("clerk", "not the password"), 401, "login_failed")
    locked = await site.login("clerk", "not the password")
    assert_error(locked, 429, "login_locked")
    assert "locked until 10:15" in locked.body["error"]["message"]
    assert locked.body["error"]["details"]["until"] == "2026-11-27T10:15:00+09:00"
    assert_error(await site.login("clerk"), 429, "login_locked")  # even the right password
    form = await site.send("POST", "/login", data={"name": "clerk", "password": GOOD})
    assert form.status == 303 and "error=login_locked" in form.location
    assert "until=2026-11-27T10%3A15%3A00%2B09%3A00" in form.location
    clock.advance(15 * 60)
    assert (await site.login("clerk")).status == 200


async def test_disabled_account(site: Site) -> None:
    login = await site.logged_in("clerk")
    await site.users.set_disabled("clerk", True)
    assert_error(await site.send("GET", "/api/v1/session", headers=login.header()), 401,
                 "session_expired")
    assert_error(await site.login("clerk"), 403, "account_disabled")


# --- CSRF and offices, on the existing counter API

async def test_cookie_requests_need_the_csrf_token(site: Site) -> None:
    login = await site.logged_in("clerk")
    office = site.harness.office
    for headers in (login.header(), login.with_csrf(""), login.with_csrf("x" * 43),
                    login.with_csrf(login.csrf[:-1])):
        reply = await site.call_next(office, "1", headers)
        assert_error(reply, 403, "csrf_failed")
    # Another site's page, even with a token it somehow had.
    evil = await site.call_next(office, "1", {**login.with_csrf(),
                                              "Origin": "https://evil.example"})
    assert_error(evil, 403, "csrf_failed")
    # An opaque origin (a sandboxed frame, a data: page) is not this site either.
    opaque = await site.call_next(office, "1", {**login.with_csrf(), "Origin": "null"})
    assert_error(opaque, 403, "csrf_failed")
    # This page: the token (and Origin of the server itself).
    same = await site.call_next(office, "1", {**login.with_csrf(),
                                              "Origin": site.url("/").rstrip("/")})
    assert same.status == 204, same.body  # nobody waits
    # Reads need no token.
    status = await site.send("GET", f"/api/v1/offices/{office}/bookings?date=2026-11-27",
                             headers=login.header())
    assert status.status == 200, status.body


async def test_bearer_tokens_need_no_csrf(site: Site) -> None:
    token = await site.harness.token("staff")
    reply = await site.call_next(site.harness.office, "1", bearer(token))
    assert reply.status == 204, reply.body
    # A bearer header wins over a cookie: the cookie's missing token is not asked for.
    login = await site.logged_in("clerk")
    both = await site.call_next(site.harness.office, "1", {**bearer(token), **login.header()})
    assert both.status == 204, both.body


async def test_a_session_acts_only_in_its_offices(site: Site) -> None:
    mine, other = site.harness.office, OTHER_OFFICE
    ticket = await site.harness.issue()  # one waits in testoffice
    clerk = await site.logged_in("clerk")
    called = await site.call_next(mine, "1", clerk.with_csrf())
    assert called.status == 200 and called.body["number"] == ticket["number"], called.body
    refused = await site.call_next(other, "1", clerk.with_csrf())
    assert_error(refused, 403, "forbidden")
    assert "another office" in refused.body["error"]["message"]
    for action in ("open", "pause", "close"):
        path = f"/api/v1/offices/{other}/counters/2/{action}"
        assert_error(await site.send("POST", path, headers=clerk.with_csrf()), 403, "forbidden")
    issued = await site.send("POST", f"/api/v1/offices/{other}/tickets",
                             headers=clerk.with_csrf(), json_body={"service": "shomei"})
    assert_error(issued, 403, "forbidden")
    own = await site.send("POST", f"/api/v1/offices/{mine}/tickets", headers=clerk.with_csrf(),
                          json_body={"service": "shomei"})
    assert own.status == 201 and own.body["channel"] == "staff", own.body
    # The other office's line is untouched.
    status = await site.send("GET", f"/api/v1/offices/{other}/status")
    assert all(c["ticket"] is None for c in status.body["counters"]), status.body

    manager = await site.logged_in("boss")  # manager of otheroffice only
    assert (await site.call_next(other, "1", manager.with_csrf())).status == 204
    assert_error(await site.call_next(mine, "2", manager.with_csrf()), 403, "forbidden")
    admin = await site.logged_in("root")
    assert (await site.call_next(mine, "2", admin.with_csrf())).status == 200  # the clerk's
    assert (await site.call_next(other, "2", admin.with_csrf())).status == 204


async def test_no_session(site: Site) -> None:
    office = site.harness.office
    assert_error(await site.call_next(office, "1", {}), 401, "unauthorized")
    stale = {"Cookie": f"{COOKIE}={'A' * 43}", "X-CSRF-Token": "whatever"}
    assert_error(await site.call_next(office, "1", stale), 401, "session_expired")
    assert_error(await site.send("GET", "/api/v1/session"), 401, "session_expired")
    assert_error(await site.send("GET", "/api/v1/session", headers=stale), 401,
                 "session_expired")


# --- ending sessions

async def test_logout_ends_the_session_on_the_server(site: Site) -> None:
    login = await site.logged_in("clerk")
    refused = await site.send("POST", "/logout", headers=login.header())
    assert_error(refused, 403, "csrf_failed")
    form = await site.send("POST", "/logout", headers=login.header(),
                           data={"csrf": login.csrf})  # the hidden form field
    assert form.status == 303 and form.location == "/login?bye=1"
    cleared = form.cookies[COOKIE]
    assert cleared.value == "" and cleared["max-age"] == "0" and cleared["path"] == "/"
    # The old cookie, replayed, is worth nothing.
    assert_error(await site.send("GET", "/api/v1/session", headers=login.header()), 401,
                 "session_expired")
    assert_error(await site.call_next(site.harness.office, "1", login.with_csrf()), 401,
                 "session_expired")
    again = await site.send("POST", "/logout", headers=login.header())
    assert again.status == 303  # nothing left to end: just the cookie cleared


async def test_idle_session_ends(site: Site, clock: ManualClock) -> None:
    login = await site.logged_in("clerk")
    clock.advance(11 * 3600)
    assert (await site.send("GET", "/api/v1/session", headers=login.header())).status == 200
    clock.advance(12 * 3600)
    assert_error(await site.send("GET", "/api/v1/session", headers=login.header()), 401,
                 "session_expired")


async def test_password_change_ends_the_other_sessions(site: Site) -> None:
    here = await site.logged_in("clerk")
    there = await site.logged_in("clerk")
    change = "/account/password"
    json_accept = {"Accept": "application/json"}
    no_token = await site.send("POST", change, headers={**here.header(), **json_accept},
                               data={"current": GOOD, "new": NEW, "confirm": NEW})
    assert_error(no_token, 403, "csrf_failed")
    for fields, status, code in (
        ({"current": GOOD, "new": NEW, "confirm": NEW + "x"}, 422, "password_mismatch"),
        ({"current": GOOD, "new": "short", "confirm": "short"}, 422, "weak_password"),
        ({"current": GOOD, "new": "clerk clerk clerk", "confirm": "clerk clerk clerk"}, 422,
         "weak_password"),
        ({"current": "not it at all", "new": NEW, "confirm": NEW}, 403, "wrong_password"),
        ({"current": GOOD, "new": GOOD, "confirm": GOOD}, 422, "weak_password"),
    ):
        reply = await site.send("POST", change, headers={**here.with_csrf(), **json_accept},
                                data=fields)
        assert_error(reply, status, code)
    short = await site.send("POST", change, headers={**here.with_csrf(), **json_accept},
                            data={"current": GOOD, "new": "short"})
    assert short.body["error"]["details"] == {"reason": "too_short", "min_length": 12}

    done = await site.send("POST", change, headers={**here.with_csrf(), **json_accept},
                           data={"current": GOOD, "new": NEW, "confirm": NEW})
    assert done.status == 200 and done.body == {"ok": True, "ended_sessions": 1}, done.body
    assert (await site.send("GET", "/api/v1/session", headers=here.header())).status == 200
    assert_error(await site.send("GET", "/api/v1/session", headers=there.header()), 401,
                 "session_expired")
    assert_error(await site.login("clerk", GOOD), 401, "login_failed")
    assert (await site.login("clerk", NEW)).status == 200

    # A plain form: redirects, and the hidden csrf field.
    form = await site.send("POST", change, headers=here.header(),
                           data={"current": NEW, "new": GOOD, "confirm": GOOD,
                                 "csrf": here.csrf})
    assert form.status == 303 and form.location == "/account/password?done=1"
    weak = await site.send("POST", change, headers=here.header(),
                           data={"current": GOOD, "new": "short", "csrf": here.csrf})
    assert weak.location == "/account/password?error=weak_password&reason=too_short"


async def test_wrong_current_passwords_count_towards_the_lockout(site: Site) -> None:
    login = await site.logged_in("clerk")
    headers = {**login.with_csrf(), "Accept": "application/json"}
    for _ in range(4):
        reply = await site.send("POST", "/account/password", headers=headers,
                                data={"current": "guess guess guess", "new": NEW})
        assert_error(reply, 403, "wrong_password")
    reply = await site.send("POST", "/account/password", headers=headers,
                            data={"current": "guess guess guess", "new": NEW})
    assert_error(reply, 429, "login_locked")


# --- pages and documents

async def test_pages_ask_for_a_login(site: Site) -> None:
    reply = await site.send("GET", "/account/password")
    assert reply.status == 303 and reply.location == "/login?next=%2Faccount%2Fpassword"
    page = await site.send("GET", "/login?next=/account/password")
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    # Not no-referrer: a browser would then send "Origin: null" with the
    # page's plain forms (logout), which the Origin check refuses.
    assert page.headers["Referrer-Policy"] == "same-origin"
    login = await site.logged_in("clerk")
    assert (await site.send("GET", "/account/password", headers=login.header())).status == 200
    back = await site.send("GET", "/login?next=/account/password", headers=login.header())
    assert back.status == 303 and back.location == "/account/password"
    for path in ("/static/queue/login/login.js", "/static/queue/login/session.js",
                 "/static/queue/i18n/login.ja.json"):
        assert (await site.send("GET", path)).status == 200, path
    assert (await site.send("GET", "/static/queue/../users.py")).status == 404


async def test_bad_login_bodies_are_4xx(site: Site) -> None:
    for kwargs in ({"data": b"\xff\xfe", "headers": {"Content-Type": "text/plain"}},
                   {"data": b"[1]", "headers": {"Content-Type": "application/json"}},
                   {"data": b"{", "headers": {"Content-Type": "application/json"}},
                   {"data": {"name": "x" * 5000, "password": "y"}}):
        reply = await site.send("POST", "/login", **kwargs)
        assert 400 <= reply.status < 500 and isinstance(reply.body, dict), reply
    as_json = await site.send("POST", "/login", json_body={"name": "clerk", "password": GOOD},
                              headers={"Accept": "application/json"})
    assert as_json.status == 200


async def test_session_endpoint_is_documented(site: Site) -> None:
    doc = await site.harness.ok("GET", "/api/v1/openapi.json")
    op = doc["paths"]["/api/v1/session"]["get"]
    assert op["summary"] and "200" in op["responses"] and "401" in op["responses"]


async def test_logs_never_hold_the_password(site: Site,
                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    await site.logged_in("clerk")
    await site.login("clerk", "wrong wrong wrong")
    text = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert GOOD not in text and "wrong wrong wrong" not in text
    clerk = await site.users.require("clerk")
    assert any(r.name == "madoguchi.login" and getattr(r, "user_id", None) == clerk.log_id
               for r in caplog.records)


async def test_logs_name_accounts_by_an_opaque_id(site: Site,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    """A login name is often the person's own name: the login, logout,
    failed-login, password and account lines carry the account's opaque id,
    which the account list shows to administrators."""
    name = "yamada.hanako"
    caplog.set_level(logging.DEBUG)
    user = await site.users.create(name, GOOD, "staff", [site.harness.office])
    await site.login(name, "wrong wrong wrong")
    login = await site.logged_in(name)
    other = await site.logged_in(name)
    changed = await site.send("POST", "/account/password",
                              headers={**login.with_csrf(), "Accept": "application/json"},
                              data={"current": GOOD, "new": NEW, "confirm": NEW})
    assert changed.status == 200, changed.body
    bye = await site.send("POST", "/logout", headers={**login.with_csrf(),
                                                      "Accept": "application/json"})
    assert bye.status == 200
    await site.users.set_disabled(name, True)
    await site.login(name, NEW)
    assert other.cookie
    records = [r for r in caplog.records if r.name == "madoguchi.login"]
    messages = {r.getMessage() for r in records}
    assert {"account created", "login failed", "login", "other sessions ended", "logout",
            "password changed", "account disabled", "login refused: account disabled"
            } <= messages, messages
    for record in caplog.records:
        text = f"{record.getMessage()} {record.__dict__}"
        assert name not in text and "yamada" not in text, text
    assert all(getattr(r, "user_id", None) == user.log_id for r in records), records
    assert user.log_id.startswith("u_")
    listed = await site.harness.ok("GET", "/api/v1/admin/users",
                                   headers=await site.harness.auth("admin", "*"))
    assert {u["name"]: u["log_id"] for u in listed["users"]}[name] == user.log_id
