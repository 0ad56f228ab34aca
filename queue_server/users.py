"""Staff accounts: the people who log in (clerks, office managers, the
city's administrators), their passwords, and the login throttle.

An account lives in one Redis hash under the tenant's hash tag,
``mg:{tenant}:user:<login name>``: display name, role (auth.USER_ROLES),
offices (JSON list; an admin has ["*"]), disabled flag, the argon2id hash of
the password and when it was created, last changed and last updated.

Passwords are hashed with argon2-cffi's `PasswordHasher` (its defaults are
RFC 9106's low-memory profile); a hash made with older parameters is
replaced at the next successful login. Hashing is CPU- and memory-heavy
(~0.1 s, 64 MiB), so it runs in a thread, at most two at once per process.

Login throttle: per login name, `name_limit` failures within `name_window`
lock the name for `lock_seconds` ("locked until HH:MM"); per client address,
`ip_limit` failures within `ip_window` refuse further tries. Names that do
not exist are throttled and answered exactly like those that do (a dummy
hash is verified), so neither the message nor the time tells which names
exist. Times come from the injected clock, so tests need no sleeps; Redis
expiry only cleans up.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import logging
import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from redis.asyncio import Redis
from redis.exceptions import WatchError

from .auth import ALL_OFFICES, USER_ROLES
from .clock import Clock, local, system_clock
from .errors import MadoguchiError
from .office_config import ID_PATTERN

log = logging.getLogger("madoguchi.login")

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
MIN_LENGTH = 12
MAX_LENGTH = 256
MIN_DISTINCT = 5
DISPLAY_NAME_MAX = 80
HASH_SLOTS = 2  # argon2 hashes computed at once per process (64 MiB each)
TIME_ZONE = "Asia/Tokyo"  # "locked until HH:MM" is read at a Japanese counter

# Passwords of 12+ characters that are still the first ones guessed.
COMMON_PASSWORDS = frozenset({
    "password1234", "password12345", "password123456", "passwordpassword", "123456789012",
    "1234567890123", "12345678901234", "qwertyuiop12", "qwertyuiopas", "1q2w3e4r5t6y",
    "1qaz2wsx3edc", "iloveyou1234", "abcdefghijkl", "abc123abc123", "administrator",
    "administrator1", "madoguchi123", "madoguchi1234", "kitakyushu123", "kitakyushu1234",
    "changeme1234", "welcome12345", "letmein12345", "passw0rd1234", "p@ssw0rd1234",
})


_DUMMY_HASHES: dict[tuple[Any, ...], str] = {}


def user_key(tenant: str, name: str) -> str:
    return f"mg:{{{tenant}}}:user:{name}"


def users_index(tenant: str) -> str:
    return f"mg:{{{tenant}}}:users"


def _throttle_key(tenant: str, kind: str, who: str) -> str:
    # Hashed: what was typed into the name field (maybe a password typed in
    # the wrong box) and client addresses never become key names.
    digest = hashlib.sha256(who.encode()).hexdigest()[:32]
    return f"mg:{{{tenant}}}:login:{kind}:{digest}"


def normalise_name(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip().lower()


def check_name(name: str) -> str:
    name = normalise_name(name)
    if not NAME_RE.match(name):
        raise MadoguchiError("invalid_login_name")
    return name


def password_problem(password: str, name: str = "") -> tuple[str, str] | None:
    """(reason, message) when `password` breaks the rules, else None."""
    if len(password) < MIN_LENGTH:
        return "too_short", (f"Use at least {MIN_LENGTH} characters; a few words make a "
                             "good passphrase.")
    if len(password) > MAX_LENGTH:
        return "too_long", f"Use at most {MAX_LENGTH} characters."
    folded = password.casefold()
    name = name.casefold()
    if name and (folded == name or (len(name) >= 4 and name in folded)):
        return "contains_name", "The password must not contain the login name."
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(folded)}
    if len(set(folded)) < MIN_DISTINCT or steps <= {-1, 1}:
        return "too_simple", ("The password repeats too few characters or runs in order "
                              "(like 'aaaa' or '1234'); choose a less predictable one.")
    if folded in COMMON_PASSWORDS:
        return "common", "This password is one of the first ones an attacker tries."
    return None


def check_password(password: str, name: str = "") -> None:
    problem = password_problem(password, name)
    if problem is not None:
        reason, message = problem
        raise MadoguchiError("weak_password", message, reason=reason, min_length=MIN_LENGTH)


def _offices(role: str, offices: Iterable[str]) -> list[str]:
    """An admin covers every office; a manager or clerk has one or more."""
    if role not in USER_ROLES:
        raise MadoguchiError("validation_failed", f"role must be one of {', '.join(USER_ROLES)}")
    if role == "admin":
        return [ALL_OFFICES]
    out = list(dict.fromkeys(offices))  # keep the order, drop repeats
    if not out:
        raise MadoguchiError("validation_failed", f"a {role} needs at least one office")
    for office in out:
        if not re.fullmatch(ID_PATTERN, office):
            raise MadoguchiError("validation_failed", f"{office!r} is not an office id")
    return out


def _display_name(text: str, name: str) -> str:
    text = "".join(c for c in text if unicodedata.category(c)[0] != "C").strip()
    return text[:DISPLAY_NAME_MAX] or name


@dataclass(frozen=True)
class User:
    name: str
    display_name: str
    role: str
    offices: tuple[str, ...]
    disabled: bool
    created: float
    changed: float  # when the password was last set
    updated: float
    password_hash: str = field(default="", repr=False)

    @property
    def log_id(self) -> str:
        """How logs name this account: a login name is personal data (often
        the person's own name), so logs carry this opaque id instead; an
        administrator finds the account by it in the account list. Derived
        from the name and the creation time, which only Redis holds, so a
        list of likely names does not reveal whose it is."""
        digest = hashlib.sha256(f"{self.name}\0{self.created!r}".encode()).hexdigest()
        return "u_" + digest[:12]

    def public(self) -> dict[str, Any]:
        """What a page may show about the logged-in person."""
        return {"name": self.name, "display_name": self.display_name, "role": self.role,
                "offices": list(self.offices)}

    @classmethod
    def from_redis(cls, raw: dict[bytes, bytes]) -> User | None:
        data = {k.decode(): v.decode() for k, v in raw.items()}
        if "password" not in data or "role" not in data:
            return None
        return cls(
            name=data["name"], display_name=data.get("display_name", data["name"]),
            role=data["role"], offices=tuple(json.loads(data.get("offices", "[]"))),
            disabled=data.get("disabled") == "1", created=float(data.get("created", 0)),
            changed=float(data.get("changed", 0)), updated=float(data.get("updated", 0)),
            password_hash=data["password"],
        )


class Users:
    """The accounts of one tenant."""

    def __init__(self, redis: Redis, tenant: str, clock: Clock = system_clock,
                 hasher: PasswordHasher | None = None,
                 throttle: LoginThrottle | None = None) -> None:
        self.redis = redis
        self.tenant = tenant
        self.clock = clock
        self.hasher = hasher or PasswordHasher()
        self.throttle = throttle or LoginThrottle(redis, tenant, clock)
        self._slots = asyncio.Semaphore(HASH_SLOTS)
        self._dummy: str | None = None

    # --- hashing (off the event loop, bounded)

    async def _hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self.hasher.hash, password)

    async def _verify(self, hashed: str, password: str) -> bool:
        def verify() -> bool:
            try:
                return self.hasher.verify(hashed, password)
            except (VerificationError, InvalidHashError):
                return False

        async with self._slots:
            return await asyncio.to_thread(verify)

    async def warm(self) -> None:
        """Make the dummy hash now, so the first unknown name costs no more
        than any other (called at start-up). One per process and parameter
        set: apps started again in one process (tests) reuse it."""
        h = self.hasher
        params = (h.time_cost, h.memory_cost, h.parallelism, h.hash_len, h.salt_len, h.type)
        if params not in _DUMMY_HASHES:
            _DUMMY_HASHES[params] = await self._hash(secrets.token_urlsafe(24))
        self._dummy = _DUMMY_HASHES[params]

    # --- accounts

    async def get(self, name: str) -> User | None:
        name = normalise_name(name)
        if not NAME_RE.match(name):
            return None
        return User.from_redis(await self.redis.hgetall(user_key(self.tenant, name)))

    async def require(self, name: str) -> User:
        user = await self.get(name)
        if user is None:
            raise MadoguchiError("unknown_user")
        return user

    async def list(self) -> list[User]:
        names = sorted(n.decode() for n in await self.redis.smembers(users_index(self.tenant)))
        out = []
        for name in names:
            user = await self.get(name)
            if user is not None:
                out.append(user)
        return out

    async def create(self, name: str, password: str, role: str,
                     offices: Iterable[str] = (), display_name: str = "") -> User:
        name = check_name(name)
        offices_ = _offices(role, offices)
        check_password(password, name)
        hashed = await self._hash(password)
        now = self.clock()
        record = {"name": name, "display_name": _display_name(display_name, name), "role": role,
                  "offices": json.dumps(offices_), "disabled": "0", "password": hashed,
                  "created": repr(now), "changed": repr(now), "updated": repr(now)}
        key = user_key(self.tenant, name)
        # WATCH/MULTI: two admins creating the same name at once get one
        # account and one user_exists, never a merge of both.
        async with self.redis.pipeline(transaction=True) as pipe:
            try:
                await pipe.watch(key)
                if await pipe.exists(key):
                    raise MadoguchiError("user_exists")
                pipe.multi()
                pipe.hset(key, mapping=record)
                pipe.sadd(users_index(self.tenant), name)
                await pipe.execute()
            except WatchError as exc:
                raise MadoguchiError("user_exists") from exc
        user = await self.require(name)
        log.info("account created", extra={"user_id": user.log_id, "role": role})
        return user

    async def _update(self, name: str, fields: dict[str, str]) -> User:
        user = await self.require(name)
        fields = {**fields, "updated": repr(self.clock())}
        await self.redis.hset(user_key(self.tenant, user.name), mapping=fields)
        return await self.require(user.name)

    async def set_disabled(self, name: str, disabled: bool) -> User:
        """Callers also end the account's sessions (Sessions.revoke_user);
        a session of a disabled account is refused at its next request anyway."""
        user = await self._update(name, {"disabled": "1" if disabled else "0"})
        log.info("account disabled" if disabled else "account enabled",
                 extra={"user_id": user.log_id})
        return user

    async def set_role(self, name: str, role: str, offices: Iterable[str] = ()) -> User:
        return await self._update(name, {"role": role, "offices": json.dumps(
            _offices(role, offices))})

    async def set_password(self, name: str, password: str) -> User:
        """Callers end the account's other sessions (Sessions.revoke_user)."""
        user = await self.require(name)
        check_password(password, user.name)
        hashed = await self._hash(password)
        updated = await self._update(user.name, {"password": hashed,
                                                 "changed": repr(self.clock())})
        await self.throttle.clear(user.name)  # a new password lifts a lock-out
        log.info("password changed", extra={"user_id": user.log_id})
        return updated

    async def password_matches(self, user: User, password: str) -> bool:
        """For the operator's own tools (`madoguchi demo`): no throttle."""
        return await self._verify(user.password_hash, password)

    # --- logging in

    async def _attempt(self, name: str, password: str, ip: str) -> User | None:
        """The account when `password` is its password, else None (a failure
        is counted). Raises login_locked / login_rate_limited first."""
        name = normalise_name(name)
        await self.throttle.check(name, ip)
        user = await self.get(name)
        if user is None:
            await self.warm()
            assert self._dummy is not None
            await self._verify(self._dummy, password)  # the same time as a real check
            ok = False
        else:
            ok = await self._verify(user.password_hash, password)
        if ok:
            await self.throttle.succeeded(name)
            assert user is not None
            if self.hasher.check_needs_rehash(user.password_hash):
                await self.redis.hset(user_key(self.tenant, user.name), "password",
                                      await self._hash(password))
                log.info("password rehashed", extra={"user_id": user.log_id})
            return user
        until = await self.throttle.failed(name, ip)
        # Only known names are logged: an unknown one may be a password
        # typed into the wrong box.
        log.warning("login failed", extra={"user_id": user.log_id if user else None,
                                           "known": user is not None, "locked": bool(until)})
        if until is not None:
            raise self.throttle.locked(until)
        return None

    async def login(self, name: str, password: str, ip: str) -> User:
        user = await self._attempt(name, password, ip)
        if user is None:
            raise MadoguchiError("login_failed")
        if user.disabled:
            log.warning("login refused: account disabled", extra={"user_id": user.log_id})
            raise MadoguchiError("account_disabled")
        log.info("login", extra={"user_id": user.log_id, "role": user.role})
        return user

    async def confirm_password(self, name: str, password: str, ip: str) -> User:
        """The current password, asked again before a change: wrong guesses
        count towards the same lock-out as at the login page, so a session
        left open cannot be used to try passwords."""
        user = await self._attempt(name, password, ip)
        if user is None:
            raise MadoguchiError("wrong_password")
        return user


class LoginThrottle:
    """Lock-out per login name and rate limit per client address."""

    def __init__(self, redis: Redis, tenant: str, clock: Clock = system_clock, *,
                 name_limit: int = 5, name_window: float = 15 * 60,
                 lock_seconds: float = 15 * 60, ip_limit: int = 20,
                 ip_window: float = 10 * 60) -> None:
        self.redis = redis
        self.tenant = tenant
        self.clock = clock
        self.name_limit = name_limit
        self.name_window = name_window
        self.lock_seconds = lock_seconds
        self.ip_limit = ip_limit
        self.ip_window = ip_window

    def _keys(self, name: str, ip: str) -> tuple[str, str, str]:
        return (_throttle_key(self.tenant, "fail", name), _throttle_key(self.tenant, "lock", name),
                _throttle_key(self.tenant, "ip", ip))

    def locked(self, until: float) -> MadoguchiError:
        hm = local(until, TIME_ZONE).strftime("%H:%M")
        return MadoguchiError(
            "login_locked", f"Too many failed logins: this login name is locked until {hm}.",
            until=local(until, TIME_ZONE).isoformat(timespec="seconds"), until_hm=hm)

    def rate_limited(self, until: float) -> MadoguchiError:
        hm = local(until, TIME_ZONE).strftime("%H:%M")
        return MadoguchiError(
            "login_rate_limited",
            f"Too many failed logins from this computer; try again after {hm}.",
            until=local(until, TIME_ZONE).isoformat(timespec="seconds"), until_hm=hm)

    async def check(self, name: str, ip: str) -> None:
        now = self.clock()
        _, lock, by_ip = self._keys(name, ip)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(lock)
            pipe.zrangebyscore(by_ip, now - self.ip_window, "+inf", withscores=True)
            until_raw, recent = await pipe.execute()
        if until_raw is not None and float(until_raw) > now:
            raise self.locked(float(until_raw))
        if len(recent) >= self.ip_limit:
            # Free again when enough of the window's failures have aged out.
            oldest = recent[len(recent) - self.ip_limit][1]
            raise self.rate_limited(oldest + self.ip_window)

    async def failed(self, name: str, ip: str) -> float | None:
        """Counts a failure; returns the lock's end when this one locked the name."""
        now = self.clock()
        fail, lock, by_ip = self._keys(name, ip)
        member = f"{now!r}:{secrets.token_hex(4)}"
        async with self.redis.pipeline(transaction=True) as pipe:
            for key, window in ((fail, self.name_window), (by_ip, self.ip_window)):
                pipe.zadd(key, {member: now})
                pipe.zremrangebyscore(key, "-inf", now - window)
                pipe.expire(key, int(window) + 60)
            pipe.zcard(fail)
            *_, failures = await pipe.execute()
        if failures < self.name_limit:
            return None
        until = now + self.lock_seconds
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(lock, repr(until), ex=int(self.lock_seconds) + 60)
            pipe.delete(fail)  # after the lock: a fresh count
            await pipe.execute()
        return until

    async def succeeded(self, name: str) -> None:
        await self.redis.delete(_throttle_key(self.tenant, "fail", name))

    async def clear(self, name: str) -> None:
        """An administrator set a new password: lift the lock-out too."""
        fail, lock, _ = self._keys(normalise_name(name), "")
        await self.redis.delete(fail, lock)
