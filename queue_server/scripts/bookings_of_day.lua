--[[
  Every booking of one day in slot order, whatever its status (booked,
  checked_in, cancelled, no_show): the staff's list. Read-only.

  KEYS[1] events stream of the office
  ARGV[1..5] see includes.lua (ARGV[3..5] unused)
  ARGV[6] day, YYYYMMDD

  Returns {"ok", "bookings": [...]}
]]
local out = {}
for _, id in ipairs(redis.call("ZRANGE", P .. "bday:" .. ARGV[6], 0, -1)) do
  local b = hgetall(P .. "b:" .. id)
  if b then out[#out + 1] = booking_out(b) end
end
return ok({bookings = out})
