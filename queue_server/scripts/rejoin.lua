--[[
  Rejoin after a no-show, within the office's window, keeping the original due_at.

  KEYS[1] events stream of the office
  ARGV[1..5] see includes.lua
  ARGV[6] ticket id
  ARGV[7] rejoin window, ms
  Returns {"ok", <ticket view>} | {"error": unknown_ticket | not_no_show | rejoin_window_passed}
]]
local tkey = P .. "t:" .. ARGV[6]
local t = hgetall(tkey)
if t == nil then return fail("unknown_ticket") end
if t["state"] ~= "no_show" then return fail("not_no_show", {state = t["state"]}) end
if NOW - tonumber(t["noshow_at"]) > tonumber(ARGV[7]) then return fail("rejoin_window_passed") end
t["state"] = "waiting"
t["target"] = ""
redis.call("HSET", tkey, "state", "waiting", "counter", "", "target", "", "recalls", 0)
redis.call("ZREM", P .. "noshow", t["id"])
enqueue(t)
emit("ticket.rejoined", t, nil, {waiting = waiting_count(t["service"])})
return ok(ticket_view(t["id"]))
