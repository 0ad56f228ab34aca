"""The administration API, /api/v1/admin/... (issue 5, "No-code
administration"): offices' whole configurations, device tokens, the audit
log and the accounts list. The pages of /admin (admin_pages) are its only
browser client; tools may call it with an admin or manager bearer token.

- ``GET /api/v1/admin/offices``: the offices the caller may manage.
- ``POST /api/v1/admin/offices`` (admin; ``?id=`` renames): a new office
  from a whole configuration (JSON or YAML).
- ``GET /api/v1/admin/offices/{office}/config``: ``{office, version, config,
  sms_defaults, sms_placeholders}``; ``?format=json|yaml`` downloads the bare
  configuration instead (export). The version is also the ETag.
- ``PUT /api/v1/admin/offices/{office}/config``: replace the whole
  configuration (JSON, or YAML with ``Content-Type: application/yaml``).
  ``If-Match: "<version>"`` (or ``?version=``) refuses with 409
  ``config_conflict`` when someone else saved in between. A document with
  another office id is imported under this one (copying a ward office's
  set-up to another). An office that does not exist yet is created (admin).
- ``POST /api/v1/admin/offices/{office}/config/diff``: what a PUT of the
  same body would change, without changing anything (the import preview).
- ``GET/POST /api/v1/admin/tokens``, ``DELETE /api/v1/admin/tokens/{id}``:
  device tokens; a new token is shown once, in the POST answer.
- ``GET /api/v1/admin/audit?office=&limit=&before=``: who changed what, when.
- ``GET /api/v1/admin/users`` (admin): the accounts, never their hashes.

Managers act on their offices, admins on all. Nothing saves half: a
document is validated whole first (every problem named by its field), then
stored by one atomic `engine.configure()`, which emits ``config.changed``
so displays and kiosks follow at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any, Literal

import yaml
from aiohttp import web
from pydantic import Field, ValidationError
from redis.asyncio import Redis
from redis.exceptions import WatchError

from . import audit, feasibility, sessions, sms_outbox, stats
from .api import json_response, office_id, parse, principal
from .api_models import Body
from .auth import ALL_OFFICES, PERMISSIONS, Principal
from .clock import local
from .context import AppContext, ctx
from .errors import MadoguchiError
from .office_config import ID_PATTERN, SMS_LANGS, SMS_PLACEHOLDERS, Office

routes = web.RouteTableDef()

CONFIG_MAX_BYTES = 1 << 20  # a city's biggest office is ~50 KB; the app's default is 64 KB
JSON_TYPES = frozenset({"application/json"})
YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})
# Device roles a manager may issue for their own offices; admin tokens only
# an admin may issue.
MANAGER_TOKEN_ROLES = ("kiosk", "display", "phone", "staff")
TOKEN_ID = re.compile(r"^[0-9a-f]{16}$")
LOCK_MS = 10_000
LOCK_WAIT_SECONDS = 3.0
NO_STORE = {"Cache-Control": "no-store"}
# Patterns of the office model, named, so a page can say what is expected.
PATTERN_TYPES = {ID_PATTERN: "id_format", r"^[A-Z]$": "letter_format",
                 r"^([01][0-9]|2[0-3]):[0-5][0-9]$": "time_format"}
VALUE_ERROR_TYPES = {"close must be after open": "close_before_open",
                     "weekdays are 1": "weekday_range"}


class TokenRequest(Body):
    role: Literal["staff", "kiosk", "display", "phone", "admin"] = Field(
        description="What the device may do")
    office: str = Field(pattern=r"^(\*|[a-z0-9][a-z0-9_-]{0,39})$",
                        description="The office it belongs to; * (all) for admin tokens only")
    label: str = Field(default="", max_length=80,
                       description="Where it is, e.g. 1F kiosk by the entrance")


# --- who may

def require_manager(who: Principal) -> None:
    """Some office's manager, or an admin (what each office allows is
    checked with Principal.require)."""
    if who.role not in PERMISSIONS["manage_office"]:
        raise MadoguchiError("forbidden", f"A {who.role} may not administer offices.")


def is_admin(who: Principal) -> bool:
    return who.role in PERMISSIONS["admin"] and who.may_act_in(ALL_OFFICES)


def now(request: web.Request) -> float:
    return ctx(request).engine.clock()


# --- reading a configuration document (JSON or YAML)

class _YamlLoader(yaml.CSafeLoader):
    """YAML as clerks write it, without YAML 1.1's traps: ``17:00`` stays the
    text "17:00" (not the sexagesimal number 1020) and ``0830`` is not octal.
    libyaml's C parser (shipped in PyYAML's wheels): the pure-Python scanner
    took 38 s on 60 KB of nesting."""


_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers
            if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$"), list("-+0123456789"))
_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)?\.[0-9_]+(?:[eE][-+]?[0-9]+)?$"),
    list("-+0123456789."))

# An office's document nests 5 levels (services -> 0 -> bring -> ja -> 0);
# anything much deeper is not a configuration.
MAX_DEPTH = 20
# A backstop: 1 MB of YAML parses in well under a second with libyaml.
PARSE_SECONDS = 5.0
TOO_DEEP = f"The document nests deeper than {MAX_DEPTH} levels."


def load_yaml(text: str) -> Any:
    try:
        # Anchors and aliases are refused: a few lines of them expand to a
        # document too big to validate (the "billion laughs"). Nesting is
        # refused as it is read, before any of it is built.
        depth = 0
        for event in yaml.parse(text, Loader=_YamlLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise MadoguchiError("invalid_yaml", "Anchors and aliases are not accepted.")
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise MadoguchiError("invalid_yaml", TOO_DEEP,
                                         line=event.start_mark.line + 1)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        return yaml.load(text, Loader=_YamlLoader)  # a SafeLoader: no Python objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        # libyaml's own limit (1000 levels) can strike while it looks ahead.
        deep = "nesting depth" in str(exc)
        raise MadoguchiError("invalid_yaml", TOO_DEEP if deep else None, line=line) from exc


def load_json(text: str) -> Any:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting too deep
        raise MadoguchiError("invalid_json") from exc
    if _depth(data) > MAX_DEPTH:
        raise MadoguchiError("invalid_json", TOO_DEEP)
    return data


def _depth(value: Any) -> int:
    """How deep `value` nests (iteratively: no recursion limit to hit)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = (item.values() if isinstance(item, dict)
                    else item if isinstance(item, list) else None)
        if children is None:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


async def read_document(request: web.Request) -> dict[str, Any]:
    """The body as a configuration document: JSON or YAML by Content-Type,
    up to CONFIG_MAX_BYTES (read only after the caller is authorised),
    parsed in a worker thread so the event loop keeps serving."""
    kind = request.content_type
    if kind not in JSON_TYPES | YAML_TYPES:
        raise MadoguchiError("unsupported_media_type",
                             "Send application/json or application/yaml.")
    raw = await request.clone(client_max_size=CONFIG_MAX_BYTES).read()
    try:
        text = raw.decode("utf-8-sig")  # a BOM from Windows editors is fine
    except UnicodeDecodeError as exc:
        raise MadoguchiError("bad_request", "The body must be UTF-8 text.") from exc
    load = load_yaml if kind in YAML_TYPES else load_json
    try:
        data = await asyncio.wait_for(asyncio.to_thread(load, text), PARSE_SECONDS)
    except TimeoutError as exc:
        code = "invalid_yaml" if kind in YAML_TYPES else "invalid_json"
        raise MadoguchiError(code, "The document is too complex to read.") from exc
    if not isinstance(data, dict):
        raise MadoguchiError("validation_failed", "The document must be an object (mapping).",
                             problems=[{"field": "", "problem": "not an object",
                                        "type": "model_type"}])
    return data


# --- validation with every problem at its field

def _problem(error: Any) -> dict[str, Any]:
    kind = error["type"]
    ctx_ = {k: v for k, v in (error.get("ctx") or {}).items()
            if isinstance(v, str | int | float | bool)}
    if kind == "string_pattern_mismatch":
        kind = PATTERN_TYPES.get(str(ctx_.get("pattern")), kind)
    elif kind == "value_error":
        kind = next((t for text, t in VALUE_ERROR_TYPES.items() if text in error["msg"]), kind)
    out: dict[str, Any] = {"field": ".".join(str(p) for p in error["loc"]),
                           "problem": error["msg"], "type": kind}
    if ctx_:
        out["ctx"] = ctx_
    return out


def consistency_problems(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Office's cross-checks (unique ids and letters, counters and display
    naming known services), each at the field that breaks it: the model's
    own check names none, and runs only once every field is valid."""
    problems: list[dict[str, Any]] = []

    def items(value: Any) -> list[tuple[int, dict[str, Any]]]:
        return [(i, v) for i, v in enumerate(value) if isinstance(v, dict)] if isinstance(
            value, list) else []

    def add(field: str, kind: str, text: str, **extra: Any) -> None:
        problems.append({"field": field, "problem": text, "type": kind,
                         **({"ctx": extra} if extra else {})})

    services = items(data.get("services"))
    seen_ids: dict[str, int] = {}
    seen_letters: dict[str, int] = {}
    for i, s in services:
        sid, letter = s.get("id"), s.get("letter")
        if isinstance(sid, str):
            if sid in seen_ids:
                add(f"services.{i}.id", "duplicate_id", "service ids must be unique", id=sid)
            seen_ids.setdefault(sid, i)
        if isinstance(letter, str):
            if letter in seen_letters:
                add(f"services.{i}.letter", "duplicate_letter",
                    "service letters must be unique within an office", letter=letter)
            seen_letters.setdefault(letter, i)
    known = set(seen_ids)
    counter_ids: set[str] = set()
    for i, c in items(data.get("counters")):
        cid = c.get("id")
        if isinstance(cid, str):
            if cid in counter_ids:
                add(f"counters.{i}.id", "duplicate_id", "counter ids must be unique", id=cid)
            counter_ids.add(cid)
        served = c.get("services")
        listed: set[str] = set()
        for j, sid in enumerate(served if isinstance(served, list) else []):
            if not isinstance(sid, str):
                continue
            if sid not in known:
                add(f"counters.{i}.services.{j}", "unknown_service",
                    f"counter serves unknown service {sid}", service=sid)
            elif sid in listed:
                add(f"counters.{i}.services.{j}", "duplicate_service",
                    f"counter lists service {sid} twice", service=sid)
            listed.add(sid)
    display = data.get("display")
    shown = display.get("services") if isinstance(display, dict) else None
    for j, sid in enumerate(shown if isinstance(shown, list) else []):
        if isinstance(sid, str) and sid not in known:
            add(f"display.services.{j}", "unknown_service",
                f"display shows unknown service {sid}", service=sid)
    return problems


def _zone_problem(data: dict[str, Any]) -> dict[str, Any] | None:
    """Office's zone check lets an unknown zone name escape as a KeyError
    (a 500): check it here first."""
    from zoneinfo import ZoneInfo

    zone_name = data.get("timezone")
    if not isinstance(zone_name, str):
        return None
    try:
        ZoneInfo(zone_name)
    except (KeyError, ValueError, OSError):
        return {"field": "timezone", "problem": f"unknown time zone {zone_name!r}",
                "type": "unknown_timezone"}
    return None


def validate_office(data: dict[str, Any]) -> Office:
    """The document as an Office, or validation_failed listing every
    problem {field, problem, type, ctx?} (field: dotted path, e.g.
    ``services.2.letter``)."""
    problems: list[dict[str, Any]] = []
    zone = _zone_problem(data)
    if zone is not None:
        problems.append(zone)
        data = {**data, "timezone": "Asia/Tokyo"}  # so the rest is still checked
    located = consistency_problems(data)
    try:
        office = Office.model_validate(data)
    except ValidationError as exc:
        found = [_problem(e) for e in exc.errors(include_url=False, include_input=False)]
        # The model's own cross-check names no field; `located` does.
        problems += [p for p in found if p["field"] or not located]
    else:
        if not problems:
            return office
    problems += [p for p in located if p not in problems]
    raise MadoguchiError("validation_failed", problems=problems)


# --- the stored configuration

def document(office: Office) -> dict[str, Any]:
    """The configuration as stored and exported (engine.configure's form)."""
    data: dict[str, Any] = json.loads(office.model_dump_json(by_alias=True))
    return data


async def stored(redis: Redis, app: AppContext, office: str) -> tuple[dict[str, Any] | None, int]:
    """(the stored document or None, its version) read straight from Redis:
    the engine's per-process cache may be a moment old."""
    keys = app.engine.keys(office)
    raw, version = await redis.mget(keys.config, keys.k("version"))
    return (json.loads(raw) if raw is not None else None), int(version or 0)


@contextlib.asynccontextmanager
async def office_lock(redis: Redis, key: str) -> AsyncIterator[None]:
    """One admin save per office at a time (across processes), so the
    version check, the diff for the audit log and the save see one state.
    Held for milliseconds; expires by itself if a process dies holding it."""
    token = secrets.token_hex(16)
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while not await redis.set(key, token, nx=True, px=LOCK_MS):
        if time.monotonic() > deadline:
            raise MadoguchiError("config_busy")
        await asyncio.sleep(0.02)  # another save of this office is under way
    try:
        yield
    finally:
        # Delete it only while it is still ours (it may have expired and
        # been taken by another save).
        async with redis.pipeline(transaction=True) as pipe:
            with contextlib.suppress(WatchError):
                await pipe.watch(key)
                if await pipe.get(key) == token.encode():
                    pipe.multi()
                    pipe.delete(key)
                    await pipe.execute()


def expected_version(request: web.Request) -> int | None:
    """The version the client loaded: If-Match ("7", W/"7" or 7) or ?version=."""
    raw = request.headers.get("If-Match") or request.query.get("version")
    if raw is None or raw.strip() == "*":
        return None
    text = raw.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise MadoguchiError("bad_request", "If-Match must be the configuration's version.")
    return int(text)


def etag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"', **NO_STORE}


async def save(request: web.Request, who: Principal, office: Office, *, action: str,
               expect: int | None, create_only: bool = False,
               details: dict[str, Any] | None = None) -> dict[str, Any]:
    """Stores a validated configuration: under the office's lock, checks the
    version, stores it in one atomic step and writes the audit entry."""
    app = ctx(request)
    redis = app.redis
    async with office_lock(redis, app.engine.keys(office.id).k("admin-lock")):
        old, version = await stored(redis, app, office.id)
        if create_only and old is not None:
            raise MadoguchiError("office_exists")
        if old is None and not is_admin(who):
            raise MadoguchiError("forbidden", "Only an administrator may create an office.")
        if expect is not None and expect != version:
            raise MadoguchiError("config_conflict", current_version=version, sent_version=expect)
        new = document(office)
        changes = audit.diff(old or {}, new)
        if old is not None and not changes:
            return {"office": office.id, "version": version, "changes": 0, "created": False,
                    "warnings": await capacity_warnings(app, office)}
        new_version = await app.engine.configure(office)
        created = old is None
        await audit.record(
            redis, app.settings.tenant, who, "office.create" if created else action, office.id,
            at=now(request), version=new_version,
            changes=None if created else changes,
            **({"services": len(office.services), "counters": len(office.counters)}
               if created else {}),
            **(details or {}))
    return {"office": office.id, "version": new_version, "changes": len(changes),
            "created": created, "warnings": await capacity_warnings(app, office)}


STATS_DAYS = 28  # walk-in demand for the feasibility check: the last four weeks


async def capacity_warnings(app: AppContext, office: Office) -> list[dict[str, Any]]:
    """Bookings the counters cannot keep (queue_server/feasibility.py), with
    walk-in demand from the last weeks' statistics. Warnings, never refusals."""
    today = local(app.engine.clock(), office.timezone).date()
    try:
        visits = await stats.visits(app.engine, office.id, today - timedelta(days=STATS_DAYS),
                                    today)
    except MadoguchiError as exc:  # a new office (an import preview): no statistics yet
        if exc.code != "unknown_office":
            raise
        visits = []
    peak = feasibility.walk_in_peak_per_hour(visits, office.timezone)
    return feasibility.booking_capacity_warnings(office, peak)


def as_office_id(raw: str | None) -> str | None:
    if raw is None:
        return None
    if not re.fullmatch(ID_PATTERN, raw):
        raise MadoguchiError("validation_failed", "Not an office id.", problems=[
            {"field": "id", "problem": "not an office id", "type": "id_format"}])
    return raw


def renamed(data: dict[str, Any], office: str) -> tuple[dict[str, Any], str | None]:
    """The document under `office`: (document, the id it came with when
    that differs, e.g. a copy of another ward office's set-up)."""
    source = data.get("id")
    if source == office:
        return data, None
    return {**data, "id": office}, source if isinstance(source, str) else None


# --- offices and their configuration

@routes.get("/api/v1/admin/offices", name="admin_offices")
async def admin_offices(request: web.Request) -> web.Response:
    who = await principal(request)
    require_manager(who)
    app = ctx(request)
    out = []
    for oid in await app.engine.office_ids():
        if not who.may_act_in(oid):
            continue
        doc, version = await stored(app.redis, app, oid)
        if doc is None:
            continue
        out.append({"id": oid, "names": doc.get("names", {}), "version": version,
                    "services": len(doc.get("services", [])),
                    "counters": len(doc.get("counters", []))})
    return json_response({"offices": out, "may_create": is_admin(who)})


@routes.post("/api/v1/admin/offices", name="admin_create_office")
async def create_office(request: web.Request) -> web.Response:
    who = await principal(request)
    who.require("admin", ALL_OFFICES)
    data = await read_document(request)
    target = as_office_id(request.query.get("id")) or data.get("id")
    source = None
    if isinstance(target, str):
        data, source = renamed(data, target)
    office = validate_office(data)
    result = await save(request, who, office, action="office.create", expect=None,
                        create_only=True, details={"copied_from": source} if source else None)
    return json_response(result, status=201)


@routes.get("/api/v1/admin/offices/{office}/config", name="admin_get_config")
async def get_config(request: web.Request) -> web.StreamResponse:
    office = office_id(request)
    who = await principal(request)
    who.require("manage_office", office)
    app = ctx(request)
    doc, version = await stored(app.redis, app, office)
    if doc is None:
        raise MadoguchiError("unknown_office")
    fmt = request.query.get("format")
    if fmt in ("json", "yaml"):
        name = f"madoguchi-{office}-v{version}.{fmt}"
        if fmt == "yaml":
            body = (f"# madoguchi: configuration of office {office}, version {version}\n"
                    + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100))
            kind = "application/yaml"
        else:
            body = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
            kind = "application/json"
        return web.Response(text=body, content_type=kind, headers={
            **etag(version), "Content-Disposition": f'attachment; filename="{name}"'})
    if fmt is not None:
        raise MadoguchiError("bad_request", "format is json or yaml.")
    defaults = {lang: {kind: sms_outbox.catalog(lang).get(kind, "") for kind in SMS_PLACEHOLDERS}
                for lang in SMS_LANGS}
    warnings = await capacity_warnings(app, Office.model_validate(doc))
    return json_response_with({"office": office, "version": version, "config": doc,
                               "warnings": warnings,
                               "sms_defaults": defaults,
                               "sms_placeholders": {k: list(v)
                                                    for k, v in SMS_PLACEHOLDERS.items()}},
                              etag(version))


def json_response_with(data: Any, headers: dict[str, str], status: int = 200) -> web.Response:
    response = json_response(data, status)
    response.headers.update(headers)
    return response


@routes.put("/api/v1/admin/offices/{office}/config", name="admin_put_config")
async def put_config(request: web.Request) -> web.Response:
    office = office_id(request)
    who = await principal(request)
    who.require("manage_office", office)
    expect = expected_version(request)
    data, source = renamed(await read_document(request), office)
    config = validate_office(data)
    action = "config.import" if source or request.content_type in YAML_TYPES else "config.update"
    details = {"imported_from": source} if source else None
    result = await save(request, who, config, action=action, expect=expect, details=details)
    return json_response_with(result, etag(result["version"]), 201 if result["created"] else 200)


@routes.post("/api/v1/admin/offices/{office}/config/diff", name="admin_diff_config")
async def diff_config(request: web.Request) -> web.Response:
    office = office_id(request)
    who = await principal(request)
    who.require("manage_office", office)
    data, source = renamed(await read_document(request), office)
    config = validate_office(data)
    app = ctx(request)
    old, version = await stored(app.redis, app, office)
    if old is None and not is_admin(who):
        raise MadoguchiError("unknown_office")
    changes = audit.diff(old or {}, document(config))
    return json_response({"office": office, "version": version, "exists": old is not None,
                          "imported_from": source, "changes": changes,
                          "warnings": await capacity_warnings(app, config)})


# --- device tokens

def _may_see_token(who: Principal, record: dict[str, Any]) -> bool:
    if is_admin(who):
        return True
    return record.get("office") != ALL_OFFICES and who.may_act_in(str(record.get("office")))


def _token_view(record: dict[str, Any]) -> dict[str, Any]:
    return {"id": record["id"], "role": record.get("role"), "office": record.get("office"),
            "label": record.get("label", ""), "created": record.get("created")}


@routes.get("/api/v1/admin/tokens", name="admin_tokens")
async def list_tokens(request: web.Request) -> web.Response:
    who = await principal(request)
    require_manager(who)
    office = request.query.get("office")
    found = [_token_view(r) for r in await ctx(request).tokens.list() if _may_see_token(who, r)
             and (office is None or r.get("office") == office)]
    found.sort(key=lambda r: (str(r["office"]), -(r["created"] or 0)))
    return json_response({"tokens": found})


@routes.post("/api/v1/admin/tokens", name="admin_create_token")
async def create_token(request: web.Request) -> web.Response:
    who = await principal(request)
    require_manager(who)  # who asks, before what they send
    body = await parse(request, TokenRequest)
    if body.role == "admin" or body.office == ALL_OFFICES:
        who.require("admin", ALL_OFFICES)
    else:
        who.require("manage_office", body.office)
    app = ctx(request)
    if body.office != ALL_OFFICES:
        await app.engine.office(body.office)  # unknown_office
    token, token_id = await app.tokens.create(body.role, body.office, body.label.strip())
    await audit.record(app.redis, app.settings.tenant, who, "token.create", body.office,
                       at=now(request), token={"id": token_id, "role": body.role,
                                               "label": body.label.strip()})
    return json_response_with({"token": token, "id": token_id, "role": body.role,
                               "office": body.office, "label": body.label.strip()},
                              NO_STORE, 201)


@routes.delete("/api/v1/admin/tokens/{token_id}", name="admin_revoke_token")
async def revoke_token(request: web.Request) -> web.Response:
    who = await principal(request)
    require_manager(who)
    token_id = request.match_info["token_id"]
    if not TOKEN_ID.fullmatch(token_id):
        raise MadoguchiError("unknown_token")
    app = ctx(request)
    record = next((r for r in await app.tokens.list() if r["id"] == token_id), None)
    if record is None or not _may_see_token(who, record):
        raise MadoguchiError("unknown_token")
    if record.get("role") == "admin":
        who.require("admin", ALL_OFFICES)
    else:
        who.require("manage_office", str(record.get("office")))
    if not await app.tokens.revoke(token_id):
        raise MadoguchiError("unknown_token")
    await audit.record(app.redis, app.settings.tenant, who, "token.revoke",
                       str(record.get("office")), at=now(request),
                       token={"id": token_id, "role": record.get("role"),
                              "label": record.get("label", "")})
    return json_response({"revoked": token_id})


# --- audit log and accounts

@routes.get("/api/v1/admin/audit", name="admin_audit")
async def read_audit(request: web.Request) -> web.Response:
    who = await principal(request)
    require_manager(who)
    office = request.query.get("office") or None
    if office is not None:
        who.require("manage_office", office)
    try:
        limit = min(500, max(1, int(request.query.get("limit", "50"))))
    except ValueError as exc:
        raise MadoguchiError("bad_request", "limit is a number 1-500.") from exc
    before = request.query.get("before") or None
    if before is not None and not re.fullmatch(r"\d{1,20}-\d{1,20}", before):
        raise MadoguchiError("bad_request", "before is an entry id.")

    def visible(entry_office: str) -> bool:
        if office is not None:
            return entry_office == office
        return is_admin(who) or (entry_office != ALL_OFFICES and who.may_act_in(entry_office))

    entries, more = await audit.read(ctx(request).redis, ctx(request).settings.tenant,
                                     visible=visible, limit=limit, before=before)
    return json_response({"entries": entries, "next_before": more})


@routes.get("/api/v1/admin/users", name="admin_users")
async def list_users(request: web.Request) -> web.Response:
    who = await principal(request)
    who.require("admin", ALL_OFFICES)
    users = await sessions.state(request).users.list()
    return json_response({"users": [{**u.public(), "disabled": u.disabled, "log_id": u.log_id}
                                  for u in users]})

