--[[
  Read a booking by the hash of its manage token, or by id. Read-only; the
  caller masks personal data as its audience requires.

  KEYS[1] events stream of the office
  ARGV[1..5] see includes.lua (ARGV[3..5] unused)
  ARGV[6] token hash ("" when reading by id)
  ARGV[7] booking id ("" when reading by token)

  Returns {"ok", "booking"} | {"error": unknown_booking}
]]
local id = ARGV[7]
if ARGV[6] ~= "" then id = redis.call("GET", P .. "btok:" .. ARGV[6]) end
if not id then return fail("unknown_booking") end
local b = hgetall(P .. "b:" .. id)
if b == nil then return fail("unknown_booking") end
return ok({booking = booking_out(b)})
