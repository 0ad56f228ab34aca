"""Process settings, read once from the environment (documented in README)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


@dataclass(frozen=True)
class Settings:
    redis_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    public_base_url: str = "http://127.0.0.1:8080"
    tenant: str = "kitakyushu"
    var_dir: Path = field(default_factory=lambda: Path("var"))
    secret_key: str = ""
    max_body_bytes: int = 64 * 1024
    # A connection must send a whole request head within this (it is also how
    # long an idle keep-alive connection stays open), and a request's body
    # must have arrived this long after its head.
    header_timeout_seconds: float = 60.0
    body_timeout_seconds: float = 60.0
    stream_maxlen: int = 10_000
    log_level: str = "INFO"
    redis_max_connections: int = 200
    # How long a Redis command may take before the request fails (a state
    # change then answers outcome_unknown). Above the event hub's 2 s XREAD.
    redis_timeout_seconds: float = 5.0
    # SMS through Twilio (ai_phone.sms); sending is off unless SID, token and
    # sender are all set. The auth token also checks Twilio's webhook signatures.
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from: str = ""
    twilio_api_base: str = ""  # tests: a local fake of api.twilio.com
    sms_limit_phone_day: int = 10
    sms_limit_office_day: int = 2000
    sms_poll_ms: int = 2000
    # Development only (never in production): the server's clock read from
    # this file, written by bench/day_simulation.py; refused unless
    # `development` is also set (queue_server.clock.configured_clock).
    simulated_clock_file: str = ""
    development: bool = False

    @property
    def sms_enabled(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token and self.twilio_from)

    @classmethod
    def from_env(cls) -> Settings:
        host = os.environ.get("MADOGUCHI_HOST", "127.0.0.1")
        port = _int("MADOGUCHI_PORT", 8080)
        return cls(
            redis_url=os.environ.get("REDIS_URL") or None,
            host=host,
            port=port,
            public_base_url=os.environ.get(
                "MADOGUCHI_PUBLIC_BASE_URL", f"http://{host}:{port}"
            ).rstrip("/"),
            tenant=os.environ.get("MADOGUCHI_TENANT", "kitakyushu"),
            var_dir=Path(os.environ.get("MADOGUCHI_VAR_DIR", "var")),
            secret_key=os.environ.get("MADOGUCHI_SECRET_KEY", ""),
            max_body_bytes=_int("MADOGUCHI_MAX_BODY_BYTES", 64 * 1024),
            header_timeout_seconds=_float("MADOGUCHI_HEADER_TIMEOUT_SECONDS", 60.0),
            body_timeout_seconds=_float("MADOGUCHI_BODY_TIMEOUT_SECONDS", 60.0),
            stream_maxlen=_int("MADOGUCHI_STREAM_MAXLEN", 10_000),
            log_level=os.environ.get("MADOGUCHI_LOG_LEVEL", "INFO"),
            redis_max_connections=_int("MADOGUCHI_REDIS_MAX_CONNECTIONS", 200),
            redis_timeout_seconds=float(os.environ.get("MADOGUCHI_REDIS_TIMEOUT") or 5.0),
            twilio_account_sid=os.environ.get("MADOGUCHI_TWILIO_ACCOUNT_SID", ""),
            twilio_auth_token=os.environ.get("MADOGUCHI_TWILIO_AUTH_TOKEN", ""),
            twilio_from=os.environ.get("MADOGUCHI_TWILIO_FROM", ""),
            twilio_api_base=os.environ.get("MADOGUCHI_TWILIO_API_BASE", "").rstrip("/"),
            sms_limit_phone_day=_int("MADOGUCHI_SMS_LIMIT_PHONE_DAY", 10),
            sms_limit_office_day=_int("MADOGUCHI_SMS_LIMIT_OFFICE_DAY", 2000),
            sms_poll_ms=_int("MADOGUCHI_SMS_POLL_MS", 2000),
            simulated_clock_file=os.environ.get("MADOGUCHI_SIMULATED_CLOCK_FILE", ""),
            development=os.environ.get("MADOGUCHI_DEVELOPMENT", "") == "1",
        )
