--[[
  Open, pause or close a counter. Paused: keeps its ticket, calls no one.
  Closed: only without a ticket at the counter.

  KEYS[1] events stream of the office
  ARGV[1..5] see includes.lua
  ARGV[6] counter id
  ARGV[7] state: open | paused | closed

  Returns {"ok", "state", "previous"} | {"error": unknown_counter | counter_busy | validation_failed}
]]
local cid, state = ARGV[6], ARGV[7]
if state ~= "open" and state ~= "paused" and state ~= "closed" then
  return fail("validation_failed")
end
local ctr = load_counter(cid)
if ctr == nil then return fail("unknown_counter") end
if state == "closed" and current_ticket(ctr) ~= nil then return fail("counter_busy") end
local previous = ctr["state"]
redis.call("HSET", P .. "ctr:" .. cid, "state", state, "state_since", NOW)
local eid = emit("counter.changed", nil, cid, {state = state, previous = previous})
return ok({state = state, previous = previous, event = eid})
