--[[
  Cancel a booking (the citizen from the manage link or an SMS reply, or
  staff). Frees its seat in the slot.

  KEYS[1] events stream of the office
  ARGV[1..5] see includes.lua
  ARGV[6] booking id
  ARGV[7..17] the cancellation SMS (includes_sms.lua; "" = none)

  Returns {"ok", "booking"} | {"error": unknown_booking | booking_not_active}
]]
local b = hgetall(P .. "b:" .. ARGV[6])
if b == nil then return fail("unknown_booking") end
if b["status"] ~= "booked" then return fail("booking_not_active", {status = b["status"]}) end
local skey = P .. "slot:" .. b["service"] .. ":" .. b["slot"]
if tonumber(redis.call("GET", skey) or "0") > 0 then redis.call("DECR", skey) end
booking_closed(b, "cancelled", "cancelled_at")
if b["reminder"] then sms_withdraw(b["reminder"]) end
redis.call("ZREM", P .. "bslots", b["id"])
local m = sms_from_argv(7)
-- Past a daily limit: cancelled all the same, without the notice.
if m and not sms_enqueue(m) then redis.call("HSET", P .. "b:" .. b["id"], "cancel_sms", m.id) end
emit("booking.cancelled", nil, nil, {booking = booking_pub(b)})
return ok({booking = booking_out(b)})
