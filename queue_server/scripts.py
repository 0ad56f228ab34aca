"""Loads the Lua scripts (one file per atomic operation) and runs them.

Each script is prefixed with ``includes.lua`` and registered once per
connection pool; redis-py sends EVALSHA and falls back to EVAL after a
server restart (NOSCRIPT)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

SCRIPT_NAMES = (
    "issue_ticket",
    "call_next",
    "recall",
    "start",
    "finish",
    "no_show",
    "park",
    "transfer",
    "resume",
    "rejoin",
    "cancel",
    "set_counter_state",
    "apply_config",
    "ticket_view",
    "office_status",
)


@cache
def source(name: str) -> str:
    folder = Path(__file__).parent / "scripts"
    return (folder / "includes.lua").read_text() + "\n" + (folder / f"{name}.lua").read_text()


class Scripts:
    def __init__(self, redis: Redis) -> None:
        self._scripts: dict[str, AsyncScript] = {
            name: redis.register_script(source(name)) for name in SCRIPT_NAMES
        }

    async def run(self, name: str, keys: list[str], args: list[Any]) -> dict[str, Any]:
        raw = await self._scripts[name](keys=keys, args=args)
        return json.loads(raw)
