--[[
  Replace an office's configuration in one step: the JSON document for the
  API, plus the small hashes the other scripts read. Counter run-time fields
  (state, current ticket) and each service's learned average are kept.

  KEYS[1] events stream of the office
  ARGV[1..5] see includes.lua
  ARGV[6] the office document (validated JSON)
  ARGV[7] JSON {"services": [{id, letter, name, walk_in, max_wait_ms,
          expected_ms, early_call}], "counters": [{id, name, services: "a,b", order}],
          "utc_offset_ms": the zone's offset (the forecast's local midnight)}

  Touches: config, services, counters, svc:<id>, ctr:<id>, version
  Returns {"ok", "version"}
]]
local doc, mirror = ARGV[6], cjson.decode(ARGV[7])
redis.call("SET", P .. "config", doc)

local function sync(setkey, prefix, items, write)
  local keep = {}
  for _, it in ipairs(items) do keep[it.id] = true end
  for _, old in ipairs(redis.call("SMEMBERS", setkey)) do
    if not keep[old] then
      redis.call("SREM", setkey, old)
      redis.call("DEL", P .. prefix .. old)
    end
  end
  for _, it in ipairs(items) do
    redis.call("SADD", setkey, it.id)
    write(P .. prefix .. it.id, it)
  end
end

sync(P .. "services", "svc:", mirror.services, function(key, s)
  redis.call("HSET", key, "letter", s.letter, "name", s.name, "walk_in", s.walk_in,
    "max_wait_ms", s.max_wait_ms, "expected_ms", s.expected_ms,
    "early_call", s.early_call or "at_slot")
  redis.call("HSETNX", key, "avg_ms", s.expected_ms)
end)
sync(P .. "counters", "ctr:", mirror.counters, function(key, c)
  redis.call("HSET", key, "name", c.name, "services", c.services, "order", c.order)
  redis.call("HSETNX", key, "state", "closed")
  redis.call("HSETNX", key, "current", "")
end)
redis.call("SET", P .. "utc_offset", mirror.utc_offset_ms or 0)
local version = redis.call("INCR", P .. "version")
local eid = emit("config.changed", nil, nil, {version = version})
return ok({version = version, event = eid})
