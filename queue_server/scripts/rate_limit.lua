--[[
  Count one more request of a kind from one client in the current hour and
  refuse past the limit (for what strangers can trigger without a booking
  script of its own, e.g. joining today's queue).

  KEYS[1] events stream of the office
  ARGV[1..5] see includes.lua
  ARGV[6] what and who, e.g. "join:203.0.113.9"
  ARGV[7] limit per hour

  Returns {"ok", "count"} | {"error": rate_limited}
]]
local key = P .. "rl:" .. ARGV[6] .. ":" .. math.floor(NOW / 3600000)
local n = redis.call("INCR", key)
if n == 1 then redis.call("EXPIRE", key, 3600) end
if n > tonumber(ARGV[7]) then return fail("rate_limited") end
return ok({count = n})
