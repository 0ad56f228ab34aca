--[[
  Call the next ticket to a counter (DESIGN §5). The counter's ticket still at
  the counter is finished first, so one key press moves the clerk on.

  Order: tickets transferred to this very counter first; then any service
  head that has waited past the service's max wait (oldest first); then by
  the counter's order: "priority" = first service in the list with someone
  waiting, "due" = smallest due_at across the services (list order breaks
  ties). Scores already include the priority head start.

  KEYS[1] events stream of the office
  ARGV[1..5] see includes.lua
  ARGV[6] counter id

  Touches: ctr:<counter>, cq:<counter>, q:<service> and svc:<service> of each
  service the counter serves, t:<id>, recent
  Returns {"ok", "ticket": {...}|nil, "finished": id|nil} |
          {"error": unknown_counter | counter_not_open}
]]
local cid = ARGV[6]
local ctr = load_counter(cid)
if ctr == nil then return fail("unknown_counter") end
if ctr["state"] ~= "open" then return fail("counter_not_open", {state = ctr["state"]}) end

local finished = nil
local cur = current_ticket(ctr)
if cur ~= nil then
  finish_ticket(cur, cid)
  finished = cur["id"]
end

local function head(key)
  local r = redis.call("ZRANGE", key, 0, 0, "WITHSCORES")
  if #r == 0 then return nil end
  return {id = r[1], score = tonumber(r[2]), key = key}
end

local pick = head(P .. "cq:" .. cid)
if pick == nil then
  local first, oldest, overdue = nil, nil, nil
  for _, s in ipairs(split(ctr["services"])) do
    local h = head(P .. "q:" .. s)
    if h ~= nil then
      if first == nil then first = h end
      if oldest == nil or h.score < oldest.score then oldest = h end
      local max_wait = tonumber(redis.call("HGET", P .. "svc:" .. s, "max_wait_ms") or "0")
      if max_wait > 0 and NOW - h.score >= max_wait then
        if overdue == nil or h.score < overdue.score then overdue = h end
      end
    end
  end
  if overdue ~= nil then pick = overdue
  elseif ctr["order"] == "due" then pick = oldest
  else pick = first end
end

if pick == nil then
  redis.call("HSET", P .. "ctr:" .. cid, "current", "")
  return ok({ticket = cjson.null, finished = finished})
end

redis.call("ZREM", pick.key, pick.id)
local tkey = P .. "t:" .. pick.id
redis.call("HSET", tkey, "state", "called", "counter", cid, "called_at", NOW,
  "recalls", 0, "target", "")
redis.call("HSET", P .. "ctr:" .. cid, "current", pick.id, "since", NOW)
local t = hgetall(tkey)
remember_call(t, cid, "call")
local eid = emit("ticket.called", t, cid, {waiting = waiting_count(t["service"])})
return ok({ticket = ticket_out(t), finished = finished, event = eid})
