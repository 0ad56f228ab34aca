--[[
  Transfer the counter's ticket to another service and/or a specific counter. The ticket keeps its due_at, so nobody loses their place.

  KEYS[1] events stream of the office
  ARGV[1..5] see includes.lua
  ARGV[6] counter id
  ARGV[7] ticket id the console expects at the counter ("" = whatever is there)
  ARGV[8] target service id ("" = keep the service)
  ARGV[9] target counter id ("" = any counter of the service)
  Returns {"ok", <ticket view>} | {"error": unknown_counter | no_current_ticket | ticket_mismatch | unknown_service | unknown_target_counter | no_target}
]]
local cid = ARGV[6]
local ctr, t, err = at_counter(cid, ARGV[7])
if err then return err end
local to_service, to_counter = ARGV[8], ARGV[9]
if to_service == "" and to_counter == "" then return fail("no_target") end
if to_service ~= "" and redis.call("EXISTS", P .. "svc:" .. to_service) == 0 then
  return fail("unknown_service")
end
if to_counter ~= "" and redis.call("EXISTS", P .. "ctr:" .. to_counter) == 0 then
  return fail("unknown_target_counter")
end
local from_service = t["service"]
if to_service ~= "" then t["service"] = to_service end
t["target"] = to_counter
t["state"] = "waiting"
redis.call("HSET", P .. "t:" .. t["id"], "state", "waiting", "service", t["service"],
  "target", to_counter, "counter", "")
enqueue(t)
redis.call("HSET", P .. "ctr:" .. cid, "current", "")
local extra = {from_service = from_service, waiting = waiting_count(t["service"])}
if to_counter ~= "" then extra["to_counter"] = counter_pub(to_counter) end
emit("ticket.transferred", t, cid, extra)
return ok(ticket_view(t["id"]))
