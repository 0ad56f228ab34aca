--[[
  The retention job: delete bookings whose retention period has passed
  (slot end + the office's retention days), with every index that names
  them. Run by every server process every minute; idempotent. What stays
  is what statistics need and holds no personal data (the event stream).

  KEYS[1] events stream of the office
  ARGV[1..5] see includes.lua
  ARGV[6] at most this many bookings per run (the rest next run)

  Touches: bexpire, b:<id>, btok:<hash>, bcode:<code>, bphone:<phone>,
  bslots, sms:m:<id> of the booking's messages
  Returns {"ok", "purged": n}
]]
local due = redis.call("ZRANGEBYSCORE", P .. "bexpire", "-inf", NOW, "LIMIT", 0, tonumber(ARGV[6]))
for _, id in ipairs(due) do
  local b = hgetall(P .. "b:" .. id)
  if b then
    redis.call("SREM", P .. "bphone:" .. b["phone"], id)
    if redis.call("GET", P .. "bcode:" .. b["code"]) == id then
      redis.call("DEL", P .. "bcode:" .. b["code"])
    end
    if b["token"] then redis.call("DEL", P .. "btok:" .. b["token"]) end
    for _, field in ipairs({"sms", "reminder", "cancel_sms"}) do
      local m = b[field]
      if m and m ~= "" then
        redis.call("DEL", P .. "sms:m:" .. m)
        redis.call("ZREM", P .. "sms:due", m)
        redis.call("ZREM", P .. "sms:log", m)
      end
    end
    redis.call("DEL", P .. "b:" .. id)
  end
  redis.call("ZREM", P .. "bslots", id)
  redis.call("ZREM", P .. "bexpire", id)
end
return ok({purged = #due})
