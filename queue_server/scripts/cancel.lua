--[[
  Cancel a ticket that is not being served (citizen gave up, or staff).

  KEYS[1] events stream of the office
  ARGV[1..5] see includes.lua
  ARGV[6] ticket id

  Returns {"ok", <ticket view>} | {"error": unknown_ticket | in_service | already_finished}
]]
local tkey = P .. "t:" .. ARGV[6]
local t = hgetall(tkey)
if t == nil then return fail("unknown_ticket") end
local st = t["state"]
if st == "serving" then return fail("in_service") end
if st == "done" or st == "cancelled" then return fail("already_finished", {state = st}) end
local cid = nil
if st == "called" then
  cid = t["counter"]
  if redis.call("HGET", P .. "ctr:" .. cid, "current") == t["id"] then
    redis.call("HSET", P .. "ctr:" .. cid, "current", "")
  end
end
dequeue(t)
redis.call("ZREM", P .. "parked", t["id"])
redis.call("ZREM", P .. "noshow", t["id"])
redis.call("HSET", tkey, "state", "cancelled", "cancelled_at", NOW)
remote_done(t["id"])
redis.call("ZREM", P .. "away", t["id"])
redis.call("DEL", P .. "pf:" .. t["id"])
t["state"] = "cancelled"
emit("ticket.cancelled", t, cid, {waiting = waiting_count(t["service"])})
return ok(ticket_view(t["id"]))
