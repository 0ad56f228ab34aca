--[[
  Mark bookings whose check-in window has closed as no-shows (run every
  minute by each server process; idempotent).

  KEYS[1] events stream of the office
  ARGV[1..5] see includes.lua
  ARGV[6] check-in closes this long after the slot start, ms

  Returns {"ok", "marked": n}
]]
local marked = 0
local due = redis.call("ZRANGEBYSCORE", P .. "bslots", "-inf", NOW - tonumber(ARGV[6]))
for _, id in ipairs(due) do
  redis.call("ZREM", P .. "bslots", id)
  local b = hgetall(P .. "b:" .. id)
  if b and b["status"] == "booked" then
    booking_closed(b, "no_show", "no_show_at")
    emit("booking.no_show", nil, nil, {booking = booking_pub(b)})
    marked = marked + 1
  end
end
return ok({marked = marked})
