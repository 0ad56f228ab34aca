--[[
  Check a lobby code typed on a smartphone (check-in of a booking, arrival
  of a remote ticket) and count the wrong ones, in one step: concurrent
  guesses cannot test more codes than the limits allow. A few wrong codes
  for one booking or ticket, or more from one client address, pause every
  try for that booking, ticket or address (the right code too); each
  further pause is twice as long, up to the longest.

  KEYS[1] events stream of the office (unused: nothing changes in the queue)
  ARGV[1..5] see includes.lua
  ARGV[6] the code typed
  ARGV[7] the code shown now
  ARGV[8] the code just replaced (still accepted)
  ARGV[9] tries key of the booking or ticket (keys.py presence_tries "s")
  ARGV[10] tries key of the client address (presence_tries "a")
  ARGV[11] wrong codes of one booking or ticket before a pause
  ARGV[12] wrong codes of one address before a pause
  ARGV[13] first pause, ms
  ARGV[14] longest pause, ms
  ARGV[15] how long wrong codes are remembered after the last one, ms

  Returns {"ok"}
        | {"error": "presence_locked", "retry_after": seconds}
        | {"error": "presence_required", "tries_left": n}
]]
local typed = ARGV[6]
local tries = {
  {key = ARGV[9], limit = tonumber(ARGV[11])},
  {key = ARGV[10], limit = tonumber(ARGV[12])},
}
local first_pause, longest = tonumber(ARGV[13]), tonumber(ARGV[14])
local remember = tonumber(ARGV[15])

local function retry_after(until_ms)
  return math.max(1, math.ceil((until_ms - NOW) / 1000))
end

local paused_until = 0
for _, t in ipairs(tries) do
  local h = hgetall(t.key) or {}
  t.fails, t.pauses = tonumber(h["fails"] or "0"), tonumber(h["pauses"] or "0")
  local until_ms = tonumber(h["until"] or "0")
  if until_ms > NOW and until_ms > paused_until then paused_until = until_ms end
end
if paused_until > 0 then
  return fail("presence_locked", {retry_after = retry_after(paused_until)})
end

if typed == "" then
  return fail("presence_required")  -- asked for, not guessed: not counted
end
if typed == ARGV[7] or typed == ARGV[8] then
  -- The holder proved presence: their own slate is clean again.
  redis.call("DEL", tries[1].key)
  return ok()
end

local tries_left = nil
for _, t in ipairs(tries) do
  t.fails = t.fails + 1
  local pause = 0
  if t.fails >= t.limit then
    pause = math.floor(math.min(first_pause * 2 ^ t.pauses, longest))
    t.pauses, t.fails = t.pauses + 1, 0
    local until_ms = NOW + pause
    if until_ms > paused_until then paused_until = until_ms end
    redis.call("HSET", t.key, "fails", 0, "pauses", t.pauses, "until", until_ms)
  else
    redis.call("HSET", t.key, "fails", t.fails)
    local left = t.limit - t.fails
    if tries_left == nil or left < tries_left then tries_left = left end
  end
  redis.call("PEXPIRE", t.key, math.floor(pause + remember))
end
if paused_until > 0 then
  return fail("presence_locked", {retry_after = retry_after(paused_until)})
end
return fail("presence_required", {tries_left = tries_left})
