--[[
  A kiosk agent reports its printer's state (on connect, on change and
  every few minutes). An event only when the state changes, so staff
  screens hear of a paper end without a stream of heartbeats.

  KEYS[1] events stream of the office
  ARGV[1..5] see includes.lua
  ARGV[6] kiosk id
  ARGV[7] state: ok | paper_end | paper_near_end | cover_open | offline |
          unknown | error | disconnected
  ARGV[8] detail, JSON (no personal data)
  ARGV[9] label of the kiosk (from its token)

  Touches: printer:<kiosk>, kiosks
  Returns {"ok", "changed": bool}
]]
local kiosk, state = ARGV[6], ARGV[7]
local pkey = P .. "printer:" .. kiosk
local before = redis.call("HGET", pkey, "state")
redis.call("HSET", pkey, "state", state, "detail", ARGV[8], "seen_at", NOW, "label", ARGV[9])
redis.call("SADD", P .. "kiosks", kiosk)
if before == state then return ok({changed = false}) end
emit("printer.status", nil, nil, {kiosk = kiosk, state = state})
return ok({changed = true})
