--[[
  Finish the counter's ticket; feeds the adaptive service time.

  KEYS[1] events stream of the office
  ARGV[1..5] see includes.lua
  ARGV[6] counter id
  ARGV[7] ticket id the console expects at the counter ("" = whatever is there)

  Returns {"ok", <ticket view>} | {"error": unknown_counter | no_current_ticket | ticket_mismatch}
]]
local cid = ARGV[6]
local ctr, t, err = at_counter(cid, ARGV[7])
if err then return err end
finish_ticket(t, cid)
redis.call("HSET", P .. "ctr:" .. cid, "current", "")
t["state"] = "done"
return ok(ticket_view(t["id"]))
