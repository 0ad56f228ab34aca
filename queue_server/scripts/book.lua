--[[
  Book a slot. Capacity, the per-phone limit of active bookings and the
  per-IP hourly limit are checked and taken in this one step, so concurrent
  bookings of the last seat never overbook.

  KEYS[1] events stream of the office
  ARGV[1..5] see includes.lua
  ARGV[6]  booking id
  ARGV[7]  SHA-256 of the manage token (the token itself is never stored)
  ARGV[8]  kiosk code (6 digits)
  ARGV[9]  service id
  ARGV[10] slot start, ms
  ARGV[11] slot end, ms
  ARGV[12] slot capacity
  ARGV[13] phone, E.164
  ARGV[14] name ("" = none)
  ARGV[15] language
  ARGV[16] channel: online | phone | kiosk | staff
  ARGV[17] client IP for the hourly limit ("" = not limited, e.g. phone line)
  ARGV[18] bookings per IP per hour
  ARGV[19] active bookings per phone number
  ARGV[20] expiry of the personal data, epoch seconds (slot end + retention)
  ARGV[21] the slot's day, YYYYMMDD (staff's list of the day)
  ARGV[22..32] the confirmation SMS (includes_sms.lua; "" = none)
  ARGV[33..43] the reminder SMS, due the day before (includes_sms.lua; "" = none)

  Touches: svc:<service>, slot:<service>:<ms>, b:<id>, btok:<hash>,
  bcode:<code>, bphone:<phone>, bslots, bday:<day>, bexpire, rl:<ip>:<hour>, sms:*
  Returns {"ok", "booking": {...}, "sms": queued | none | <limit code>} |
  {"error": unknown_service | rate_limited |
  too_many_bookings | code_taken | slot_full}
]]
local id, digest, code, service = ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local slot, slot_end, capacity = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12])
local phone, name, lang, channel, ip = ARGV[13], ARGV[14], ARGV[15], ARGV[16], ARGV[17]
local expire_at = tonumber(ARGV[20])

if redis.call("EXISTS", P .. "svc:" .. service) == 0 then return fail("unknown_service") end

if ip ~= "" then
  local rl = P .. "rl:" .. ip .. ":" .. math.floor(NOW / 3600000)
  local n = redis.call("INCR", rl)
  if n == 1 then redis.call("EXPIRE", rl, 3600) end
  if n > tonumber(ARGV[18]) then return fail("rate_limited") end
end

local pkey = P .. "bphone:" .. phone
local active = 0
for _, other in ipairs(redis.call("SMEMBERS", pkey)) do
  local st = redis.call("HMGET", P .. "b:" .. other, "status", "slot_end")
  if st[1] == "booked" and tonumber(st[2]) > NOW then
    active = active + 1
  else
    redis.call("SREM", pkey, other)
  end
end
if active >= tonumber(ARGV[19]) then return fail("too_many_bookings", {limit = tonumber(ARGV[19])}) end

local ckey = P .. "bcode:" .. code
if redis.call("EXISTS", ckey) == 1 then return fail("code_taken") end

local skey = P .. "slot:" .. service .. ":" .. slot
local taken = tonumber(redis.call("GET", skey) or "0")
if taken >= capacity then return fail("slot_full") end
redis.call("INCR", skey)
expire_on_clock(skey, expire_at)

local bkey = P .. "b:" .. id
redis.call("HSET", bkey, "id", id, "office", OFFICE, "service", service, "slot", slot,
  "slot_end", slot_end, "phone", phone, "name", name, "lang", lang, "channel", channel,
  "status", "booked", "code", code, "created_at", NOW, "token", digest)
expire_on_clock(bkey, expire_at)
redis.call("SET", P .. "btok:" .. digest, id, "EX", ttl_on_clock(expire_at))
redis.call("SET", ckey, id, "EX", ttl_on_clock(expire_at))
redis.call("SADD", pkey, id)
expire_on_clock(pkey, expire_at)
redis.call("ZADD", P .. "bslots", slot, id)
-- The retention job (purge_personal.lua) deletes the booking at expire_at;
-- the keys' own expiry is the backstop.
redis.call("ZADD", P .. "bexpire", expire_at * 1000, id)
redis.call("ZADD", P .. "bday:" .. ARGV[21], slot, id)
expire_on_clock(P .. "bday:" .. ARGV[21], expire_at)

-- The confirmation is queued in this same step. Past an SMS limit the
-- booking still stands (the done page shows the code), only without SMS.
local sms = "none"
local m = sms_from_argv(22)
if m then
  sms = sms_enqueue(m) or "queued"
  if sms == "queued" then redis.call("HSET", bkey, "sms", m.id) end
end
-- The reminder waits in the outbox until the day before; cancelling the
-- booking withdraws it (cancel_booking.lua).
local r = sms_from_argv(33)
if r and not sms_enqueue(r) then redis.call("HSET", bkey, "reminder", r.id) end
local b = hgetall(bkey)
emit("booking.created", nil, nil, {booking = booking_pub(b)})
return ok({booking = booking_out(b), sms = sms})
