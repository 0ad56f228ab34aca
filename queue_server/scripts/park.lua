--[[
  Park the counter's ticket (set aside, e.g. the citizen fetches a document); resume puts it back in line with its original place.

  KEYS[1] events stream of the office
  ARGV[1..5] see includes.lua
  ARGV[6] counter id
  ARGV[7] ticket id the console expects at the counter ("" = whatever is there)

  Returns {"ok", <ticket view>} | {"error": unknown_counter | no_current_ticket | ticket_mismatch}
]]
local cid = ARGV[6]
local ctr, t, err = at_counter(cid, ARGV[7])
if err then return err end
redis.call("HSET", P .. "t:" .. t["id"], "state", "parked", "parked_at", NOW, "parked_by", cid)
redis.call("ZADD", P .. "parked", NOW, t["id"])
redis.call("HSET", P .. "ctr:" .. cid, "current", "")
t["state"] = "parked"
emit("ticket.parked", t, cid)
return ok(ticket_view(t["id"]))
