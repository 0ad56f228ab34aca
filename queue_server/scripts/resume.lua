--[[
  Resume a parked ticket: back in line with its original due_at.

  KEYS[1] events stream of the office
  ARGV[1..5] see includes.lua
  ARGV[6] ticket id
  ARGV[7] counter id acting ("" if none)
  Returns {"ok", <ticket view>} | {"error": unknown_ticket | not_parked}
]]
local tkey = P .. "t:" .. ARGV[6]
local t = hgetall(tkey)
if t == nil then return fail("unknown_ticket") end
if t["state"] ~= "parked" then return fail("not_parked", {state = t["state"]}) end
t["state"] = "waiting"
redis.call("HSET", tkey, "state", "waiting", "counter", "")
redis.call("ZREM", P .. "parked", t["id"])
enqueue(t)
emit("ticket.resumed", t, ARGV[7], {waiting = waiting_count(t["service"])})
return ok(ticket_view(t["id"]))
