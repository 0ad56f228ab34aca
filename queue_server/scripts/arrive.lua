--[[
  A remote ticket (joined today's queue from afar) or a held one (left the
  lobby with a come-back time) arrives: it becomes waiting with its
  original due_at, so leaving kept the place.

  KEYS[1] events stream of the office
  ARGV[1..5] see includes.lua
  ARGV[6] ticket id

  Returns {"ok", <ticket view>} | {"error": unknown_ticket | not_remote}
]]
local tkey = P .. "t:" .. ARGV[6]
local t = hgetall(tkey)
if t == nil then return fail("unknown_ticket") end
if t["state"] ~= "remote" and t["state"] ~= "held" then
  return fail("not_remote", {state = t["state"]})
end
t["state"] = "waiting"
redis.call("HSET", tkey, "state", "waiting", "arrived_at", NOW)
remote_done(t["id"])
redis.call("ZREM", P .. "away", t["id"])
enqueue(t)
emit("ticket.arrived", t, nil, {waiting = waiting_count(t["service"])})
return ok(ticket_view(t["id"]))
