--[[
  Move a booking to another slot of the same service (the manage link's
  "change"). The new seat is taken and the old one freed in this one step,
  so a change never overbooks and never loses the booking: when the new
  slot is full, nothing changes. The day-before reminder moves with it.

  KEYS[1] events stream of the office
  ARGV[1..5] see includes.lua
  ARGV[6]  booking id
  ARGV[7]  new slot start, ms
  ARGV[8]  new slot end, ms
  ARGV[9]  slot capacity
  ARGV[10] new expiry of the personal data, epoch seconds
  ARGV[11] the new slot's day, YYYYMMDD
  ARGV[12] the old slot's day, YYYYMMDD
  ARGV[13..23] the confirmation SMS of the new time ("" = none)
  ARGV[24..34] the new reminder SMS ("" = none)

  Touches: b:<id>, slot:<service>:<ms> (old and new), bslots, bday:<day>
  (old and new), bexpire, btok:<hash>, bcode:<code>, bphone:<phone>, sms:*
  Returns {"ok", "booking", "sms": queued | none | <limit code>} |
  {"error": unknown_booking | booking_not_active | same_slot | slot_full}
]]
local id = ARGV[6]
local slot, slot_end, capacity = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local expire_at = tonumber(ARGV[10])
local bkey = P .. "b:" .. id
local b = hgetall(bkey)
if b == nil then return fail("unknown_booking") end
if b["status"] ~= "booked" then return fail("booking_not_active", {status = b["status"]}) end
if tonumber(b["slot"]) == slot then return fail("same_slot") end

local new_key = P .. "slot:" .. b["service"] .. ":" .. slot
if tonumber(redis.call("GET", new_key) or "0") >= capacity then return fail("slot_full") end
redis.call("INCR", new_key)
expire_on_clock(new_key, expire_at)
local old_slot = tonumber(b["slot"])
local old_key = P .. "slot:" .. b["service"] .. ":" .. b["slot"]
if tonumber(redis.call("GET", old_key) or "0") > 0 then redis.call("DECR", old_key) end

redis.call("HSET", bkey, "slot", slot, "slot_end", slot_end, "changed_at", NOW)
for _, key in ipairs({bkey, P .. "btok:" .. b["token"], P .. "bcode:" .. b["code"],
    P .. "bphone:" .. b["phone"]}) do
  expire_on_clock(key, expire_at)
end
redis.call("ZADD", P .. "bslots", slot, id)
redis.call("ZADD", P .. "bexpire", expire_at * 1000, id)
redis.call("ZREM", P .. "bday:" .. ARGV[12], id)
redis.call("ZADD", P .. "bday:" .. ARGV[11], slot, id)
expire_on_clock(P .. "bday:" .. ARGV[11], expire_at)

if b["reminder"] then sms_withdraw(b["reminder"]) end
redis.call("HDEL", bkey, "reminder")
local sms = "none"
local m = sms_from_argv(13)
if m then
  sms = sms_enqueue(m) or "queued"
  if sms == "queued" then redis.call("HSET", bkey, "sms", m.id) end
end
local r = sms_from_argv(24)
if r and not sms_enqueue(r) then redis.call("HSET", bkey, "reminder", r.id) end

b = hgetall(bkey)
emit("booking.changed", nil, nil, {booking = booking_pub(b), from = old_slot})
return ok({booking = booking_out(b), sms = sms})
