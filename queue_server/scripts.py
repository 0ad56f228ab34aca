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

FOLDER = Path(__file__).parent / "scripts"
# Every scripts/*.lua is an operation, except the includes*.lua files, which
# are prepended (in name order) to each of them.
INCLUDES = tuple(sorted(FOLDER.glob("includes*.lua")))
SCRIPT_NAMES = tuple(
    sorted(p.stem for p in FOLDER.glob("*.lua") if not p.stem.startswith("includes"))
)


@cache
def source(name: str) -> str:
    # The operation becomes a function so includes_idempotency.lua can run it
    # between looking up a key and recording its outcome.
    return "\n".join([*(f.read_text() for f in INCLUDES),
                      "local function operation()", (FOLDER / f"{name}.lua").read_text(), "end",
                      "return idempotent(operation)"])


class Scripts:
    def __init__(self, redis: Redis) -> None:
        self._scripts: dict[str, AsyncScript] = {
            name: redis.register_script(source(name)) for name in SCRIPT_NAMES
        }

    async def run(self, name: str, keys: list[str], args: list[Any]) -> dict[str, Any]:
        raw = await self._scripts[name](keys=keys, args=args)
        return json.loads(raw)
