--[[
  The kiosk agent reports the outcome of a print job. Idempotent: a second
  report of the same job (the agent reconnected before hearing the first
  acknowledgement) changes nothing.

  KEYS[1] events stream of the office
  ARGV[1..5] see includes.lua
  ARGV[6] kiosk id
  ARGV[7] job id
  ARGV[8] outcome: printed | failed
  ARGV[9] printer state after the job: ok | paper_end | paper_near_end |
          cover_open | offline | unknown | error
  ARGV[10] detail, JSON (printer status bits; no personal data)
  ARGV[11] remember acknowledged jobs this many seconds (dedup window)

  Touches: pj:<kiosk>, pjq:<kiosk>, pjdone:<kiosk>, pjfail:<kiosk>, printer:<kiosk>
  Returns {"ok", "changed": bool}
]]
local kiosk, job, outcome = ARGV[6], ARGV[7], ARGV[8]
if redis.call("ZREM", P .. "pjq:" .. kiosk, job) == 0 then return ok({changed = false}) end
local payload = redis.call("HGET", P .. "pj:" .. kiosk, job)
redis.call("HDEL", P .. "pj:" .. kiosk, job)
local done = P .. "pjdone:" .. kiosk
redis.call("ZADD", done, NOW, job)
redis.call("ZREMRANGEBYSCORE", done, "-inf", NOW - tonumber(ARGV[11]) * 1000)
redis.call("EXPIRE", done, tonumber(ARGV[11]))

local fails = P .. "pjfail:" .. kiosk
local number = ""
if payload then number = cjson.decode(payload)["number"] or "" end
local ticket = string.match(job, "^[^:]+")
if outcome == "failed" then
  -- Staff see it and reprint; the citizen keeps the ticket on the screen.
  redis.call("HSET", fails, ticket, number)
else
  redis.call("HDEL", fails, ticket)
end
redis.call("EXPIRE", fails, 86400)

local pkey = P .. "printer:" .. kiosk
local before = redis.call("HGET", pkey, "state")
redis.call("HSET", pkey, "state", ARGV[9], "detail", ARGV[10], "seen_at", NOW)
emit("print.done", nil, nil, {kiosk = kiosk, ok = outcome == "printed", number = number,
  printer = ARGV[9]})
if before ~= ARGV[9] then emit("printer.status", nil, nil, {kiosk = kiosk, state = ARGV[9]}) end
return ok({changed = true})
