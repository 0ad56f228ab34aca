"""The SMS outbox: messages waiting to go out, per office, in Redis.

Every change is one Lua script (`sms_enqueue`, `sms_claim`, `sms_result`);
`sms_enqueue()` also lives in ``scripts/includes_sms.lua`` so a booking
script queues its confirmation in the same atomic step (`SmsOutbox.argv`
builds the arguments it needs). A sender (``ai_phone.sms``) claims due
messages under a lease, sends them and reports back; a lease that runs out
puts the message back in line, so a crashed sender loses nothing and two
senders never hold the same message.

Texts come from the catalogs in ``queue_server/messages/sms.<lang>.json``,
never from code. Nothing here talks to Twilio.
"""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from .clock import Clock, iso, iso_ms, system_clock
from .errors import MadoguchiError
from .keys import OfficeKeys
from .phones import is_japanese_mobile, mask, parse_japanese_phone
from .scripts import Scripts

__all__ = [
    "KINDS",
    "SMS_ARGC",
    "SmsLimits",
    "SmsMessage",
    "SmsOutbox",
    "catalog",
    "is_japanese_mobile",
    "languages",
    "mask",
    "parse_japanese_phone",
    "render",
    "segments",
]

KINDS = ("confirmation", "reminder", "cancellation", "come_now", "near")
# Replies to an inbound SMS (ai_phone.sms_web); same catalogs.
REPLY_KINDS = ("inbound_cancelled", "inbound_nothing", "inbound_unavailable")
SMS_ARGC = 11  # values per message in a script's ARGV (see includes_sms.lua)
# Retry after failed attempt n waits BACKOFF_SECONDS[n-1] (the last repeats).
BACKOFF_SECONDS = (30, 120, 600, 1800, 3600)
MAX_ATTEMPTS = 6
LEASE_SECONDS = 60.0
RETENTION_SECONDS = 30 * 24 * 3600  # personal data: 30 days (DESIGN §4)
# "Your turn is near" is useless an hour late: such messages expire unsent.
DEFAULT_EXPIRY_SECONDS = {"come_now": 20 * 60, "near": 30 * 60}
SID_TTL_SECONDS = 7 * 24 * 3600
MAX_PARAMS_BYTES = 2048
CATALOG_DIR = Path(__file__).parent / "messages"
_LANG_ALIASES = {"zh": "zh-Hans", "zh-cn": "zh-Hans", "zh-hans": "zh-Hans", "ja-jp": "ja",
                 "ko-kr": "ko", "en-us": "en", "en-gb": "en", "vi-vn": "vi",
                 "ja-easy": "ja-easy", "easy": "ja-easy"}


# -- catalogs -----------------------------------------------------------


@cache
def languages() -> tuple[str, ...]:
    return tuple(sorted(p.name[4:-5] for p in CATALOG_DIR.glob("sms.*.json")))


def normalise_lang(lang: str | None) -> str:
    """A catalog language for `lang`; Japanese when there is none."""
    if not lang:
        return "ja"
    if lang in languages():
        return lang
    alias = _LANG_ALIASES.get(lang.lower())
    if alias in languages():
        return alias
    base = lang.split("-")[0].lower()
    return base if base in languages() else "ja"


@cache
def catalog(lang: str) -> dict[str, Any]:
    path = CATALOG_DIR / f"sms.{normalise_lang(lang)}.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


class _Values(dict[str, str]):
    def __missing__(self, key: str) -> str:  # an unknown placeholder renders empty
        return ""


def _format_slot(value: str, cat: Mapping[str, Any]) -> str:
    """An ISO 8601 slot start in the catalog's own date format; any other
    text is taken as already formatted."""
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return value
    months = cat.get("_months") or [str(m) for m in range(1, 13)]
    return str(cat["_slot"]).format(
        month=when.month, day=when.day, weekday=cat["_weekdays"][when.weekday()],
        month_name=months[when.month - 1], time=f"{when.hour}:{when.minute:02d}",
    )


def render(kind: str, lang: str, params: Mapping[str, Any], *, base_url: str = "",
           template: str | None = None) -> str:
    """The text of one message. Falls back to Japanese for an unknown
    language; a relative `link` ("/b/…") gets the public base URL.
    `template`: the office's own text for this kind and language (admin
    pages), used instead of the catalog's; dates and defaults still come
    from the catalog of `lang`."""
    cat = catalog(lang)
    template = template or cat.get(kind) or catalog("ja").get(kind)
    if not isinstance(template, str):
        raise MadoguchiError("invalid_sms", f"no SMS text for kind {kind!r}")
    values = _Values({k: str(v) for k, v in (cat.get("_defaults") or {}).items()})
    for key, value in params.items():
        if value is None or value == "":
            continue
        values[key] = str(value)
    if params.get("slot"):
        values["slot"] = _format_slot(str(params["slot"]), cat)
    link = values.get("link", "")
    if link.startswith("/"):
        values["link"] = base_url.rstrip("/") + link
    return template.format_map(values)


# GSM 03.38: the basic set (one septet) and the extension table (two).
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXT = set("^{}\\[~]|€\f")


def segments(text: str) -> tuple[str, int, int]:
    """(encoding, length in its units, number of SMS segments) of a text:
    GSM-7 carries 160 per single message (153 per part), UCS-2 70 (67)."""
    if all(c in _GSM_BASIC or c in _GSM_EXT for c in text):
        units = sum(2 if c in _GSM_EXT else 1 for c in text)
        return "GSM-7", units, 1 if units <= 160 else math.ceil(units / 153)
    units = len(text.encode("utf-16-le")) // 2
    return "UCS-2", units, 1 if units <= 70 else math.ceil(units / 67)


# -- the outbox ---------------------------------------------------------


@dataclass(frozen=True)
class SmsLimits:
    """Messages a day (office time zone) one phone number may be sent by
    one office, and one office may send; 0 = no limit."""

    phone_per_day: int = 10
    office_per_day: int = 2000


@dataclass(frozen=True)
class SmsMessage:
    """A claimed message, as the sender needs it. `attempt` is the lease:
    report the outcome with it."""

    id: str
    office: str
    to: str
    kind: str
    lang: str
    params: dict[str, Any]
    ref: str
    attempt: int
    created_at: float


def sid_key(tenant: str, sid: str) -> str:
    """Twilio SIDs are global: their index to office + message is a tenant key."""
    return f"mg:{{{tenant}}}:sms-sid:{sid}"


def _ms(ts: float | None) -> str:
    return "" if ts is None else str(int(ts * 1000))


class SmsOutbox:
    def __init__(
        self,
        redis: Redis,
        tenant: str,
        clock: Clock = system_clock,
        *,
        limits: SmsLimits | None = None,
        timezone: str = "Asia/Tokyo",
        max_attempts: int = MAX_ATTEMPTS,
        backoff_seconds: tuple[float, ...] = BACKOFF_SECONDS,
        retention_seconds: int = RETENTION_SECONDS,
    ) -> None:
        self.redis = redis
        self.tenant = tenant
        self.clock = clock
        self.limits = limits or SmsLimits()
        self.timezone = timezone
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.retention_seconds = retention_seconds
        self.scripts = Scripts(redis)

    def keys(self, office: str) -> OfficeKeys:
        return OfficeKeys(self.tenant, office)

    async def _run(self, office: str, script: str, *args: Any) -> dict[str, Any]:
        now = self.clock()
        keys = self.keys(office)
        base = [keys.prefix, office, int(now * 1000), iso(now, self.timezone), 10_000]
        result = await self.scripts.run(script, [keys.k("sms:due")], [*base, *args])
        if "error" in result:
            code = result.pop("error")
            result.pop("ok", None)
            raise MadoguchiError(code, **result)
        return result

    # -- queueing ---------------------------------------------------------

    def argv(
        self,
        to: str,
        kind: str,
        lang: str,
        params: Mapping[str, Any],
        ref: str,
        *,
        not_before: float | None = None,
        expires_at: float | None = None,
        retention_seconds: int | None = None,
    ) -> list[str]:
        """The SMS_ARGC script arguments of one message, for a script that
        calls sms_enqueue() itself (see includes_sms.lua). A number that
        cannot receive SMS (landline, foreign) gives an empty message, which
        sms_from_argv() reads as "no SMS"."""
        if kind not in KINDS:
            raise MadoguchiError("invalid_sms", f"unknown SMS kind {kind!r}")
        try:
            e164 = parse_japanese_phone(to)
        except MadoguchiError:
            return [""] * SMS_ARGC
        if not is_japanese_mobile(e164):
            return [""] * SMS_ARGC
        body = json.dumps(dict(params), ensure_ascii=False, separators=(",", ":"))
        if len(body.encode()) > MAX_PARAMS_BYTES:
            raise MadoguchiError("invalid_sms", "SMS parameters too large")
        if expires_at is None and kind in DEFAULT_EXPIRY_SECONDS:
            expires_at = (not_before or self.clock()) + DEFAULT_EXPIRY_SECONDS[kind]
        return [
            secrets.token_urlsafe(12), e164, kind, normalise_lang(lang), body, ref,
            _ms(not_before), _ms(expires_at), str(self.limits.phone_per_day),
            str(self.limits.office_per_day),
            str(self.retention_seconds if retention_seconds is None else retention_seconds),
        ]

    async def enqueue(
        self,
        office: str,
        to: str,
        kind: str,
        lang: str,
        params: Mapping[str, Any],
        ref: str,
        *,
        not_before: float | None = None,
        expires_at: float | None = None,
    ) -> dict[str, Any]:
        """Queue one message. Raises invalid_phone (not a Japanese number),
        not_mobile (landline: no SMS), sms_limit_phone / sms_limit_office (429)."""
        args = self.argv(to, kind, lang, params, ref, not_before=not_before,
                         expires_at=expires_at)
        if not args[0]:  # no SMS for this number: say why
            parse_japanese_phone(to)  # raises invalid_phone when it is no number at all
            raise MadoguchiError("not_mobile")
        result = await self._run(office, "sms_enqueue", *args)
        return self._view(result["message"])

    # -- the sender's side ------------------------------------------------

    async def claim(self, office: str, n: int = 10,
                    lease_seconds: float = LEASE_SECONDS) -> list[SmsMessage]:
        """Take up to `n` due messages, leased for `lease_seconds`."""
        result = await self._run(office, "sms_claim", n, int(lease_seconds * 1000),
                                 self.max_attempts)
        return [
            SmsMessage(
                id=m["id"], office=office, to=m["to"], kind=m["kind"], lang=m["lang"],
                params=json.loads(m["params"] or "{}"), ref=m["ref"],
                attempt=int(m["attempts"]), created_at=m["created_at"] / 1000,
            )
            for m in (result["messages"] or [])  # cjson writes [] as {}
        ]

    async def _result(self, office: str, action: str, msg_id: str, *, attempt: int | None = None,
                      sid: str = "", error: str = "", status: str = "") -> dict[str, Any]:
        backoff = ",".join(str(int(s * 1000)) for s in self.backoff_seconds)
        result = await self._run(
            office, "sms_result", action, msg_id, "" if attempt is None else attempt, sid,
            error[:200], self.max_attempts, backoff, status,
        )
        view = self._view(result["message"])
        view["changed"], view["stale"] = result["changed"], result["stale"]
        return view

    async def sent(self, office: str, msg_id: str, sid: str,
                   attempt: int | None = None) -> dict[str, Any]:
        """Twilio took the message: record its SID (and index the SID first,
        so a delivery report that overtakes this call still finds it)."""
        index = json.dumps({"office": office, "id": msg_id})
        await self.redis.set(sid_key(self.tenant, sid), index, ex=SID_TTL_SECONDS)
        return await self._result(office, "sent", msg_id, attempt=attempt, sid=sid)

    async def failed_attempt(self, office: str, msg_id: str, error: str,
                             attempt: int | None = None, *,
                             permanent: bool = False) -> dict[str, Any]:
        """An attempt failed: queue a retry after back-off, or mark the
        message `failed` (permanent error, or no attempts left). `error` is
        shown to staff: no personal data in it."""
        action = "fail" if permanent else "retry"
        return await self._result(office, action, msg_id, attempt=attempt, error=error)

    async def status_callback(self, sid: str, status: str,
                              error_code: str = "") -> dict[str, Any] | None:
        """Twilio's delivery report. None when the SID is not ours (or too old)."""
        raw = await self.redis.get(sid_key(self.tenant, sid))
        if raw is None:
            return None
        where = json.loads(raw)
        try:
            return await self._result(where["office"], "status", where["id"], sid=sid,
                                      error=error_code, status=status)
        except MadoguchiError as exc:
            if exc.code == "unknown_sms":  # its record expired
                return None
            raise

    async def withdraw(self, office: str, msg_id: str) -> bool:
        """Take back a message that has not gone out; False if it already
        went (or is going) out. Scripts call sms_withdraw() themselves."""
        return bool((await self._result(office, "withdraw", msg_id))["changed"])

    # -- reads --------------------------------------------------------------

    async def get(self, office: str, msg_id: str) -> dict[str, Any] | None:
        """The whole record (with the phone number): for the server only."""
        raw = await self.redis.hgetall(self.keys(office).k(f"sms:m:{msg_id}"))
        if not raw:
            return None
        return {_s(k): _s(v) for k, v in raw.items()}

    async def list(self, office: str, state: str | None = None, limit: int = 100,
                   *, ref: str | None = None) -> list[dict[str, Any]]:
        """The latest messages of the office, newest first, for staff: the
        phone masked to its last 4 digits and no link (it is a capability)."""
        keys = self.keys(office)
        ids = [_s(i) for i in await self.redis.zrevrange(keys.k("sms:log"), 0, 1999)]
        out: list[dict[str, Any]] = []
        gone: list[str] = []
        for start in range(0, len(ids), 200):
            chunk = ids[start:start + 200]
            async with self.redis.pipeline(transaction=False) as pipe:
                for msg_id in chunk:
                    pipe.hgetall(keys.k(f"sms:m:{msg_id}"))
                records = await pipe.execute()
            for msg_id, raw in zip(chunk, records, strict=True):
                if not raw:
                    gone.append(msg_id)
                    continue
                m = {_s(k): _s(v) for k, v in raw.items()}
                if (state is None or m.get("state") == state) and (
                        ref is None or m.get("ref") == ref):
                    out.append(self._staff_view(m))
                if len(out) >= limit:
                    break
            if len(out) >= limit:
                break
        if gone:
            await self.redis.zrem(keys.k("sms:log"), *gone)
        return out

    def _staff_view(self, m: dict[str, str]) -> dict[str, Any]:
        tz = self.timezone
        params = json.loads(m.get("params") or "{}")
        params.pop("link", None)
        return {
            "id": m["id"], "to": mask(m.get("to", "")), "kind": m.get("kind"),
            "lang": m.get("lang"), "ref": m.get("ref"), "state": m.get("state"),
            "attempts": int(m.get("attempts") or 0), "params": params,
            "created_at": iso_ms(m.get("created_at"), tz),
            "not_before": iso_ms(m.get("not_before"), tz),
            "sent_at": iso_ms(m.get("sent_at"), tz),
            "status_at": iso_ms(m.get("status_at"), tz),
            "sid": m.get("sid") or None, "error": m.get("error") or None,
            "error_code": m.get("error_code") or None,
        }

    def _view(self, v: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": v["id"], "kind": v["kind"], "ref": v["ref"], "state": v["state"],
            "attempts": v["attempts"],
            "not_before": iso_ms(v["not_before"], self.timezone),
            "sid": v.get("sid") or None, "error": v.get("error") or None,
        }


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
