--[[
  Read one ticket with what its holder needs to know: people ahead, the
  service's learned average and the open counters serving it. Read-only;
  never returns personal data.

  KEYS[1] events stream of the office
  ARGV[1..5] see includes.lua (ARGV[3..5] unused)
  ARGV[6] ticket id

  Returns {"ok", "ticket": {...}, "ahead", "avg_ms", "open_counters",
           "counter": {id, name}|nil, "last_event"} | {"error": unknown_ticket}
]]
local t = hgetall(P .. "t:" .. ARGV[6])
if t == nil then return fail("unknown_ticket") end
t["phone"] = nil
t["name"] = nil
local ahead = cjson.null
if t["state"] == "waiting" then
  local qkey = P .. "q:" .. t["service"]
  if t["target"] ~= "" then qkey = P .. "cq:" .. t["target"] end
  ahead = redis.call("ZCOUNT", qkey, "-inf", "(" .. t["score"])
end
local cap = open_capacity()
local last = redis.call("XREVRANGE", P .. "events", "+", "-", "COUNT", 1)
local last_id = cjson.null
if #last > 0 then last_id = last[1][1] end
return ok({ticket = t, ahead = ahead,
  avg_ms = tonumber(redis.call("HGET", P .. "svc:" .. t["service"], "avg_ms") or "0"),
  open_counters = cap[t["service"]] or 0, counter = counter_pub(t["counter"]) or cjson.null,
  last_event = last_id})
