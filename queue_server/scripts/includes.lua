--[[
  Shared helpers, prepended to every script by scripts.py (the way BullMQ
  keeps includes/). Not a script on its own.

  Conventions of every script:
    ARGV[1] key prefix of the office ("mg:{tenant:office}:")
    ARGV[2] office id
    ARGV[3] now, epoch milliseconds (the engine's clock, so simulations work)
    ARGV[4] now as ISO 8601 in the office's time zone (event "at")
    ARGV[5] MAXLEN for the event stream
  Every script returns a JSON string: {"ok":...} or {"error": "<code>"}.
  Scripts that change a ticket return its <ticket view> (ticket_view below).
]]
local P = ARGV[1]
local OFFICE = ARGV[2]
local NOW = tonumber(ARGV[3])
local AT = ARGV[4]
local MAXLEN = ARGV[5]

local function fail(code, extra)
  local out = extra or {}
  out["error"] = code
  return cjson.encode(out)
end

local function ok(out)
  out = out or {}
  out["ok"] = true
  return cjson.encode(out)
end

-- Expiry on the engine's clock, not Redis's: a key set to live until epoch
-- second `at` lives (at - now) seconds from the clock that decided `at`, so a
-- simulated or test clock and a Redis host whose clock drifts agree.
local function ttl_on_clock(at)
  return math.max(1, at - math.floor(NOW / 1000))
end

local function expire_on_clock(key, at)
  redis.call("EXPIRE", key, ttl_on_clock(at))
end

local function hgetall(key)
  local flat = redis.call("HGETALL", key)
  if #flat == 0 then return nil end
  local t = {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
end

local function split(s)
  local out = {}
  if s == nil or s == "" then return out end
  for part in string.gmatch(s, "[^,]+") do out[#out + 1] = part end
  return out
end

-- A counter's service list, split once per script run (choose_next runs
-- hundreds of times in a forecast). Callers must not change the list.
local split_memo = {}
local function services_of(ctr)
  local s = ctr["services"] or ""
  local l = split_memo[s]
  if l == nil then
    l = split(s)
    split_memo[s] = l
  end
  return l
end

local function counter_pub(cid)
  if cid == nil or cid == "" then return nil end
  return {id = cid, name = redis.call("HGET", P .. "ctr:" .. cid, "name") or cid}
end

-- Statistics: one anonymous record per ticket and business day, rewritten at
-- every event of the ticket (emit below), so statistics always match the
-- state. No ticket id, no personal data: kept for years after the tickets,
-- bookings and phone numbers are gone. Field: <service at issue>:<seq>.
local STATS_TTL = 3 * 366 * 86400
local function stat(tid)
  local t = hgetall(P .. "t:" .. tid)
  if t == nil or t["day"] == nil then return end
  local key = P .. "st:" .. t["day"]
  local booked = 0
  if t["booking"] and t["booking"] ~= "" then booked = 1 end
  redis.call("HSET", key, t["stat_key"] or (t["service"] .. ":" .. (t["seq"] or "0")),
    cjson.encode({s = t["stat_service"] or t["service"], fs = t["service"], ch = t["channel"],
      p = tonumber(t["priority"]) or 0, b = booked, i = tonumber(t["issued_at"]),
      d = tonumber(t["due"]), a = tonumber(t["arrived_at"]),
      c = tonumber(t["first_called_at"]), sv = tonumber(t["serving_at"]),
      e = tonumber(t["done_at"] or t["noshow_at"] or t["cancelled_at"]), o = t["state"],
      ctr = t["counter"], r = tonumber(t["recalls"]) or 0}))
  redis.call("EXPIRE", key, STATS_TTL)
end

-- Append an event. `data` is the public payload (no personal data, no
-- ticket id: the id is the capability for the smartphone page); the ticket
-- id travels in its own field, read only by the server.
local function emit(etype, ticket, cid, extra)
  local data = extra or {}
  data["type"] = etype
  data["office"] = OFFICE
  data["at"] = AT
  if ticket then
    data["ticket"] = {number = ticket["number"], service = ticket["service"]}
  end
  local c = counter_pub(cid)
  if c then data["counter"] = c end
  local tid = ""
  if ticket then tid = ticket["id"] end
  if tid ~= nil and tid ~= "" then stat(tid) end
  return redis.call("XADD", P .. "events", "MAXLEN", "~", MAXLEN, "*",
    "type", etype, "data", cjson.encode(data), "tid", tid)
end

local function waiting_count(service)
  return redis.call("ZCARD", P .. "q:" .. service)
end

-- Put a ticket back in line with its original place (score).
local function enqueue(t)
  if t["target"] ~= nil and t["target"] ~= "" then
    redis.call("ZADD", P .. "cq:" .. t["target"], t["score"], t["id"])
  else
    redis.call("ZADD", P .. "q:" .. t["service"], t["score"], t["id"])
  end
end

local function dequeue(t)
  redis.call("ZREM", P .. "q:" .. t["service"], t["id"])
  if t["target"] ~= nil and t["target"] ~= "" then
    redis.call("ZREM", P .. "cq:" .. t["target"], t["id"])
  end
end

-- Adaptive average service time: an exponentially weighted mean seeded with
-- the configured expected minutes, so it follows the day without jumping on
-- one odd visit.
--
-- Its spread is learned the same way (dev_ms: a weighted mean absolute
-- deviation, as TCP keeps for round trips): the forecast's low quantile.
local svc_memo = {}
local function record_service_time(service, ms)
  local key = P .. "svc:" .. service
  local v = redis.call("HMGET", key, "avg_ms", "dev_ms")
  local avg = tonumber(v[1])
  if avg == nil then return end
  local alpha = 0.1
  local dev = tonumber(v[2]) or avg / 2
  dev = dev + alpha * (math.abs(ms - avg) - dev)
  avg = avg + alpha * (ms - avg)
  redis.call("HSET", key, "avg_ms", math.floor(avg), "dev_ms", math.floor(dev))
  redis.call("HINCRBY", key, "served", 1)
  svc_memo[service] = nil
end

-- A service's settings as the call order and the forecast read them,
-- read once per script run.
local function svc_info(s)
  local m = svc_memo[s]
  if m == nil then
    local v = redis.call("HMGET", P .. "svc:" .. (s or ""), "early_call", "max_wait_ms", "avg_ms",
      "dev_ms")
    local avg = tonumber(v[3]) or 0
    m = {early = v[1] == "when_free", max_wait = tonumber(v[2]) or 0, avg = avg,
      dev = tonumber(v[4]) or avg / 2}
    svc_memo[s] = m
  end
  return m
end

local function finish_ticket(t, cid)
  local tkey = P .. "t:" .. t["id"]
  local started = tonumber(t["serving_at"] or t["called_at"] or NOW)
  redis.call("HSET", tkey, "state", "done", "done_at", NOW)
  -- The card data read at the kiosk served this visit only (書かない).
  redis.call("DEL", P .. "pf:" .. t["id"])
  record_service_time(t["service"], NOW - started)
  emit("ticket.done", t, cid)
end

-- The counter's current ticket, if it is still at the counter.
local function current_ticket(ctr)
  local tid = ctr["current"]
  if tid == nil or tid == "" then return nil end
  local t = hgetall(P .. "t:" .. tid)
  if t == nil then return nil end
  if t["state"] ~= "called" and t["state"] ~= "serving" then return nil end
  return t
end

local function load_counter(cid)
  return hgetall(P .. "ctr:" .. cid)
end

local function remember_call(t, cid, kind)
  local c = counter_pub(cid)
  local entry = cjson.encode({number = t["number"], service = t["service"],
    counter = c, at = AT, kind = kind})
  redis.call("LPUSH", P .. "recent", entry)
  redis.call("LTRIM", P .. "recent", 0, 19)
end

-- The preamble of every action on "the ticket at this counter": returns the
-- counter and its ticket, or an error reply. `expect` (may be "") lets the
-- console say which ticket it means, so a stale screen cannot act on a
-- ticket it never showed.
local function at_counter(cid, expect)
  local ctr = load_counter(cid)
  if ctr == nil then return nil, nil, fail("unknown_counter") end
  local t = current_ticket(ctr)
  if t == nil then return nil, nil, fail("no_current_ticket") end
  if expect ~= nil and expect ~= "" and expect ~= t["id"] then
    return nil, nil, fail("ticket_mismatch", {current = t["number"]})
  end
  return ctr, t, nil
end

-- Which ticket a counter calls next (DESIGN §5): tickets transferred to the
-- counter first; then any service head past the service's max wait (oldest
-- first); then by the counter's order — "priority": the first service in
-- its list with someone waiting, "due": the smallest score. `head(key)`
-- gives a line's head as {id, score, key} or nil: call_next.lua's removes
-- leftovers of earlier days as it looks, counter_board.lua's only reads.
--
-- A booking checked in before its slot waits for its slot (DESIGN §5)
-- unless the office set booking.early_call: when_free (mirrored into every
-- svc:<id> as early_call). Such a ticket's score is its due_at (bookings get
-- no head start), so everything behind it in its line is due later still:
-- a head that is not yet due closes its line for now. `at` (default NOW)
-- lets counter_board.lua ask what would be called at a later moment.
--
-- A head may carry its due and service (the forecast's in-memory lines);
-- otherwise they are read from the ticket.
local function callable_at(h, at)
  if h == nil then return nil end
  local due = h.due or tonumber(redis.call("HGET", P .. "t:" .. h.id, "due") or "0")
  if due <= at then return h end
  local s = h.service or redis.call("HGET", P .. "t:" .. h.id, "service")
  if svc_info(s).early then return h end
  return nil
end

local function choose_next(cid, ctr, head, at)
  at = at or NOW
  local pick = callable_at(head(P .. "cq:" .. cid), at)
  if pick ~= nil then return pick end
  local first, oldest, overdue = nil, nil, nil
  for _, s in ipairs(services_of(ctr)) do
    local h = callable_at(head(P .. "q:" .. s), at)
    if h ~= nil then
      if first == nil then first = h end
      if oldest == nil or h.score < oldest.score then oldest = h end
      local max_wait = svc_info(s).max_wait
      if max_wait > 0 and at - h.score >= max_wait then
        if overdue == nil or h.score < overdue.score then overdue = h end
      end
    end
  end
  if overdue ~= nil then return overdue end
  if ctr["order"] == "due" then return oldest end
  return first
end

-- Open counters per service. A counter that serves n services gives each
-- 1/n of its time: the sum stays one counter, so estimates do not count the
-- same clerk several times. `idle` counts open counters with nobody at them:
-- the next person for such a counter waits for no departure.
local function open_capacity()
  local cap, idle = {}, {}
  for _, cid in ipairs(redis.call("SMEMBERS", P .. "counters")) do
    local c = redis.call("HMGET", P .. "ctr:" .. cid, "state", "services", "current")
    if c[1] == "open" then
      local list = split(c[2])
      for _, s in ipairs(list) do
        cap[s] = (cap[s] or 0) + 1 / #list
        if c[3] == "" or c[3] == false then idle[s] = (idle[s] or 0) + 1 end
      end
    end
  end
  return cap, idle
end

-- The forecast (issue 11): one forward simulation of the office's queues
-- from now, run with choose_next itself, so the estimate and the call can
-- never disagree on the order. Each open counter is free once its current
-- ticket's expected remaining time is over (at least a quarter of the
-- service's average), then calls what choose_next picks at that moment and
-- keeps it for the service's learned average (svc:<id> avg_ms, seeded with
-- expected_minutes). Tickets away (remote: today's queue from afar; held)
-- join their line at their expected return (back_at, else now), like
-- arrive.lua puts them back with their place; bookings of today not checked
-- in yet join at their slot (as "b:<booking id>"). Bookings that came early wait
-- for their slot unless early_call (callable_at); max-wait escalation,
-- transfers to a counter and each counter's order are choose_next's.
--
-- `want` (optional id): stop once this ticket is placed (the come-back time
-- of a ticket being issued needs nothing later).
-- `all_present`: every ticket away counts as back now (a come-back time
-- counts every ticket ahead, held ones included, as if all were here).
-- `phantoms`: service ids; for each, a walk-in joining now is added with no
-- service time (it delays nobody), so "a new ticket would be called at" is
-- read from the same run. Returns {[ticket id or "+" .. service] =
-- {at = ms, low = ms, counter = id, seq = n}}; tickets no open counter
-- will call are absent. `low` is at − Z·sd of the service times before the
-- call (shared by the counters serving the service), never before now.
local FORECAST_Z = 1.28         -- low quantile: about the 10th percentile
-- Tickets due before today's local midnight are left over from an earlier
-- day: call_next cancels them rather than calling them, so they are not
-- counted. A score is at most the priority head start under its due_at, so
-- only scores before midnight need their due_at read, as in the sweep.
local function forecast_day_start()
  local off = tonumber(redis.call("GET", P .. "utc_offset") or "0") or 0
  return math.floor((NOW + off) / 86400000) * 86400000 - off
end
-- YYYYMMDD of the local day starting at `day_start` (bday:<day>, the
-- bookings of a day; civil-from-days, as Redis's Lua has no os.date).
local function forecast_day_id(day_start)
  local off = tonumber(redis.call("GET", P .. "utc_offset") or "0") or 0
  local z = math.floor((day_start + off) / 86400000) + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524)
    - math.floor(doe / 146096)) / 365)
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  if m <= 2 then y = y + 1 end
  return string.format("%04d%02d%02d", y, m, d)
end
local FORECAST_BOOKING_LATE = 15 * 60000  -- a booking not checked in this long after its slot is not counted

local forecast_steps = 0
local function forecast(phantoms, all_present, want)
  local day_start = forecast_day_start()
  local active, serves = {}, {}
  local ids = redis.call("SMEMBERS", P .. "counters")
  table.sort(ids)
  for _, cid in ipairs(ids) do
    local c = hgetall(P .. "ctr:" .. cid)
    if c ~= nil and c["state"] == "open" then
      local free, var = NOW, 0
      local cur = current_ticket(c)
      if cur ~= nil then
        local si = svc_info(cur["service"])
        local started = tonumber(cur["serving_at"] or cur["called_at"]) or NOW
        free = NOW + math.max(si.avg - (NOW - started), si.avg / 4)
        var = (1.25 * si.dev) ^ 2
      end
      active[#active + 1] = {id = cid, ctr = c, free = free, var = var}
      for _, s in ipairs(split(c["services"])) do serves[s] = (serves[s] or 0) + 1 end
    end
  end
  local out = {}
  if #active == 0 then return out end

  local lines, remaining = {}, 0
  local function load_line(key, service)
    local l = lines[key]
    if l ~= nil then return l end
    l = {items = {}, pos = 1}
    local flat = redis.call("ZRANGEBYSCORE", key, "(" .. (day_start - 86400000), "+inf",
      "WITHSCORES")
    for i = 1, #flat, 2 do
      local score = tonumber(flat[i + 1])
      local stale = false
      if score < day_start then
        local d = tonumber(redis.call("HGET", P .. "t:" .. flat[i], "due"))
        stale = d == nil or d < day_start
      end
      local svc = service or redis.call("HGET", P .. "t:" .. flat[i], "service")
      -- due: a booking's score is its due_at (plus a tie fraction); a
      -- priority head start only moves scores of tickets already due.
      if not stale then
        l.items[#l.items + 1] = {id = flat[i], score = score, key = key, service = svc,
          due = math.floor(score)}
        remaining = remaining + 1
      end
    end
    lines[key] = l
    return l
  end
  local function insert(key, item)
    local l = lines[key]
    local i = l.pos
    while i <= #l.items and l.items[i].score <= item.score do i = i + 1 end
    table.insert(l.items, i, item)
    remaining = remaining + 1
  end
  for _, c in ipairs(active) do
    c.keys = {P .. "cq:" .. c.id}
    load_line(c.keys[1], nil)
    for _, s in ipairs(services_of(c.ctr)) do
      c.keys[#c.keys + 1] = P .. "q:" .. s
      load_line(P .. "q:" .. s, s)
    end
  end
  local arrivals = {}
  local away = redis.call("ZRANGEBYSCORE", P .. "away", day_start, "+inf", "WITHSCORES")
  for i = 1, #away, 2 do
    local v = redis.call("HMGET", P .. "t:" .. away[i], "state", "service", "target", "back_at")
    if v[1] == "remote" or v[1] == "held" then
      local key = P .. "q:" .. v[2]
      if v[3] and v[3] ~= "" then key = P .. "cq:" .. v[3] end
      if lines[key] ~= nil then
        local score = tonumber(away[i + 1])
        local back = NOW
        if not all_present then back = math.max(NOW, tonumber(v[4]) or NOW) end
        arrivals[#arrivals + 1] = {at = back, key = key,
          item = {id = away[i], score = score, key = key, service = v[2], due = math.floor(score)}}
      end
    end
  end
  -- Bookings of today not checked in yet: expected at their slot, with the
  -- slot's place (check_in.lua gives due = slot within the grace time).
  local bookings = redis.call("ZRANGEBYSCORE", P .. "bday:" .. forecast_day_id(day_start),
    NOW - FORECAST_BOOKING_LATE, "+inf", "WITHSCORES")
  for i = 1, #bookings, 2 do
    local v = redis.call("HMGET", P .. "b:" .. bookings[i], "status", "service")
    local key = P .. "q:" .. (v[2] or "")
    if v[1] == "booked" and lines[key] ~= nil then
      local slot = tonumber(bookings[i + 1])
      arrivals[#arrivals + 1] = {at = math.max(NOW, slot), key = key,
        item = {id = "b:" .. bookings[i], score = slot, key = key, service = v[2], due = slot}}
    end
  end
  table.sort(arrivals, function(a, b) return a.at < b.at end)
  for _, s in ipairs(phantoms or {}) do
    local key = P .. "q:" .. s
    if lines[key] ~= nil then
      -- behind everyone scored now (bookings due now carry k/4096 ms)
      arrivals[#arrivals + 1] = {at = NOW, key = key, item = {id = "+" .. s, score = NOW + 0.9999,
        key = key, service = s, due = NOW, phantom = true}}
    end
  end
  table.sort(arrivals, function(a, b) return a.at < b.at end)

  local function head(key)
    local l = lines[key]
    if l == nil then return nil end
    return l.items[l.pos]
  end
  local ai, seq, guard = 1, 0, 0
  local pending = nil  -- what is wanted and not placed yet (nil: everything)
  if want ~= nil then pending = 1 end
  local limit = 4 * (remaining + #arrivals + #active) + 100
  while (remaining > 0 or ai <= #arrivals) and #active > 0 and guard < limit
        and (pending == nil or pending > 0) do
    forecast_steps = forecast_steps + 1
    guard = guard + 1
    local bi = 1
    for i = 2, #active do if active[i].free < active[bi].free then bi = i end end
    local c = active[bi]
    local t = c.free
    while ai <= #arrivals and arrivals[ai].at <= t do
      insert(arrivals[ai].key, arrivals[ai].item)
      ai = ai + 1
    end
    local pick = choose_next(c.id, c.ctr, head, t)
    if pick ~= nil then
      lines[pick.key].pos = lines[pick.key].pos + 1
      remaining = remaining - 1
      seq = seq + 1
      local si = svc_info(pick.service)
      local sd = math.sqrt(c.var / math.max(1, serves[pick.service] or 1))
      out[pick.id] = {at = t, low = math.max(NOW, math.floor(t - FORECAST_Z * sd)),
        counter = c.id, seq = seq}
      if pending ~= nil and pick.id == want then pending = pending - 1 end
      if not pick.phantom then
        c.free = t + si.avg
        c.var = c.var + (1.25 * si.dev) ^ 2
      end
    else
      -- Idle until something may become callable: an arrival, or a head
      -- of its lines that is not due yet.
      local nxt = nil
      if ai <= #arrivals then nxt = arrivals[ai].at end
      for _, key in ipairs(c.keys) do
        local h = head(key)
        if h ~= nil and h.due > t and (nxt == nil or h.due < nxt) then nxt = h.due end
      end
      if nxt == nil or nxt <= t then
        table.remove(active, bi)
      else
        c.free = nxt
      end
    end
  end
  return out
end

local function last_event_id()
  local last = redis.call("XREVRANGE", P .. "events", "+", "-", "COUNT", 1)
  if #last > 0 then return last[1][1] end
  return cjson.null
end

-- One forecast per state of the office for the tickets' views: every ticket
-- page and socket refreshes its view after each event, so the first view
-- after an event runs the whole office once and keeps every ticket's call
-- (hash fcache, tagged with the last event id); the others read it. Every
-- change of the queue appends an event, so a new event id means a new run;
-- FORECAST_CACHE_MS bounds what the clock alone moves (a visit running
-- over, a slot coming due). `ids`: ticket ids or "+<service>" (a walk-in
-- joining now); returns {[id] = {at, low, counter}} for those forecast.
local FORECAST_CACHE_MS = 15000
local function cached_forecast(ids)
  local key = P .. "fcache"
  local ev = last_event_id()
  if ev == cjson.null then ev = "" end
  local meta = redis.call("HMGET", key, "_event", "_at", unpack(ids))
  local at = tonumber(meta[2])
  local out = {}
  if meta[1] == ev and at ~= nil and NOW >= at and NOW - at <= FORECAST_CACHE_MS then
    for i, id in ipairs(ids) do
      local v = meta[i + 2]
      if v then
        local a, l, c = string.match(v, "^([^,]*),([^,]*),(.*)$")
        out[id] = {at = tonumber(a), low = tonumber(l), counter = c}
      end
    end
    return out
  end
  -- The whole office, and a walk-in joining now for each service (status).
  local f = forecast(redis.call("SMEMBERS", P .. "services"))
  redis.call("DEL", key)
  local flat = {"_event", ev, "_at", NOW}
  local function flush()
    if #flat > 0 then redis.call("HSET", key, unpack(flat)) end
    flat = {}
  end
  for id, e in pairs(f) do
    flat[#flat + 1] = id
    flat[#flat + 1] = e.at .. "," .. e.low .. "," .. e.counter
    if #flat >= 400 then flush() end
  end
  flush()
  redis.call("PEXPIRE", key, 2 * FORECAST_CACHE_MS)
  for _, id in ipairs(ids) do out[id] = f[id] end
  return out
end

-- What the holder of a ticket may see: the ticket without personal data,
-- people ahead, and the inputs of the wait estimate. Every script that
-- changes a ticket returns this, so callers need no second round trip.
local function ticket_view(tid)
  local t = hgetall(P .. "t:" .. tid)
  if t == nil then return nil end
  t["phone"] = nil
  t["name"] = nil
  local ahead = cjson.null
  if t["state"] == "waiting" or t["state"] == "held" or t["state"] == "remote" then
    local qkey = P .. "q:" .. t["service"]
    if t["target"] ~= "" then qkey = P .. "cq:" .. t["target"] end
    ahead = redis.call("ZCOUNT", qkey, "-inf", "(" .. t["score"])
  end
  -- A booking that came early is not called before its slot (choose_next):
  -- the estimate must not promise it sooner.
  local until_due = 0
  local due = tonumber(t["due"]) or NOW
  if t["state"] == "waiting" and due > NOW
     and redis.call("HGET", P .. "svc:" .. t["service"], "early_call") ~= "when_free" then
    until_due = due - NOW
  end
  -- The forecast: when this ticket is expected to be called (mean and low
  -- quantile, ms), for tickets still to be called.
  local fc = cjson.null
  if t["state"] == "waiting" or t["state"] == "remote" or t["state"] == "held" then
    local f = cached_forecast({tid})[tid]
    if f ~= nil then fc = {at = f.at, low = f.low, counter = f.counter} end
  end
  return {ticket = t, ahead = ahead, until_due_ms = until_due, forecast = fc, now = NOW,
    counter = counter_pub(t["counter"]) or cjson.null, last_event = last_event_id()}
end

-- Issue a ticket (issue_ticket.lua, check-in of a booking). `p`: id, service,
-- channel, day (YYYYMMDD), priority ("1"/"0"), head_start (ms), lang, state
-- (waiting | remote), due ("" = now, else ms), ttl (s), walk_in_only,
-- booking (optional id), phone (optional E.164: a remote ticket that wants
-- "near" / "come now" SMS). Returns the ticket table, or nil and an error reply.
local function issue(p)
  local svc = hgetall(P .. "svc:" .. p.service)
  if svc == nil then return nil, fail("unknown_service") end
  if p.walk_in_only and svc["walk_in"] ~= "1" then return nil, fail("walk_in_not_allowed") end
  local tkey = P .. "t:" .. p.id
  if redis.call("EXISTS", tkey) == 1 then return nil, fail("duplicate_id") end

  local seqkey = P .. "seq:" .. p.service .. ":" .. p.day
  local n = redis.call("INCR", seqkey)
  if n == 1 then redis.call("EXPIRE", seqkey, 172800) end
  -- Three digits on the ticket; after 999 in one day the numbers wrap to 001.
  local number = svc["letter"] .. "-" .. string.format("%03d", ((n - 1) % 999) + 1)

  local due = NOW
  if p.due ~= nil and p.due ~= "" then due = tonumber(p.due) end
  local score = due
  if p.priority == "1" then score = due - p.head_start end
  if p.due ~= nil and p.due ~= "" then
    -- Equal due_at (a slot's bookings) is broken by arrival, not by the
    -- random id (DESIGN §5): the n-th ticket given this score gets
    -- (n-1)/4096 ms more. Epoch ms stay below 2^41 until 2039, so a double
    -- holds 1/4096 ms exactly; walk-ins (due = now) need no tie counter.
    local tie = P .. "tie:" .. score
    local k = redis.call("INCR", tie)
    if k == 1 then expire_on_clock(tie, math.floor(due / 1000) + 86400) end
    score = score + math.min(k - 1, 4095) / 4096
  end

  local t = {id = p.id, number = number, service = p.service, state = p.state}
  redis.call("HSET", tkey, "id", p.id, "office", OFFICE, "number", number,
    "service", p.service, "channel", p.channel, "state", p.state, "due", due,
    "score", score, "priority", p.priority, "lang", p.lang, "day", p.day, "seq", n,
    "recalls", 0, "issued_at", NOW, "counter", "", "target", "", "booking", p.booking or "",
    "stat_key", p.service .. ":" .. n, "stat_service", p.service)
  redis.call("EXPIRE", tkey, p.ttl)
  redis.call("ZADD", P .. "day:" .. p.day, NOW, p.id)
  redis.call("EXPIRE", P .. "day:" .. p.day, p.ttl)

  if p.state == "waiting" then
    -- A checked-in booking arrives now: its wait counts from the later of
    -- its slot and this moment (statistics, staff console).
    if p.booking ~= nil and p.booking ~= "" then redis.call("HSET", tkey, "arrived_at", NOW) end
    redis.call("ZADD", P .. "q:" .. p.service, score, p.id)
  else
    -- Away (remote): counted by the forecast from its expected return.
    redis.call("ZADD", P .. "away", score, p.id)
  end
  if p.state ~= "waiting" and p.phone ~= nil and p.phone ~= "" then
    -- Personal data only while it serves its purpose: dropped on arrival.
    redis.call("HSET", tkey, "phone", p.phone)
    redis.call("ZADD", P .. "rq", score, p.id)
  end
  emit("ticket.issued", t, nil, {channel = p.channel, waiting = waiting_count(p.service)})
  return t, nil
end

-- A ticket away (remote, held) is told when to be back: the low quantile of
-- its forecast call time `f` counted with every ticket here, itself and
-- those away ahead of it included (forecast(nil, true)), rounded up to the
-- minute so the time said is never already past. It is not called before
-- it is back (arrive.lua), so coming back at this time never loses the turn.
local function set_back_at(tid, f)
  if f == nil then return end
  local back = math.max(NOW, f.low)
  back = math.ceil(back / 60000) * 60000
  redis.call("HSET", P .. "t:" .. tid, "back_at", back)
end

-- A remote ticket that leaves the remote state no longer gets "near" SMS:
-- its phone number goes at once.
local function remote_done(tid)
  redis.call("ZREM", P .. "rq", tid)
  redis.call("HDEL", P .. "t:" .. tid, "phone")
end

-- Bookings: a booking leaves the per-phone set and frees its kiosk code once
-- it is no longer "booked" (checked in, cancelled, no-show).
local function booking_closed(b, status, stamp_field)
  local bkey = P .. "b:" .. b["id"]
  redis.call("HSET", bkey, "status", status, stamp_field, NOW)
  redis.call("SREM", P .. "bphone:" .. b["phone"], b["id"])
  if redis.call("GET", P .. "bcode:" .. b["code"]) == b["id"] then
    redis.call("DEL", P .. "bcode:" .. b["code"])
  end
  b["status"] = status
end

local function booking_pub(b)
  return {service = b["service"], slot = tonumber(b["slot"])}
end

local function booking_out(b)
  return {id = b["id"], service = b["service"], slot = tonumber(b["slot"]),
    slot_end = tonumber(b["slot_end"]), status = b["status"], code = b["code"],
    lang = b["lang"], channel = b["channel"], phone = b["phone"], name = b["name"],
    ticket = b["ticket"] or ""}
end
