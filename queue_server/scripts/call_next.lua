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
  ARGV[7] start of today's business day, ms: tickets left waiting from an
          earlier day are cancelled (reason day_ended) instead of being
          called first the next morning

  Touches: ctr:<counter>, cq:<counter>, q:<service> and svc:<service> of each
  service the counter serves, t:<id>, recent
  Returns {"ok", <ticket view> | "ticket": null, "finished": id|nil} |
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

-- Tickets whose due_at is before today's midnight are left over from an
-- earlier day: cancel them rather than call them first this morning. Only
-- entries scored before midnight can be such; today's priority tickets may
-- be among them (their score has a head start), so decide by due_at.
local day_start = tonumber(ARGV[7])

local function sweep(key)
  for _, tid in ipairs(redis.call("ZRANGEBYSCORE", key, "-inf", "(" .. day_start)) do
    local tkey = P .. "t:" .. tid
    local due = tonumber(redis.call("HGET", tkey, "due"))
    if due == nil then
      redis.call("ZREM", key, tid)
    elseif due < day_start then
      redis.call("ZREM", key, tid)
      redis.call("HSET", tkey, "state", "cancelled", "cancelled_at", NOW, "reason", "day_ended")
      emit("ticket.cancelled", hgetall(tkey), nil, {reason = "day_ended"})
    end
  end
end

local function head(key)
  sweep(key)
  local r = redis.call("ZRANGE", key, 0, 0, "WITHSCORES")
  if #r == 0 then return nil end
  return {id = r[1], score = tonumber(r[2]), key = key}
end

-- Tickets away (remote, held) of earlier days are not forecast any more:
-- their index entries go (the tickets themselves expire).
redis.call("ZREMRANGEBYSCORE", P .. "away", "-inf", "(" .. (day_start - 86400000))

local pick = choose_next(cid, ctr, head)

if pick == nil then
  redis.call("HSET", P .. "ctr:" .. cid, "current", "")
  return ok({ticket = cjson.null, finished = finished})
end

redis.call("ZREM", pick.key, pick.id)
local tkey = P .. "t:" .. pick.id
redis.call("HSET", tkey, "state", "called", "counter", cid, "called_at", NOW,
  "recalls", 0, "target", "")
redis.call("HSETNX", tkey, "first_called_at", NOW)  -- the wait ends at the first call
redis.call("HSET", P .. "ctr:" .. cid, "current", pick.id, "since", NOW)
local t = hgetall(tkey)
remember_call(t, cid, "call")
emit("ticket.called", t, cid, {waiting = waiting_count(t["service"])})
local view = ticket_view(t["id"])
view["finished"] = finished
return ok(view)
