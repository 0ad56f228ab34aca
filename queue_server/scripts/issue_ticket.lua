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
  ARGV[17] phone, E.164, of a remote ticket that wants SMS ("" = none)
  ARGV[18] hold threshold, ms ("" = never): a waiting ticket whose forecast
           wait is at least this long is held (issue 11): it may leave and
           is not called before it is back (arrive.lua)

  A remote or held ticket gets back_at, the come-back time it is told.

  Touches: svc:<service>, seq:<service>:<day>, q:<service>, day:<day>, t:<id>, rq, away
  (and reads what the forecast reads)
  Returns {"ok", <ticket view>} | {"error": unknown_service |
  walk_in_not_allowed | duplicate_id}
]]
local t, err = issue({id = ARGV[6], service = ARGV[7], channel = ARGV[8], day = ARGV[9],
  priority = ARGV[10], head_start = tonumber(ARGV[11]), lang = ARGV[12], state = ARGV[13],
  due = ARGV[14], ttl = tonumber(ARGV[15]), walk_in_only = ARGV[16] == "1",
  phone = ARGV[17]})
if err then return err end
local hold = tonumber(ARGV[18] or "")
local f = nil
if t.state ~= "waiting" or (hold ~= nil and hold > 0) then f = forecast(nil, true, t.id)[t.id] end
if t.state == "waiting" and hold ~= nil and hold > 0 then
  if f ~= nil and f.at - NOW >= hold then
    local tkey = P .. "t:" .. t.id
    local score = redis.call("ZSCORE", P .. "q:" .. t.service, t.id)
    redis.call("ZREM", P .. "q:" .. t.service, t.id)
    redis.call("ZADD", P .. "away", score, t.id)
    redis.call("HSET", tkey, "state", "held", "held_at", NOW)
    t.state = "held"
  end
end
if t.state ~= "waiting" then set_back_at(t.id, f) end
return ok(ticket_view(t["id"]))
