--[[
  A sender takes up to N due messages and leases them. A lease that runs out
  (the sender crashed or hung) puts its message back in line first, so a
  message is never lost; each claim counts as an attempt, so a message that
  keeps killing its sender ends `failed` instead of looping. Only one sender
  can hold a message: two senders never send the same message.

  KEYS[1] sms:due of the office
  ARGV[1..5] see includes.lua
  ARGV[6] how many messages at most
  ARGV[7] lease, ms
  ARGV[8] max attempts

  Touches: sms:due, sms:inflight, sms:m:<id>
  Returns {"ok", "messages": [{id, to, kind, lang, params, ref, attempts,
  created_at}], "requeued": n, "expired": n, "failed": n}
  ("messages" is {} when empty: cjson writes an empty list as an object).
]]
local limit, lease, max_attempts = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local due_key, flight_key = P .. "sms:due", P .. "sms:inflight"
local requeued, expired, failed = 0, 0, 0

-- 1. Leases that ran out.
for _, id in ipairs(redis.call("ZRANGEBYSCORE", flight_key, "-inf", NOW, "LIMIT", 0, 100)) do
  redis.call("ZREM", flight_key, id)
  local mkey = P .. "sms:m:" .. id
  local st = redis.call("HMGET", mkey, "state", "attempts")
  if st[1] == "sending" then
    if tonumber(st[2]) >= max_attempts then
      redis.call("HSET", mkey, "state", "failed", "failed_at", NOW, "error", "lease_expired")
      failed = failed + 1
    else
      redis.call("HSET", mkey, "state", "queued", "not_before", NOW, "error", "lease_expired")
      redis.call("ZADD", due_key, NOW, id)
      requeued = requeued + 1
    end
  end
end

-- 2. Due messages, oldest first.
local out = {}
local ids = redis.call("ZRANGEBYSCORE", due_key, "-inf", NOW, "LIMIT", 0, limit)
for _, id in ipairs(ids) do
  redis.call("ZREM", due_key, id)
  local m = hgetall(P .. "sms:m:" .. id)
  if m ~= nil and m["state"] == "queued" then
    local until_ms = tonumber(m["expires_at"]) or 0
    if until_ms > 0 and until_ms <= NOW then
      redis.call("HSET", P .. "sms:m:" .. id, "state", "expired", "failed_at", NOW)
      expired = expired + 1
    else
      local attempts = redis.call("HINCRBY", P .. "sms:m:" .. id, "attempts", 1)
      redis.call("HSET", P .. "sms:m:" .. id, "state", "sending", "leased_until", NOW + lease)
      redis.call("ZADD", flight_key, NOW + lease, id)
      out[#out + 1] = {id = id, to = m["to"], kind = m["kind"], lang = m["lang"],
        params = m["params"], ref = m["ref"], attempts = attempts,
        created_at = tonumber(m["created_at"])}
    end
  end
end
return ok({messages = out, requeued = requeued, expired = expired, failed = failed})
