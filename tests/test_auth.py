"""Device tokens: hashed at rest, scoped, revocable; the per-process cache
bounds how long another process may still accept a revoked token."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from queue_server.auth import CACHE_SECONDS, Tokens
from queue_server.errors import MadoguchiError
from queue_server.keys import token_index


class Tick:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_only_the_hash_is_stored(redis: Redis, tenant: str) -> None:
    token, _ = await Tokens(redis, tenant).create("kiosk", "kokurakita")
    keys = [k.decode() async for k in redis.scan_iter(f"mg:{{{tenant}}}:*")]
    values = [await redis.get(k) for k in keys if await redis.type(k) == b"string"]
    assert keys and all(token not in k and token[3:] not in k for k in keys)
    assert all(token.encode() not in v for v in values)
    assert await redis.scard(token_index(tenant)) == 1


async def test_revocation_reaches_other_processes_within_the_cache_time(
    redis: Redis, tenant: str
) -> None:
    clock = Tick()
    here, elsewhere = Tokens(redis, tenant, clock=clock), Tokens(redis, tenant, clock=clock)
    token, token_id = await here.create("staff", "kokurakita")
    assert (await elsewhere.authenticate(token)).role == "staff"  # now cached there
    assert await here.revoke(token_id)
    with pytest.raises(MadoguchiError) as refused:
        await here.authenticate(token)  # the revoking process: at once
    assert refused.value.code == "unauthorized"
    assert (await elsewhere.authenticate(token)).role == "staff"  # still cached
    clock.now += CACHE_SECONDS
    with pytest.raises(MadoguchiError):
        await elsewhere.authenticate(token)


@pytest.mark.parametrize("bad", ["", "mg_", "mg_" + "x" * 200, "Bearer mg_abc", "notatoken"])
async def test_malformed_tokens_are_refused(redis: Redis, tenant: str, bad: str) -> None:
    with pytest.raises(MadoguchiError) as refused:
        await Tokens(redis, tenant).authenticate(bad)
    assert refused.value.code == "unauthorized"
