--[[
  Queue a ticket print job for one kiosk's agent. The job id is the ticket
  id (a reprint adds ":r<n>"), so a job is queued once however often the
  kiosk asks. The job stays until the agent acknowledges it (print_ack.lua):
  a disconnect loses nothing.

  KEYS[1] events stream of the office
  ARGV[1..5] see includes.lua
  ARGV[6] kiosk id (the kiosk token's id)
  ARGV[7] job id
  ARGV[8] job payload, JSON (what the printer needs: number, texts, URL)
  ARGV[9] keep an unacknowledged job this many seconds

  Touches: pj:<kiosk> (hash job -> payload), pjq:<kiosk> (zset job -> queued ms),
  kiosks (set)
  Returns {"ok", "queued": true | false (already queued or printed)}
]]
local kiosk, job = ARGV[6], ARGV[7]
local ttl = tonumber(ARGV[9])
local done = P .. "pjdone:" .. kiosk
if redis.call("ZSCORE", done, job) then return ok({queued = false}) end
if redis.call("HSETNX", P .. "pj:" .. kiosk, job, ARGV[8]) == 0 then
  return ok({queued = false})
end
redis.call("ZADD", P .. "pjq:" .. kiosk, NOW, job)
redis.call("EXPIRE", P .. "pj:" .. kiosk, ttl)
redis.call("EXPIRE", P .. "pjq:" .. kiosk, ttl)
redis.call("SADD", P .. "kiosks", kiosk)
-- Wakes the kiosk's agent connection (on whichever process holds it). The
-- kiosk id is not a secret; the payload (with the ticket id) is not sent.
emit("print.queued", nil, nil, {kiosk = kiosk})
return ok({queued = true})
