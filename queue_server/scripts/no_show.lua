--[[
  No-show: the called citizen did not come after the configured recalls. The ticket may rejoin within the office's window, keeping its place.

  KEYS[1] events stream of the office
  ARGV[1..5] see includes.lua
  ARGV[6] counter id
  ARGV[7] ticket id the console expects at the counter ("" = whatever is there)
  ARGV[8] recalls required first (office setting)
  Returns {"ok", <ticket view>} | {"error": unknown_counter | no_current_ticket | ticket_mismatch | not_called | recalls_required}
]]
local cid = ARGV[6]
local ctr, t, err = at_counter(cid, ARGV[7])
if err then return err end
if t["state"] ~= "called" then return fail("not_called") end
local need = tonumber(ARGV[8])
if tonumber(t["recalls"] or "0") < need then
  return fail("recalls_required", {recalls = tonumber(t["recalls"] or "0"), required = need})
end
redis.call("HSET", P .. "t:" .. t["id"], "state", "no_show", "noshow_at", NOW)
redis.call("ZADD", P .. "noshow", NOW, t["id"])
redis.call("HSET", P .. "ctr:" .. cid, "current", "")
t["state"] = "no_show"
emit("ticket.no_show", t, cid)
return ok(ticket_view(t["id"]))
