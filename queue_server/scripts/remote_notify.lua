--[[
  Tell remote tickets (today's queue joined from afar, with a mobile number)
  when to come: "your turn is near" once the estimated wait falls to the
  near threshold, "please come now" at the come-now threshold. Each message
  is queued at most once per ticket, in this same step as the flag that
  says so, so any number of server processes may run it every few seconds.

  KEYS[1] events stream of the office
  ARGV[1..5] see includes.lua
  ARGV[6]  near threshold, ms of estimated wait
  ARGV[7]  come-now threshold, ms
  ARGV[8]  per-phone daily SMS limit (0 = none)
  ARGV[9]  per-office daily SMS limit (0 = none)
  ARGV[10] retention of a message record after it is due, seconds
  ARGV[11] expiry of a "near" message, ms after queueing
  ARGV[12] expiry of a "come now" message, ms after queueing
  ARGV[13..] fresh message ids (random; one is used per message queued)

  Touches: rq, t:<id>, q:<service>, svc:<service>, ctr:*, sms:*
  Returns {"ok", "near": n, "come_now": n, "dropped": n}
]]
local near_ms, come_ms = tonumber(ARGV[6]), tonumber(ARGV[7])
local next_id = 13
local out = {near = 0, come_now = 0, dropped = 0}
local fc = nil

local function queue_sms(t, kind, ahead, expiry_ms)
  local id = ARGV[next_id]
  if id == nil then return false end  -- out of ids: the next run goes on
  next_id = next_id + 1
  local params = cjson.encode({number = t.number, service_id = t.service, ahead = ahead,
    link = "/t/" .. t.id})
  local err = sms_enqueue({id = id, to = t.phone, kind = kind, lang = t.lang, params = params,
    ref = t.id, not_before = NOW, expires_at = NOW + expiry_ms,
    phone_limit = tonumber(ARGV[8]), office_limit = tonumber(ARGV[9]),
    retention = tonumber(ARGV[10])})
  -- Past a daily limit the flag is set all the same: no retry every tick.
  redis.call("HSET", P .. "t:" .. t.id, "sms_" .. kind, err or id)
  if not err then out[kind] = out[kind] + 1 end
  return true
end

for _, tid in ipairs(redis.call("ZRANGE", P .. "rq", 0, -1)) do
  local v = redis.call("HMGET", P .. "t:" .. tid, "state", "phone", "service", "score",
    "number", "lang", "sms_near", "sms_come_now")
  local t = {id = tid, state = v[1], phone = v[2], service = v[3], score = v[4],
    number = v[5], lang = v[6]}
  if t.state ~= "remote" or not t.phone or t.phone == "" then
    remote_done(tid)  -- arrived, cancelled or gone: nothing more to tell
    out.dropped = out.dropped + 1
  elseif not v[8] then
    -- The forecast (issue 11), as every estimate: no open counter will call
    -- it, no estimate, so no message (nobody is being served).
    -- When it would be called if the holder were here (every ticket away
    -- counted as back): "come now" must not wait for an expected return.
    if fc == nil then fc = forecast(nil, true) end
    local f = fc[tid]
    if f ~= nil then
      local ahead = redis.call("ZCOUNT", P .. "q:" .. t.service, "-inf", "(" .. t.score)
      local est = f.at - NOW
      if est <= come_ms then
        if not queue_sms(t, "come_now", ahead, tonumber(ARGV[12])) then break end
        redis.call("HSET", P .. "t:" .. tid, "sms_near", v[7] or "skipped")
      elseif not v[7] and est <= near_ms then
        if not queue_sms(t, "near", ahead, tonumber(ARGV[11])) then break end
      end
    end
  end
end
return ok(out)
