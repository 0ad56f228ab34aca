"""Staff accounts, passwords, the login throttle and server-side sessions
(queue_server.users, .sessions) against the real Redis, with a clock the
test moves (no sleeps); and the `madoguchi user` / `demo --login` commands."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from redis.asyncio import Redis

from queue_server.auth import ALL_OFFICES, session_principal
from queue_server.cli import DEMO_USER
from queue_server.cli import main as cli_main
from queue_server.engine import Engine
from queue_server.errors import MadoguchiError
from queue_server.sessions import IDLE_SECONDS, Sessions, session_key
from queue_server.users import LoginThrottle, Users, password_problem, user_key, users_index
from tests.conftest import ManualClock, small_office
from tests.servers import delete_tenant

GOOD = "sakura kawa yama 2026"
OTHER = "fune ni notte umi e"
IP = "192.0.2.10"


def cheap_hasher(time_cost: int = 1) -> PasswordHasher:
    """argon2id with small parameters: the same code path, milliseconds a hash."""
    return PasswordHasher(time_cost=time_cost, memory_cost=8 * 1024, parallelism=1)


class CountingHasher(PasswordHasher):
    """Records which hashes verify() was asked to check."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8 * 1024, parallelism=1)
        self.verified: list[str] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verified.append(hash if isinstance(hash, str) else hash.decode())
        return super().verify(hash, password)


@pytest.fixture
async def users(redis: Redis, tenant: str, clock: ManualClock) -> AsyncIterator[Users]:
    yield Users(redis, tenant, clock, hasher=cheap_hasher())
    await delete_tenant(redis, tenant)


async def raises(code: str, work: Any) -> MadoguchiError:
    with pytest.raises(MadoguchiError) as caught:
        await work
    assert caught.value.code == code, caught.value.body()
    return caught.value


# --- passwords and accounts

@pytest.mark.parametrize(("password", "reason"), [
    ("short pass", "too_short"),
    ("x" * 257, "too_long"),
    ("hanako.tanaka", "contains_name"),
    ("my name is HANAKO.TANAKA ok", "contains_name"),
    ("aaaaaaaaaaaaaaaa", "too_simple"),
    ("123456789012", "common"),
    ("zyxwvutsrqponm", "too_simple"),
    ("abababababab", "too_simple"),
    ("abcdefghijklmnop", "too_simple"),
    ("Password1234", "common"),
])
def test_password_rules_explain_the_problem(password: str, reason: str) -> None:
    problem = password_problem(password, "hanako.tanaka")
    assert problem is not None and problem[0] == reason
    assert problem[1].endswith(".") and len(problem[1]) > 20  # a sentence a person can act on


@pytest.mark.parametrize("password", [
    GOOD, "correct horse battery staple", "窓口で働く毎日はとても楽しい", "Kz8#pq2!Lm0w"])
def test_good_passwords_pass(password: str) -> None:
    assert password_problem(password, "hanako.tanaka") is None


def test_default_hasher_is_argon2id_with_rfc_9106_parameters() -> None:
    hasher = Users(Redis(), "t").hasher  # never connects
    assert hasher.type.name == "ID"
    assert hasher.memory_cost >= 64 * 1024 and hasher.time_cost >= 3
    assert hasher.parallelism >= 1 and hasher.salt_len >= 16


async def test_create_keeps_only_an_argon2_hash(users: Users, redis: Redis, tenant: str,
                                                clock: ManualClock) -> None:
    user = await users.create("Hanako.Tanaka", GOOD, "staff", ["testoffice", "testoffice"],
                              display_name="田中 花子")
    assert (user.name, user.role, user.offices, user.disabled) == (
        "hanako.tanaka", "staff", ("testoffice",), False)
    assert user.display_name == "田中 花子" and user.created == user.changed == clock.now
    assert "password_hash" not in repr(user) and GOOD not in repr(user)
    stored = await redis.hgetall(user_key(tenant, "hanako.tanaka"))
    assert stored[b"password"].startswith(b"$argon2id$")
    everything = [k async for k in redis.scan_iter(f"mg:{{{tenant}}}:*")]
    for key in everything:
        if await redis.type(key) == b"hash":
            assert all(GOOD.encode() not in v for v in (await redis.hgetall(key)).values())
    assert await redis.smembers(users_index(tenant)) == {b"hanako.tanaka"}
    assert user.public() == {"name": "hanako.tanaka", "display_name": "田中 花子",
                             "role": "staff", "offices": ["testoffice"]}

    await raises("user_exists", users.create("hanako.tanaka", OTHER, "staff", ["testoffice"]))
    await raises("invalid_login_name", users.create("no spaces", GOOD, "staff", ["x"]))
    await raises("invalid_login_name", users.create("-dash", GOOD, "staff", ["x"]))
    await raises("validation_failed", users.create("clerk", GOOD, "staff", []))
    await raises("validation_failed", users.create("clerk", GOOD, "staff", ["*"]))
    await raises("validation_failed", users.create("clerk", GOOD, "janitor", ["x"]))
    weak = await raises("weak_password", users.create("clerk", "short", "staff", ["x"]))
    assert weak.details == {"reason": "too_short", "min_length": 12}
    admin = await users.create("boss", GOOD, "admin", ["ignored"])
    assert admin.offices == (ALL_OFFICES,)
    assert [u.name for u in await users.list()] == ["boss", "hanako.tanaka"]


async def test_concurrent_creates_of_one_name_make_one_account(users: Users) -> None:
    results = await asyncio.gather(
        *(users.create("same", GOOD, "staff", [f"office{i}"]) for i in range(4)),
        return_exceptions=True)
    made = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, MadoguchiError)]
    assert len(made) == 1 and len(refused) == 3
    assert all(r.code == "user_exists" for r in refused)
    assert (await users.require("same")).offices == made[0].offices


async def test_login_right_wrong_and_unknown(users: Users) -> None:
    await users.create("clerk", GOOD, "staff", ["testoffice"])
    assert (await users.login("  CLERK ", GOOD, IP)).name == "clerk"  # names are case-blind
    wrong = await raises("login_failed", users.login("clerk", OTHER, IP))
    unknown = await raises("login_failed", users.login("nobody", GOOD, IP))
    assert wrong.message == unknown.message and wrong.status == unknown.status == 401


async def test_unknown_names_verify_a_hash_too(redis: Redis, tenant: str,
                                               clock: ManualClock) -> None:
    """The same work (one argon2 verify with the current parameters) for
    an unknown name as for a known one: the time tells nothing."""
    hasher = CountingHasher()
    users = Users(redis, tenant, clock, hasher=hasher)
    try:
        await users.create("clerk", GOOD, "staff", ["testoffice"])
        await raises("login_failed", users.login("clerk", OTHER, IP))
        await raises("login_failed", users.login("nobody", OTHER, IP))
        await raises("login_failed", users.login("not a valid name!", OTHER, IP))
        assert len(hasher.verified) == 3
        real, dummy, dummy2 = hasher.verified
        assert dummy == dummy2 != real
        assert dummy.split("$")[:4] == real.split("$")[:4]  # same algorithm and parameters
    finally:
        await delete_tenant(redis, tenant)


async def test_rehash_when_the_parameters_change(redis: Redis, tenant: str,
                                                 clock: ManualClock) -> None:
    old = Users(redis, tenant, clock, hasher=cheap_hasher(time_cost=1))
    try:
        await old.create("clerk", GOOD, "staff", ["testoffice"])
        before = (await old.require("clerk")).password_hash
        assert "t=1" in before
        new = Users(redis, tenant, clock, hasher=cheap_hasher(time_cost=2))
        await raises("login_failed", new.login("clerk", OTHER, IP))
        assert (await new.require("clerk")).password_hash == before  # only on success
        await new.login("clerk", GOOD, IP)
        after = (await new.require("clerk")).password_hash
        assert "t=2" in after and after != before
        assert (await new.require("clerk")).changed == clock.now  # not a password change
        await new.login("clerk", GOOD, IP)
        assert (await new.require("clerk")).password_hash == after  # nothing more to do
    finally:
        await delete_tenant(redis, tenant)


async def test_lockout_per_name_with_the_time_it_ends(users: Users, clock: ManualClock) -> None:
    await users.create("clerk", GOOD, "staff", ["testoffice"])
    for _ in range(4):
        await raises("login_failed", users.login("clerk", OTHER, IP))
    locked = await raises("login_locked", users.login("clerk", OTHER, IP))
    # The clock starts at 10:00 in Kitakyushu; 15 minutes of lock.
    assert "locked until 10:15" in locked.message and locked.status == 429
    assert locked.details == {"until": "2026-11-27T10:15:00+09:00", "until_hm": "10:15"}
    # The right password does not get through a lock ...
    again = await raises("login_locked", users.login("clerk", GOOD, IP))
    assert again.message == locked.message
    # ... other names are not affected ...
    await users.create("other", GOOD, "staff", ["testoffice"])
    assert (await users.login("other", GOOD, IP)).name == "other"
    clock.advance(15 * 60 - 1)
    await raises("login_locked", users.login("clerk", GOOD, IP))
    clock.advance(1)  # ... and the lock ends on time.
    assert (await users.login("clerk", GOOD, IP)).name == "clerk"


async def test_failures_count_within_the_window_and_reset_on_success(
        users: Users, clock: ManualClock) -> None:
    await users.create("clerk", GOOD, "staff", ["testoffice"])
    for _ in range(4):
        await raises("login_failed", users.login("clerk", OTHER, IP))
    clock.advance(15 * 60 + 1)  # those four are older than the window
    for _ in range(4):
        await raises("login_failed", users.login("clerk", OTHER, IP))
    await users.login("clerk", GOOD, IP)  # success clears the count
    for _ in range(4):
        await raises("login_failed", users.login("clerk", OTHER, IP))
    await raises("login_locked", users.login("clerk", OTHER, IP))


async def test_unknown_names_lock_the_same_way(users: Users) -> None:
    await users.create("clerk", GOOD, "staff", ["testoffice"])
    messages = {}
    for name in ("clerk", "ghost"):
        for _ in range(4):
            await raises("login_failed", users.login(name, OTHER, IP))
        messages[name] = (await raises("login_locked", users.login(name, OTHER, IP))).message
    assert messages["clerk"] == messages["ghost"]


async def test_rate_limit_per_address(redis: Redis, tenant: str, clock: ManualClock) -> None:
    throttle = LoginThrottle(redis, tenant, clock, ip_limit=20, ip_window=600)
    users = Users(redis, tenant, clock, hasher=cheap_hasher(), throttle=throttle)
    try:
        await users.create("clerk", GOOD, "staff", ["testoffice"])
        for i in range(20):  # spraying names: no name reaches its own limit
            await raises("login_failed", users.login(f"guess{i % 5}", OTHER, IP))
            clock.advance(10)
        limited = await raises("login_rate_limited", users.login("clerk", GOOD, IP))
        # Free again when the first failure of the window is ten minutes old.
        assert limited.details["until_hm"] == "10:10" and "10:10" in limited.message
        assert (await users.login("clerk", GOOD, "198.51.100.7")).name == "clerk"
        clock.advance(600 - 200 + 1)
        assert (await users.login("clerk", GOOD, IP)).name == "clerk"
    finally:
        await delete_tenant(redis, tenant)


async def test_disabled_accounts_cannot_log_in(users: Users) -> None:
    await users.create("clerk", GOOD, "staff", ["testoffice"])
    await users.set_disabled("clerk", True)
    await raises("account_disabled", users.login("clerk", GOOD, IP))
    await raises("login_failed", users.login("clerk", OTHER, IP))  # tells nothing new
    await users.set_disabled("clerk", False)
    assert (await users.login("clerk", GOOD, IP)).name == "clerk"


async def test_new_password_lifts_the_lock(users: Users, clock: ManualClock) -> None:
    await users.create("clerk", GOOD, "staff", ["testoffice"])
    for _ in range(5):
        with pytest.raises(MadoguchiError):
            await users.login("clerk", OTHER, IP)
    await raises("login_locked", users.login("clerk", GOOD, IP))
    clock.advance(60)
    await raises("weak_password", users.set_password("clerk", "clerk-clerk-clerk"))
    changed = await users.set_password("clerk", OTHER)
    assert changed.changed == clock.now
    assert (await users.login("clerk", OTHER, IP)).name == "clerk"
    await raises("login_failed", users.login("clerk", GOOD, IP))


async def test_logs_name_the_account_by_its_opaque_id_never_the_password(
        users: Users, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="madoguchi.login")
    clerk = await users.create("clerk", GOOD, "staff", ["testoffice"])
    await users.login("clerk", GOOD, IP)
    with pytest.raises(MadoguchiError):
        await users.login("clerk", OTHER, IP)
    with pytest.raises(MadoguchiError):
        await users.login(OTHER, GOOD, IP)  # a password typed into the name box
    records = [r for r in caplog.records if r.name == "madoguchi.login"]
    text = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in records)
    assert GOOD not in text and OTHER not in text and IP not in text
    assert "clerk" not in text  # the login name is personal data
    outcomes = [(r.getMessage(), getattr(r, "user_id", "-")) for r in records]
    assert ("login", clerk.log_id) in outcomes
    assert ("login failed", clerk.log_id) in outcomes and ("login failed", None) in outcomes


# --- sessions

@pytest.fixture
async def sessions(redis: Redis, tenant: str, clock: ManualClock) -> AsyncIterator[Sessions]:
    yield Sessions(redis, tenant, clock)
    await delete_tenant(redis, tenant)


async def test_session_id_is_random_and_only_its_hash_is_stored(
        sessions: Sessions, redis: Redis, tenant: str) -> None:
    cookie, session = await sessions.create("clerk")
    other, _ = await sessions.create("clerk")
    assert len(cookie) == 43 and cookie != other  # 256 random bits, url-safe
    assert session.digest == hashlib.sha256(cookie.encode()).hexdigest()
    keys = [k.decode() async for k in redis.scan_iter(f"mg:{{{tenant}}}:*")]
    assert session_key(tenant, session.digest) in keys
    for key in keys:
        assert cookie not in key
        if await redis.type(key) == b"hash":
            assert all(cookie.encode() not in v for v in (await redis.hgetall(key)).values())
    found = await sessions.get(cookie)
    assert found is not None and found.user == "clerk" and found.csrf == session.csrf
    assert len(session.csrf) >= 43 and session.csrf != cookie
    assert session.ref.startswith("s-") and session.ref[2:] in session.digest
    for bad in ("", "x", cookie + "x", cookie[:-1] + "!", "../" * 15):
        assert await sessions.get(bad) is None


async def test_idle_timeout_with_the_clock(sessions: Sessions, redis: Redis, tenant: str,
                                           clock: ManualClock) -> None:
    cookie, session = await sessions.create("clerk")
    clock.advance(2 * 3600)
    assert await sessions.get(cookie) is not None  # used: the idle time starts again
    clock.advance(IDLE_SECONDS - 1)  # 14 h after login, 12 h less 1 s after its last use
    assert await sessions.get(cookie) is not None
    assert 0 < await redis.ttl(session_key(tenant, session.digest)) <= IDLE_SECONDS

    idle, idle_session = await sessions.create("clerk")
    clock.advance(IDLE_SECONDS)
    assert await sessions.get(idle) is None
    assert not await redis.exists(session_key(tenant, idle_session.digest))


async def test_absolute_timeout_however_busy(sessions: Sessions, clock: ManualClock) -> None:
    cookie, _ = await sessions.create("clerk")
    for _ in range(15):
        clock.advance(3600)
        assert await sessions.get(cookie) is not None
    clock.advance(3600)  # 16 hours after login
    assert await sessions.get(cookie) is None


async def test_revoke_user_keeps_one_and_ends_the_rest(sessions: Sessions) -> None:
    here, kept = await sessions.create("clerk")
    there, _ = await sessions.create("clerk")
    third, _ = await sessions.create("clerk")
    someone_else, _ = await sessions.create("manager")
    assert await sessions.revoke_user("clerk", keep=kept) == 2
    assert await sessions.get(here) is not None
    assert await sessions.get(there) is None and await sessions.get(third) is None
    assert await sessions.get(someone_else) is not None
    assert await sessions.revoke_user("clerk") == 1
    assert await sessions.get(here) is None
    assert await sessions.revoke_user("nobody") == 0


async def test_delete_is_logout(sessions: Sessions) -> None:
    cookie, session = await sessions.create("clerk")
    await sessions.delete(session)
    assert await sessions.get(cookie) is None


def test_session_principal_scope() -> None:
    clerk = session_principal("s-1", "clerk", "staff", ("a", "b"))
    assert clerk.may_act_in("a") and clerk.may_act_in("b") and not clerk.may_act_in("c")
    clerk.require("counter_action", "b")
    with pytest.raises(MadoguchiError) as other_office:
        clerk.require("counter_action", "c")
    assert other_office.value.code == "forbidden" and "account" in other_office.value.message
    with pytest.raises(MadoguchiError):
        clerk.require("manage_office", "a")  # a clerk manages nothing
    manager = session_principal("s-2", "boss", "manager", ("a",))
    manager.require("manage_office", "a")
    with pytest.raises(MadoguchiError):
        manager.require("admin", ALL_OFFICES)
    admin = session_principal("s-3", "root", "admin", (ALL_OFFICES,))
    admin.require("admin", ALL_OFFICES)
    admin.require("counter_action", "anywhere")
    nobody = session_principal("s-4", "lost", "staff", ())
    assert not nobody.may_act_in("a") and not nobody.may_act_in(ALL_OFFICES)


# --- the command line

@pytest.fixture
def in_process_cli(redis_url: str, clean_tenant: str,
                   monkeypatch: pytest.MonkeyPatch) -> str:
    """`madoguchi ...` through its entry point, in this process (a child
    process costs a second of start-up each)."""
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("MADOGUCHI_TENANT", clean_tenant)
    monkeypatch.delenv("MADOGUCHI_PUBLIC_BASE_URL", raising=False)
    return clean_tenant


async def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = await asyncio.to_thread(cli_main, argv)
    out = capsys.readouterr()
    return code, out.out, out.err


async def test_user_commands(in_process_cli: str, redis: Redis,
                             capsys: pytest.CaptureFixture[str],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    tenant = in_process_cli
    await Engine(redis, tenant).configure(small_office())
    await Engine(redis, tenant).configure(small_office("second"))

    code, out, err = await run(["user", "create", "--role", "admin", "--name", "root",
                                "--password", GOOD], capsys)
    assert code == 0, err
    assert "root" in out and GOOD not in out + err
    # Without --password: asked twice, never echoed.
    asked: list[str] = []

    def answer(prompt: str = "") -> str:
        asked.append(prompt)
        return OTHER

    monkeypatch.setattr("getpass.getpass", answer)
    code, out, err = await run(["user", "create", "--role", "staff", "--name", "hanako",
                                "--office", "testoffice", "--office", "second",
                                "--display-name", "窓口 花子"], capsys)
    assert code == 0, err
    assert len(asked) == 2 and all("hanako" in p or "again" in p for p in asked)

    users = Users(redis, tenant)
    hanako = await users.require("hanako")
    assert hanako.offices == ("testoffice", "second") and hanako.display_name == "窓口 花子"
    assert await users.password_matches(hanako, OTHER)

    code, out, _ = await run(["user", "list"], capsys)
    assert code == 0
    rows = {line.split()[0]: line.split() for line in out.splitlines()}
    assert rows["root"][1:4] == ["admin", "*", "active"]
    assert rows["hanako"][1:4] == ["staff", "testoffice,second", "active"]
    assert rows["hanako"][4] == hanako.log_id
    assert GOOD not in out and OTHER not in out and "argon2" not in out

    sessions = Sessions(redis, tenant)
    cookie, _ = await sessions.create("hanako")
    code, out, err = await run(["user", "disable", "hanako"], capsys)
    assert code == 0 and "1 sessions ended" in out, err
    assert (await users.require("hanako")).disabled
    assert await sessions.get(cookie) is None
    code, out, _ = await run(["user", "list"], capsys)
    assert "disabled" in next(ln for ln in out.splitlines() if ln.startswith("hanako"))
    assert (await run(["user", "enable", "hanako"], capsys))[0] == 0

    cookie, _ = await sessions.create("hanako")
    code, out, err = await run(["user", "password", "hanako", "--password",
                                "yoru no toshokan de"], capsys)
    assert code == 0 and "1 sessions ended" in out, err
    assert await sessions.get(cookie) is None
    assert await users.password_matches(await users.require("hanako"), "yoru no toshokan de")


@pytest.mark.parametrize(("argv", "says"), [
    (["user", "create", "--role", "staff", "--name", "a1", "--password", GOOD], "--office"),
    (["user", "create", "--role", "admin", "--name", "a1", "--office", "testoffice",
      "--password", GOOD], "every office"),
    (["user", "create", "--role", "staff", "--name", "a1", "--office", "nowhere",
      "--password", GOOD], "office"),
    (["user", "create", "--role", "staff", "--name", "a1", "--office", "testoffice",
      "--password", "short"], "12 characters"),
    (["user", "create", "--role", "staff", "--name", "Bad Name", "--office", "testoffice",
      "--password", GOOD], "login name"),
    (["user", "create", "--role", "staff", "--name", "taken", "--office", "testoffice",
      "--password", GOOD], "exists"),
    (["user", "disable", "nobody"], "No such account"),
    (["user", "password", "nobody", "--password", GOOD], "No such account"),
])
async def test_user_commands_refuse_with_a_reason(
        in_process_cli: str, redis: Redis, capsys: pytest.CaptureFixture[str],
        argv: list[str], says: str) -> None:
    await Engine(redis, in_process_cli).configure(small_office())
    await Users(redis, in_process_cli).create("taken", GOOD, "staff", ["testoffice"])
    code, out, err = await run(argv, capsys)
    assert code != 0 and not out.strip()
    assert says in err, err
    names = [u.name for u in await Users(redis, in_process_cli).list()]
    assert names == ["taken"]


async def test_password_prompt_mismatch_and_no_terminal(
        in_process_cli: str, redis: Redis, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    await Engine(redis, in_process_cli).configure(small_office())
    answers = iter([GOOD, OTHER])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    argv = ["user", "create", "--role", "staff", "--name", "clerk", "--office", "testoffice"]
    code, _, err = await run(argv, capsys)
    assert code != 0 and "differ" in err

    def no_terminal(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr("getpass.getpass", no_terminal)
    code, _, err = await run(argv, capsys)
    assert code != 0 and "--password" in err
    assert await Users(redis, in_process_cli).list() == []


async def test_demo_login_is_made_once_at_random(
        in_process_cli: str, redis: Redis, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "var" / "demo-login.txt"
    code, out, err = await run(["demo", "--closed", "--login", str(path)], capsys)
    assert code == 0, err
    assert "/login" in out and DEMO_USER in out and str(path) in out
    saved = dict(line.split(": ", 1) for line in path.read_text().splitlines())
    password = saved["password"]
    assert saved["name"] == DEMO_USER and saved["url"].endswith("/login")
    assert password not in out and password_problem(password, DEMO_USER) is None
    assert path.stat().st_mode & 0o077 == 0  # only the owner may read it
    users = Users(redis, in_process_cli)
    demo = await users.require(DEMO_USER)
    assert demo.role == "admin" and await users.password_matches(demo, password)

    before = path.read_text()
    code, out, _ = await run(["demo", "--closed", "--login", str(path)], capsys)
    assert code == 0 and path.read_text() == before  # the same password again
    # Another machine's Redis, or a lost file: a new random password.
    other = tmp_path / "elsewhere.txt"
    assert (await run(["demo", "--closed", "--login", str(other)], capsys))[0] == 0
    new_password = dict(ln.split(": ", 1) for ln in other.read_text().splitlines())["password"]
    assert new_password != password
    assert await users.password_matches(await users.require(DEMO_USER), new_password)
