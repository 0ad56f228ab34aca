--[[
  SMS outbox helpers, prepended (after includes.lua) to every script, so any
  script can queue an SMS in the same atomic step as the change it tells
  about (a booking and its confirmation): state and outbox never disagree.
  Not a script on its own; defines locals only.

  Keys, under the office prefix P:
    sms:m:<id>          hash: id, office, to, kind, lang, params (JSON), ref,
                        state, attempts, not_before, expires_at, created_at,
                        sid, error, error_code, sent_at, status_at, failed_at
    sms:due             zset id -> not_before ms: queued messages
    sms:inflight        zset id -> lease expiry ms: claimed by a sender
    sms:log             zset id -> created ms: the staff list
    sms:cnt:<day>:office, sms:cnt:<day>:p:<sha1 of phone>   daily counters
                        (limits; the number itself never in a key name)

  States: queued -> sending (claimed) -> sent -> delivered | undelivered |
  failed (Twilio's delivery report); sending -> queued (retry after
  back-off) | failed (attempts used up, or a permanent error);
  queued -> expired (its time passed before it could go out);
  queued -> withdrawn (sms_withdraw: e.g. the reminder of a cancelled booking).

  The SMS_ARGC arguments of one message, as SmsOutbox.argv() builds them in
  Python (offsets from where the calling script puts them):
    +0  message id ("" = no SMS, e.g. the phone is not a mobile)
    +1  to, E.164 (a Japanese mobile; checked in Python)
    +2  kind: confirmation | reminder | cancellation | come_now | near
    +3  language   +4  params, JSON   +5  ref (booking or ticket id)
    +6  not_before, ms ("" = now)     +7  expires_at, ms ("" = never)
    +8  per-phone daily limit (0 = none)   +9  per-office daily limit (0 = none)
    +10 retention of the record after it is due, seconds

  Use from a script:
    local m = sms_from_argv(21)
    if m then
      local err, view = sms_enqueue(m)   -- err: nil | sms_limit_phone |
    end                                  --      sms_limit_office | duplicate_id
    sms_withdraw(id)                     -- a queued message is not sent
]]
local SMS_ARGC = 11

local function sms_from_argv(i)
  if ARGV[i] == nil or ARGV[i] == "" then return nil end
  return {
    id = ARGV[i], to = ARGV[i + 1], kind = ARGV[i + 2], lang = ARGV[i + 3],
    params = ARGV[i + 4], ref = ARGV[i + 5],
    not_before = tonumber(ARGV[i + 6]) or NOW, expires_at = tonumber(ARGV[i + 7]) or 0,
    phone_limit = tonumber(ARGV[i + 8]) or 0, office_limit = tonumber(ARGV[i + 9]) or 0,
    retention = tonumber(ARGV[i + 10]) or 2592000,
  }
end

-- What a sender or staff may see of a message (no phone number, no text).
local function sms_view(id)
  local v = redis.call("HMGET", P .. "sms:m:" .. id, "id", "kind", "ref", "state",
    "attempts", "not_before", "sid", "error")
  if not v[1] then return nil end
  return {id = v[1], kind = v[2], ref = v[3], state = v[4], attempts = tonumber(v[5]),
    not_before = tonumber(v[6]), sid = v[7] or "", error = v[8] or ""}
end

-- Queue one message. The daily limits are checked before anything is
-- written, so a refusal leaves no trace and the calling script decides
-- whether its own change goes ahead. Returns nil, <view> | <error code>.
local function sms_enqueue(m)
  local mkey = P .. "sms:m:" .. m.id
  if redis.call("EXISTS", mkey) == 1 then return "duplicate_id" end
  -- The business day from the "at" of the call (office time zone).
  local day = string.sub(AT, 1, 4) .. string.sub(AT, 6, 7) .. string.sub(AT, 9, 10)
  local pkey = P .. "sms:cnt:" .. day .. ":p:" .. redis.sha1hex(m.to)
  local okey = P .. "sms:cnt:" .. day .. ":office"
  if m.phone_limit > 0 and tonumber(redis.call("GET", pkey) or "0") >= m.phone_limit then
    return "sms_limit_phone"
  end
  if m.office_limit > 0 and tonumber(redis.call("GET", okey) or "0") >= m.office_limit then
    return "sms_limit_office"
  end
  redis.call("INCR", pkey)
  redis.call("EXPIRE", pkey, 172800)
  redis.call("INCR", okey)
  redis.call("EXPIRE", okey, 172800)

  local due = m.not_before
  if due < NOW then due = NOW end
  redis.call("HSET", mkey, "id", m.id, "office", OFFICE, "to", m.to, "kind", m.kind,
    "lang", m.lang, "params", m.params, "ref", m.ref, "state", "queued", "attempts", 0,
    "not_before", due, "expires_at", m.expires_at, "created_at", NOW, "sid", "", "error", "")
  -- Personal data goes with the record: kept `retention` seconds after the
  -- message is due (a reminder queued weeks ahead lives until then and beyond).
  redis.call("EXPIRE", mkey, m.retention + math.ceil((due - NOW) / 1000))
  redis.call("ZADD", P .. "sms:due", due, m.id)
  redis.call("ZADD", P .. "sms:log", NOW, m.id)
  -- The staff list keeps the latest 50,000 (expired records drop out when listed).
  redis.call("ZREMRANGEBYRANK", P .. "sms:log", 0, -50001)
  return nil, sms_view(m.id)
end

-- Take back a message that has not gone out (a booking cancelled before its
-- reminder). Returns true if it was still queued.
local function sms_withdraw(id)
  local mkey = P .. "sms:m:" .. id
  if redis.call("HGET", mkey, "state") ~= "queued" then return false end
  redis.call("ZREM", P .. "sms:due", id)
  redis.call("HSET", mkey, "state", "withdrawn", "failed_at", NOW)
  return true
end
