--[[
  Read one ticket with what its holder needs to know: people ahead, the
  service's learned average and the open counters serving it. Read-only;
  never returns personal data.

  KEYS[1] events stream of the office
  ARGV[1..5] see includes.lua (ARGV[3..5] unused)
  ARGV[6] ticket id

  Returns {"ok", <ticket view, see includes.lua>} | {"error": unknown_ticket}
]]
local view = ticket_view(ARGV[6])
if view == nil then return fail("unknown_ticket") end
return ok(view)
