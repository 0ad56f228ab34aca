--[[
  Queue one SMS in the office's outbox (the body is sms_enqueue() of
  includes_sms.lua, which other scripts call inside their own step).

  KEYS[1] sms:due of the office (routes the call to the office's slot)
  ARGV[1..5] see includes.lua
  ARGV[6..16] the message, SMS_ARGC values (see includes_sms.lua)

  Touches: sms:m:<id>, sms:due, sms:log, sms:cnt:<day>:office,
  sms:cnt:<day>:p:<sha1 of phone>
  Returns {"ok", "message": <view>} | {"error": sms_limit_phone |
  sms_limit_office | duplicate_id | invalid_sms}
]]
local m = sms_from_argv(6)
if m == nil then return fail("invalid_sms") end
local err, view = sms_enqueue(m)
if err then return fail(err) end
return ok({message = view})
