--[[
  The staff console's view of one counter (read-only): its state, the ticket
  at it, the waiting line in the order call_next.lua would call it now, the
  parked tickets and the no-shows that may still rejoin. Staff only: tickets
  carry their ids and, for bookings, the booking id (names are added by the
  caller from b:<id>).

  KEYS[1] events stream of the office
  ARGV[1..5] see includes.lua
  ARGV[6] counter id
  ARGV[7] start of today's business day, ms (older tickets are not listed)
  ARGV[8] at most this many waiting tickets

  Returns {"ok", "counter": {...}, "current": t|null, "prefill": JSON|null
  (pf:<current ticket>), "queue": [t...],
  "parked": [t...], "no_shows": [t...], "waiting_total": n} |
  {"error": unknown_counter}
]]
local cid, day_start, limit = ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8])
local ctr = load_counter(cid)
if ctr == nil then return fail("unknown_counter") end

local FIELDS = {"id", "number", "service", "channel", "state", "priority", "due", "issued_at",
  "called_at", "serving_at", "recalls", "target", "booking", "lang", "arrived_at", "parked_at",
  "noshow_at", "counter"}
local function load(tid)
  local v = redis.call("HMGET", P .. "t:" .. tid, unpack(FIELDS))
  if not v[1] then return nil end
  local t = {}
  for i, f in ipairs(FIELDS) do t[f] = v[i] or "" end
  return t
end

-- Walk the lines with a cursor each, picking as call_next.lua does, without
-- changing anything.
local lines = {}
local function line(key)
  if lines[key] == nil then
    lines[key] = {items = redis.call("ZRANGE", key, 0, -1, "WITHSCORES"), pos = 1}
  end
  local l = lines[key]
  while l.pos <= #l.items do
    local tid, score = l.items[l.pos], tonumber(l.items[l.pos + 1])
    local due = tonumber(redis.call("HGET", P .. "t:" .. tid, "due"))
    if due ~= nil and due >= day_start then return {id = tid, score = score, key = key} end
    l.pos = l.pos + 2  -- from an earlier day: call_next would cancel it
  end
  return nil
end
local function take(h) lines[h.key].pos = lines[h.key].pos + 2 end

local services = split(ctr["services"])
-- Bookings that came early are listed where they will be called: when
-- nobody is callable now, move on to the moment the next of them is due.
local function next_due()
  local soonest = nil
  local keys = {P .. "cq:" .. cid}
  for _, s in ipairs(services) do keys[#keys + 1] = P .. "q:" .. s end
  for _, key in ipairs(keys) do
    local h = line(key)
    if h ~= nil then
      local due = tonumber(redis.call("HGET", P .. "t:" .. h.id, "due"))
      if soonest == nil or due < soonest then soonest = due end
    end
  end
  return soonest
end
local queue, total, at = {}, 0, NOW
while #queue < limit do
  local pick = choose_next(cid, ctr, line, at)
  if pick == nil then
    local later = next_due()
    if later == nil or later <= at then break end
    at = later
    pick = choose_next(cid, ctr, line, at)
    if pick == nil then break end
  end
  take(pick)
  local t = load(pick.id)
  if t then queue[#queue + 1] = t end
end
for _, s in ipairs(services) do total = total + redis.call("ZCARD", P .. "q:" .. s) end
total = total + redis.call("ZCARD", P .. "cq:" .. cid)

local function list(key)
  local out = {}
  for _, tid in ipairs(redis.call("ZRANGE", key, 0, 199)) do
    local t = load(tid)
    if t then out[#out + 1] = t end
  end
  return out
end
local served = {}
for _, s in ipairs(services) do served[s] = true end
local function mine(ts)  -- parked and no-shows of this counter's services
  local out = {}
  for _, t in ipairs(ts) do if served[t["service"]] then out[#out + 1] = t end end
  return out
end

local cur = current_ticket(ctr)
-- The card data the kiosk read for the ticket at the counter (staff only).
local prefill = cjson.null
if cur then prefill = redis.call("GET", P .. "pf:" .. cur["id"]) or cjson.null end
return ok({counter = {id = cid, name = ctr["name"], state = ctr["state"],
    services = services, order = ctr["order"], since = tonumber(ctr["since"] or "0")},
  current = (cur and load(cur["id"])) or cjson.null, prefill = prefill, queue = queue,
  waiting_total = total,
  parked = mine(list(P .. "parked")), no_shows = mine(list(P .. "noshow"))})
