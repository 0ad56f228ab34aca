--[[
  The forecast of the whole office (read-only): when each waiting ticket,
  and each ticket away (remote, held), is expected to be called, by which
  counter and in which order — one forward simulation in call_next's own
  order (includes.lua `forecast`). For tests, the benchmark and staff.

  KEYS[1] events stream of the office (unused)
  ARGV[1..5] see includes.lua (ARGV[4..5] unused)
  ARGV[6] service ids, comma-separated ("" = none): for each, the forecast
          of a walk-in joining now, under "+<service>"

  Returns {"ok", "now": ms, "forecast": {id: {at, low, counter, seq}},
           "steps": simulation steps}
]]
local f = forecast(split(ARGV[6]))
return ok({now = NOW, forecast = f, steps = forecast_steps})
