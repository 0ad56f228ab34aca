"""The `madoguchi` command."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import errno
import gc
import getpass
import json
import os
import resource
import secrets
import sys
from collections.abc import Awaitable, Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from . import http_server, logs
from .auth import ALL_OFFICES, ROLES, USER_ROLES, Tokens
from .connections import connect
from .engine import Engine
from .errors import MadoguchiError
from .sessions import Sessions
from .settings import Settings
from .users import Users, check_name, check_password, password_problem


def _with_redis(settings: Settings, work: Callable[[Redis], Awaitable[Any]]) -> Any:
    async def run() -> Any:
        async with connect(settings) as redis:
            return await work(redis)

    return asyncio.run(run())


def raise_open_file_limit() -> None:
    """Each display is a socket: lift the soft limit (often 1024) to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def tune_gc() -> None:
    """Garbage-collector pauses were the long tail of request latency (p99
    at 1,000 req/s: 50-140 ms before, 15 ms after; bench/http_tickets.py).
    Objects alive after start-up (modules, the app) are frozen out of the
    collector's scans, and young-generation collections run less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def serve_settings(settings: Settings, host: str | None, port: int | None) -> Settings:
    """`--host`/`--port` win over the environment; the public URL follows
    them unless MADOGUCHI_PUBLIC_BASE_URL says otherwise."""
    host, port = host or settings.host, port or settings.port
    base = settings.public_base_url
    if "MADOGUCHI_PUBLIC_BASE_URL" not in os.environ:
        base = f"http://{host}:{port}"
    return dataclasses.replace(settings, host=host, port=port, public_base_url=base)


# The last line of what `serve` prints once it listens (run-demo reads up to it).
SERVE_READY_END = "  Ctrl+C stops the server."


def listening_text(bound: str, base: str, offices: list[str]) -> str:
    """What `serve` prints once it accepts connections: where (`bound`), and
    the pages to open at the public address `base` (the start page lists
    them all)."""
    lines = [f"madoguchi: listening on {bound}/",
             f"  start page    {base}/",
             f"  staff login   {base}/login"]
    for office in offices[:3]:
        lines.append(f"  {office + ':':14}{base}/book/{office}  {base}/display/{office}  "
                     f"{base}/kiosk/{office}")
    if len(offices) > 3:
        lines.append(f"  (and {len(offices) - 3} more offices on the start page)")
    lines.append(SERVE_READY_END)
    return "\n".join(lines)


def port_taken_text(host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EACCES:
        problem = f"may not listen on port {port} (ports below 1024 need privileges)"
    elif exc.errno == errno.EADDRNOTAVAIL:
        problem = f"cannot listen on {host}: no such address on this machine"
    else:
        problem = f"port {port} on {host} is already in use (another madoguchi, or another program)"
    return (f"madoguchi serve: {problem}.\n"
            f"Choose another port: madoguchi serve --port {port + 1}   "
            f"(or MADOGUCHI_PORT={port + 1}; the host: --host or MADOGUCHI_HOST)")


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvloop

    from .app import create_app
    from .clock import SimulatedClockRefused, configured_clock
    from .context import CONTEXT

    settings = serve_settings(settings, args.host, args.port)
    try:
        clock = configured_clock(settings.simulated_clock_file, settings.development)
    except (SimulatedClockRefused, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    logs.setup(settings.log_level)
    raise_open_file_limit()
    tune_gc()
    app = create_app(settings, clock=clock)
    offices: list[str] = []

    async def read_offices(app: web.Application) -> None:  # after the Redis connection
        with contextlib.suppress(RedisError, OSError):
            offices[:] = await app[CONTEXT].engine.office_ids()

    app.on_startup.append(read_offices)

    def listening(_aiohttp_text: str) -> None:  # called once the port is bound
        host = f"[{settings.host}]" if ":" in settings.host else settings.host
        print(listening_text(f"http://{host}:{settings.port}",
                             settings.public_base_url.rstrip("/"), offices), flush=True)

    # uvloop: the same asyncio API, measurably less CPU per request and per
    # websocket write (bench/http_tickets.py, bench/fanout.py).
    try:
        http_server.run_app(app, host=settings.host, port=settings.port, access_log=None,
                            print=listening, loop=uvloop.new_event_loop())
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise
        print(port_taken_text(settings.host, settings.port, exc), file=sys.stderr)
        return 1
    return 0


async def load_demo(redis: Redis, settings: Settings, open_counters: bool = True,
                    always_open: bool = False) -> list[str]:
    """The demo offices; `always_open`: office hours 00:00-24:00 every day
    with no closed days (for trying the demo at night; never for an office),
    else the offices' real hours (the kiosk shows its closed screen at night)."""
    from .demo_data import demo_offices
    from .office_config import OpeningHours

    engine = Engine(redis, settings.tenant)
    ids = []
    for office in demo_offices():
        if always_open:
            office = office.model_copy(update={"hours": OpeningHours.always_open()})
        await engine.configure(office)
        if open_counters:
            for counter in office.counters:
                await engine.set_counter_state(office.id, counter.id, "open")
        ids.append(office.id)
    return ids


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    async def work(redis: Redis) -> None:
        ids = await load_demo(redis, settings, open_counters=not args.closed,
                              always_open=args.always_open)
        print(f"demo loaded: {len(ids)} offices ({', '.join(ids)})")
        if args.always_open:
            print("  open 00:00-24:00 every day (--always-open: for trying the demo only)")
        if args.tokens:
            await _demo_tokens(redis, settings, Path(args.tokens))
        if args.login:
            await _demo_login(redis, settings, Path(args.login))

    _with_redis(settings, work)
    return 0


async def _demo_tokens(redis: Redis, settings: Settings, path: Path) -> None:
    """Demo tokens for kokurakita, kept in var/ so `make run` reuses them."""
    tokens = Tokens(redis, settings.tenant)
    saved: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    valid: dict[str, str] = {}
    for role, token in saved.items():
        try:
            await tokens.authenticate(token)
            valid[role] = token
        except MadoguchiError:
            pass
    for role in ("staff", "kiosk", "display"):
        if role not in valid:
            valid[role], _ = await tokens.create(role, "kokurakita", "demo")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(valid, indent=2))
    path.chmod(0o600)
    base = settings.public_base_url
    print("demo tokens for kokurakita (kept in", path, "):")
    for role, token in valid.items():
        print(f"  {role:8} {token}")
    print(f"try:  curl -s {base}/api/v1/offices/kokurakita/status")
    print(f"      curl -s -X POST -H 'Authorization: Bearer {valid['kiosk']}' "
          f"-d '{{\"service\":\"shomei\"}}' {base}/api/v1/offices/kokurakita/tickets")


def cmd_run_demo(settings: Settings, args: argparse.Namespace) -> int:
    """`madoguchi demo` (into var/), then serve, the demo printer and the
    demo kiosk's agent together (queue_server.demo_runner)."""
    from .demo_runner import run

    settings = serve_settings(settings, args.host, args.port)
    args.closed = False
    args.tokens = str(settings.var_dir / "demo-tokens.json")
    args.login = str(settings.var_dir / "demo-login.txt")
    cmd_demo(settings, args)
    return run(settings, args)


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    async def work(redis: Redis) -> int:
        tokens = Tokens(redis, settings.tenant)
        if args.token_cmd == "create":
            office = args.office or (ALL_OFFICES if args.role == "admin" else None)
            if office is None:
                print("--office is required for this role", file=sys.stderr)
                return 2
            if office != ALL_OFFICES:
                await Engine(redis, settings.tenant).office(office)
            token, token_id = await tokens.create(args.role, office, args.label or "")
            print(token)
            print(f"(id {token_id}; shown once, keep it safe)", file=sys.stderr)
        elif args.token_cmd == "list":
            for t in await tokens.list():
                print(f"{t['id']}  {t['role']:8} {t['office']:14} {t.get('label', '')}")
        elif args.token_cmd == "revoke":
            if not await tokens.revoke(args.id):
                print("no such token", file=sys.stderr)
                return 1
            print("revoked")
        return 0

    try:
        return _with_redis(settings, work)
    except MadoguchiError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2


DEMO_USER = "demo-admin"
DEMO_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # nothing to misread (l/1, o/0)


def _new_password(name: str) -> str:
    """Four groups of four random characters (about 79 bits)."""
    while True:
        password = "-".join("".join(secrets.choice(DEMO_ALPHABET) for _ in range(4))
                            for _ in range(4))
        if password_problem(password, name) is None:
            return password


def _saved_password(path: Path) -> str | None:
    if not path.exists():
        return None
    for line in path.read_text().splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "password" and value.strip():
            return value.strip()
    return None


async def _demo_login(redis: Redis, settings: Settings, path: Path) -> None:
    """A demo admin account whose password is made once, at random, and
    kept in `path` (never a fixed password: a demo left running on a
    network must not open with a published one)."""
    users, sessions = Users(redis, settings.tenant), Sessions(redis, settings.tenant)
    password = _saved_password(path)
    user = await users.get(DEMO_USER)
    if user is None:
        password = password if password and password_problem(password, DEMO_USER) is None \
            else _new_password(DEMO_USER)
        await users.create(DEMO_USER, password, "admin", display_name="デモ管理者 (demo admin)")
    elif password is None or not await users.password_matches(user, password):
        password = _new_password(DEMO_USER)
        await users.set_password(DEMO_USER, password)
        await sessions.revoke_user(DEMO_USER)
    if user is not None and user.disabled:
        await users.set_disabled(DEMO_USER, False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"url: {settings.public_base_url}/login\nname: {DEMO_USER}\n"
                    f"password: {password}\n")
    path.chmod(0o600)
    print(f"demo login: {settings.public_base_url}/login")
    print(f"  name:     {DEMO_USER} (admin, every office)")
    print(f"  password: in {path}")


def _ask_password(name: str) -> str:
    """Asked twice, never echoed; the rules are checked before the second ask."""
    first = getpass.getpass(f"new password for {name}: ")
    check_password(first, name)
    if getpass.getpass("the same password again: ") != first:
        raise MadoguchiError("password_mismatch")
    return first


def cmd_user(settings: Settings, args: argparse.Namespace) -> int:
    async def work(redis: Redis) -> int:
        users, sessions = Users(redis, settings.tenant), Sessions(redis, settings.tenant)
        if args.user_cmd == "create":
            offices = args.office or []
            if args.role == "admin" and offices:
                print("an admin covers every office: leave out --office", file=sys.stderr)
                return 2
            if args.role != "admin" and not offices:
                print("--office is required for this role", file=sys.stderr)
                return 2
            check_name(args.name)
            if await users.get(args.name) is not None:
                raise MadoguchiError("user_exists")
            engine = Engine(redis, settings.tenant)
            for office in offices:
                await engine.office(office)  # unknown_office
            password = args.password or await asyncio.to_thread(_ask_password, args.name)
            user = await users.create(args.name, password, args.role, offices,
                                      args.display_name or "")
            print(f"created {user.name} ({user.role}, {','.join(user.offices)})")
        elif args.user_cmd == "list":
            for user in await users.list():
                state = "disabled" if user.disabled else "active"
                # The log id: how the logs name this account.
                print(f"{user.name:24} {user.role:8} {','.join(user.offices):30} {state:8} "
                      f"{user.log_id:14} {user.display_name}")
        elif args.user_cmd in ("disable", "enable"):
            user = await users.set_disabled(args.name, args.user_cmd == "disable")
            ended = await sessions.revoke_user(user.name) if args.user_cmd == "disable" else 0
            print(f"{args.user_cmd}d {user.name}" + (f" ({ended} sessions ended)"
                                                     if ended else ""))
        elif args.user_cmd == "password":
            user = await users.require(args.name)
            password = args.password or await asyncio.to_thread(_ask_password, user.name)
            await users.set_password(user.name, password)
            ended = await sessions.revoke_user(user.name)
            print(f"password of {user.name} changed ({ended} sessions ended)")
        return 0

    try:
        return _with_redis(settings, work)
    except MadoguchiError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    except (EOFError, KeyboardInterrupt):  # no terminal to ask on, or Ctrl-C
        print("error: no password given (use a terminal, or --password)", file=sys.stderr)
        return 2


def cmd_not_yet(name: str) -> Callable[[Settings, argparse.Namespace], int]:
    def run(settings: Settings, args: argparse.Namespace) -> int:
        print(f"madoguchi {name}: not yet available in this version.", file=sys.stderr)
        return 0

    return run


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="madoguchi", description="madoguchi queue system")
    sub = p.add_subparsers(dest="cmd", required=True)
    serve = sub.add_parser("serve", help="run the web process (API, websockets, pages)")
    serve.add_argument("--host", help="address to listen on (or $MADOGUCHI_HOST; 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (or $MADOGUCHI_PORT; 8080)")
    serve.set_defaults(func=cmd_serve)
    demo = sub.add_parser("demo", help="load Kitakyushu's 7 ward offices as demo data")
    demo.add_argument("--closed", action="store_true", help="leave the counters closed")
    demo.add_argument("--always-open", action="store_true",
                      help="demo only: office hours 00:00-24:00 every day, no closed days "
                           "(without it the kiosks close at night, as a real office does)")
    demo.add_argument("--tokens", metavar="FILE", help="create demo tokens, kept in FILE")
    demo.add_argument("--login", metavar="FILE",
                      help="create the demo admin account; its password is kept in FILE")
    demo.set_defaults(func=cmd_demo)
    run_demo = sub.add_parser(
        "run-demo", help="the whole demo: load it, then serve, a demo printer (PNGs in "
                         "var/printed/) and the demo kiosk's agent, stopped together")
    run_demo.add_argument("--host", help="address to listen on (or $MADOGUCHI_HOST)")
    run_demo.add_argument("--port", type=int, help="port to listen on (or $MADOGUCHI_PORT)")
    run_demo.add_argument("--printer-port", type=int, default=0,
                          help="the demo printer's TCP port (default: any free one)")
    run_demo.add_argument("--always-open", action="store_true",
                          help="office hours 00:00-24:00 every day (demo only)")
    run_demo.set_defaults(func=cmd_run_demo)
    token = sub.add_parser("token", help="device and tool tokens")
    tsub = token.add_subparsers(dest="token_cmd", required=True)
    create = tsub.add_parser("create", help="create a bearer token (printed once)")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--office", help="office id (admin: omit for all offices)")
    create.add_argument("--label", help="what the token is for, e.g. 'kiosk by the door'")
    tsub.add_parser("list", help="list tokens (ids, roles, offices; never the secrets)")
    revoke = tsub.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("id")
    token.set_defaults(func=cmd_token)
    user = sub.add_parser("user", help="staff accounts (people who log in)")
    usub = user.add_subparsers(dest="user_cmd", required=True)
    ucreate = usub.add_parser("create", help="create an account (asks for the password twice)")
    ucreate.add_argument("--role", required=True, choices=USER_ROLES)
    ucreate.add_argument("--name", required=True, help="login name: a-z, 0-9, '.', '_', '-'")
    ucreate.add_argument("--office", action="append", metavar="ID",
                         help="an office of a manager or clerk (repeat for several)")
    ucreate.add_argument("--display-name", help="the name shown on screens, e.g. 窓口 花子")
    ucreate.add_argument("--password", help="instead of asking (visible to other users of "
                                            "this computer: prefer the question)")
    usub.add_parser("list", help="list accounts (never the passwords)")
    for name, text in (("disable", "disable an account and end its sessions"),
                       ("enable", "enable a disabled account")):
        usub.add_parser(name, help=text).add_argument("name")
    upassword = usub.add_parser("password", help="set a new password (ends all sessions)")
    upassword.add_argument("name")
    upassword.add_argument("--password", help="instead of asking")
    user.set_defaults(func=cmd_user)
    # Commands of the other packages (kiosk-agent: ticket_printer) plug in
    # through entry points, so queue_server imports nothing from them.
    for entry in entry_points(group="madoguchi.cli"):
        entry.load()(sub)
    known = set(sub.choices)
    for name, text in (("phone", "telephony process"), ("kiosk-agent", "kiosk hardware agent")):
        if name not in known:
            sub.add_parser(name, help=f"{text} (not yet available)").set_defaults(
                func=cmd_not_yet(name))
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.func(Settings.from_env(), args) or 0)


if __name__ == "__main__":
    sys.exit(main())
