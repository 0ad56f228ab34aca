--[[
  The live board of an office: every counter (state, current ticket, the
  services it serves), waiting and learned average per service, recent
  calls. Read-only; public (no ticket ids, no personal data).

  KEYS[1] events stream of the office
  ARGV[1..5] see includes.lua (ARGV[4..5] unused)

  Returns {"ok", "counters": [...], "services": {id: {waiting, avg_ms,
           open_counters}}, "recent": [...], "last_event"}
]]
local counters = {}
for _, cid in ipairs(redis.call("SMEMBERS", P .. "counters")) do
  local c = hgetall(P .. "ctr:" .. cid)
  local out = {id = cid, name = c["name"], state = c["state"],
    services = split(c["services"]), ticket = cjson.null}
  local t = current_ticket(c)
  if t ~= nil then
    out["ticket"] = {number = t["number"], service = t["service"], state = t["state"],
      since = tonumber(t["serving_at"] or t["called_at"])}
  end
  counters[#counters + 1] = out
end
local cap, idle = open_capacity()
local sids = redis.call("SMEMBERS", P .. "services")
-- When a walk-in joining now would be called, per service (the forecast).
local want = {}
for i, sid in ipairs(sids) do want[i] = "+" .. sid end
local fc = cached_forecast(want)
local services = {}
for _, sid in ipairs(sids) do
  -- The line is ordered by score (due_at minus any priority head start), so
  -- the longest real wait is among the first few: look at their due_at.
  local oldest = cjson.null
  for _, tid in ipairs(redis.call("ZRANGE", P .. "q:" .. sid, 0, 19)) do
    local due = tonumber(redis.call("HGET", P .. "t:" .. tid, "due"))
    if due ~= nil and (oldest == cjson.null or due < oldest) then oldest = due end
  end
  services[sid] = {waiting = waiting_count(sid),
    -- ahead of someone joining now: bookings due later are behind them
    ahead_now = redis.call("ZCOUNT", P .. "q:" .. sid, "-inf", NOW), open_counters = cap[sid] or 0,
    idle_counters = idle[sid] or 0,
    avg_ms = tonumber(redis.call("HGET", P .. "svc:" .. sid, "avg_ms") or "0"),
    oldest_due = oldest, forecast = (fc["+" .. sid] and {at = fc["+" .. sid].at,
      low = fc["+" .. sid].low}) or cjson.null}
end
local recent = {}
for _, e in ipairs(redis.call("LRANGE", P .. "recent", 0, 9)) do
  recent[#recent + 1] = cjson.decode(e)
end
return ok({counters = counters, services = services, recent = recent,
  last_event = last_event_id()})
