--[[
  What became of a message: the sender's outcome of one attempt, or Twilio's
  delivery report (status callback).

  KEYS[1] sms:due of the office
  ARGV[1..5] see includes.lua
  ARGV[6]  action: sent | retry | fail | status | withdraw
  ARGV[7]  message id
  ARGV[8]  the attempt number the sender was given by sms_claim (its lease);
           "" = the current one
  ARGV[9]  Twilio message SID (sent, status)
  ARGV[10] error: retry / fail: short reason without personal data
           ("timeout", "http 500", "twilio 400/21211"); status: Twilio ErrorCode
  ARGV[11] max attempts (retry: the last one fails the message)
  ARGV[12] back-off, ms, comma-separated: retry after attempt n waits the
           n-th value (the last one repeats)
  ARGV[13] status: Twilio's MessageStatus (queued, sent, delivered,
           undelivered, failed, ...)

  sent:   sending -> sent. A late result (the lease ran out meanwhile) still
          records the SID: the message did go out.
  retry:  sending -> queued with not_before = now + back-off, or -> failed
          once max attempts are used. A late result changes nothing.
  fail:   sending -> failed (Twilio refused the message for good).
  status: sent -> delivered | undelivered | failed; never goes back from a
          final state; a report for another SID of the message is ignored.
  withdraw: queued -> withdrawn (not sent); "changed" false once it is out.

  Touches: sms:m:<id>, sms:due, sms:inflight
  Returns {"ok", "message": <view>, "changed": bool, "stale": bool} |
  {"error": "unknown_sms"}
]]
local action, id, attempt, sid = ARGV[6], ARGV[7], tonumber(ARGV[8]), ARGV[9]
local err, max_attempts, status = ARGV[10], tonumber(ARGV[11]), ARGV[13]
local mkey = P .. "sms:m:" .. id
local due_key, flight_key = P .. "sms:due", P .. "sms:inflight"

local m = hgetall(mkey)
if m == nil then return fail("unknown_sms") end
local state = m["state"]
local attempts = tonumber(m["attempts"])
local has_sid = m["sid"] ~= nil and m["sid"] ~= ""
local final = {delivered = true, undelivered = true}
-- The sender still holds the lease it was given (no attempt given: whoever holds it).
local leased = state == "sending" and (attempt == nil or attempts == attempt)

local function done(changed, stale)
  return ok({message = sms_view(id), changed = changed, stale = stale})
end

if action == "sent" then
  redis.call("ZREM", flight_key, id)
  redis.call("ZREM", due_key, id)
  if leased then
    redis.call("HSET", mkey, "state", "sent", "sid", sid, "sent_at", NOW, "error", "")
    return done(true, false)
  end
  -- A delivery report may come before the sender's own result: keep it.
  if final[state] or state == "sent" or (state == "failed" and has_sid) then
    if not has_sid then redis.call("HSET", mkey, "sid", sid) end
    return done(false, not leased)
  end
  redis.call("HSET", mkey, "state", "sent", "sid", sid, "sent_at", NOW, "error", "")
  return done(true, true)
end

if action == "retry" or action == "fail" then
  if not leased then return done(false, true) end
  redis.call("ZREM", flight_key, id)
  if action == "fail" or attempts >= max_attempts then
    redis.call("HSET", mkey, "state", "failed", "failed_at", NOW, "error", err)
    return done(true, false)
  end
  local delays = {}
  for part in string.gmatch(ARGV[12], "[^,]+") do delays[#delays + 1] = tonumber(part) end
  local delay = delays[math.min(attempts, #delays)] or 60000
  redis.call("HSET", mkey, "state", "queued", "not_before", NOW + delay, "error", err)
  redis.call("ZADD", due_key, NOW + delay, id)
  return done(true, false)
end

if action == "status" then
  if has_sid and m["sid"] ~= sid then return done(false, true) end
  if final[state] or (state == "failed" and has_sid) then return done(false, false) end
  if status == "delivered" or status == "undelivered" or status == "failed" then
    redis.call("ZREM", flight_key, id)
    redis.call("ZREM", due_key, id)
    redis.call("HSET", mkey, "state", status, "sid", sid, "status_at", NOW, "error_code", err)
    if state ~= "sent" then redis.call("HSET", mkey, "sent_at", NOW) end
    return done(true, false)
  end
  if status == "sent" and state ~= "sent" then
    redis.call("ZREM", flight_key, id)
    redis.call("ZREM", due_key, id)
    redis.call("HSET", mkey, "state", "sent", "sid", sid, "sent_at", NOW)
    return done(true, false)
  end
  return done(false, false)
end

if action == "withdraw" then
  return done(sms_withdraw(id), false)
end

return fail("bad_request")
