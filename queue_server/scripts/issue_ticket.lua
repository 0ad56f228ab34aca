--[[
  Issue a ticket: next number of the service for the business day, then
  either into the service's waiting line or held as `remote` (joined from
  afar, never called before check-in).

  KEYS[1] events stream of the office (routes the call to the office's slot)
  ARGV[1..5] see includes.lua
  ARGV[6]  ticket id (opaque, >= 128-bit random)
  ARGV[7]  service id
  ARGV[8]  channel: kiosk | phone | online | staff
  ARGV[9]  business day YYYYMMDD in the office's time zone
  ARGV[10] priority flag "1" / "0"
  ARGV[11] priority head start, ms (due_at moves ahead by this much)
  ARGV[12] language
  ARGV[13] state: waiting | remote
  ARGV[14] due_at ms ("" = now)
  ARGV[15] TTL of the ticket record, seconds
  ARGV[16] walk-in check: "1" refuses services without walk-in

  Touches: svc:<service>, seq:<service>:<day>, q:<service>, day:<day>, t:<id>
  Returns {"ok", <ticket view>} | {"error": unknown_service |
  walk_in_not_allowed | duplicate_id}
]]
local tid, service, channel, day = ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local priority, head_start, lang, state = ARGV[10], tonumber(ARGV[11]), ARGV[12], ARGV[13]
local ttl = tonumber(ARGV[15])

local svc = hgetall(P .. "svc:" .. service)
if svc == nil then return fail("unknown_service") end
if ARGV[16] == "1" and svc["walk_in"] ~= "1" then return fail("walk_in_not_allowed") end
local tkey = P .. "t:" .. tid
if redis.call("EXISTS", tkey) == 1 then return fail("duplicate_id") end

local seqkey = P .. "seq:" .. service .. ":" .. day
local n = redis.call("INCR", seqkey)
if n == 1 then redis.call("EXPIRE", seqkey, 172800) end
-- Three digits on the ticket; after 999 in one day the numbers wrap to 001.
local number = svc["letter"] .. "-" .. string.format("%03d", ((n - 1) % 999) + 1)

local due = NOW
if ARGV[14] ~= "" then due = tonumber(ARGV[14]) end
local score = due
if priority == "1" then score = due - head_start end

local t = {id = tid, number = number, service = service, state = state}
redis.call("HSET", tkey, "id", tid, "office", OFFICE, "number", number,
  "service", service, "channel", channel, "state", state, "due", due,
  "score", score, "priority", priority, "lang", lang, "day", day, "seq", n,
  "recalls", 0, "issued_at", NOW, "counter", "", "target", "")
redis.call("EXPIRE", tkey, ttl)
redis.call("ZADD", P .. "day:" .. day, NOW, tid)
redis.call("EXPIRE", P .. "day:" .. day, ttl)

if state == "waiting" then
  redis.call("ZADD", P .. "q:" .. service, score, tid)
end
emit("ticket.issued", t, nil, {channel = channel, waiting = waiting_count(service)})
return ok(ticket_view(t["id"]))
