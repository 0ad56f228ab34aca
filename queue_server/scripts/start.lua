--[[
  Start serving the counter's called ticket (the citizen arrived).

  KEYS[1] events stream of the office
  ARGV[1..5] see includes.lua
  ARGV[6] counter id
  ARGV[7] ticket id the console expects at the counter ("" = whatever is there)

  Returns {"ok", <ticket view>} | {"error": unknown_counter | no_current_ticket | ticket_mismatch | already_serving}
]]
local cid = ARGV[6]
local ctr, t, err = at_counter(cid, ARGV[7])
if err then return err end
if t["state"] == "serving" then return fail("already_serving") end
redis.call("HSET", P .. "t:" .. t["id"], "state", "serving", "serving_at", NOW)
t["state"] = "serving"
emit("ticket.serving", t, cid)
return ok(ticket_view(t["id"]))
