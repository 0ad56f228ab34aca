--[[
  Recall: announce the counter's called ticket again.

  KEYS[1] events stream of the office
  ARGV[1..5] see includes.lua
  ARGV[6] counter id
  ARGV[7] ticket id the console expects at the counter ("" = whatever is there)
  ARGV[8] the office's number of recalls before a no-show is allowed
  Returns {"ok", <ticket view>} | {"error": unknown_counter | no_current_ticket | ticket_mismatch | not_called}
]]
local cid = ARGV[6]
local ctr, t, err = at_counter(cid, ARGV[7])
if err then return err end
if t["state"] ~= "called" then return fail("not_called") end
local n = redis.call("HINCRBY", P .. "t:" .. t["id"], "recalls", 1)
redis.call("HSET", P .. "t:" .. t["id"], "recalled_at", NOW)
remember_call(t, cid, "recall")
emit("ticket.recalled", t, cid, {recalls = n})
return ok(ticket_view(t["id"]))
