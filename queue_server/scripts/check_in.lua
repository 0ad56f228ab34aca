--[[
  Check in a booking on arrival: the booking becomes a waiting ticket whose
  due_at follows DESIGN §5 — the slot start when the citizen comes early or
  within the grace time (early arrivals wait for their slot), the arrival
  time when later (they queue as a walk-in would).

  The booking is found by id (manage link), by kiosk code, or by phone
  number (+ code when that phone has several bookings in the window).

  KEYS[1] events stream of the office
  ARGV[1..5] see includes.lua
  ARGV[6]  how: id | code | phone
  ARGV[7]  the booking id, the code, or the E.164 phone
  ARGV[8]  code given with a phone ("" = none)
  ARGV[9]  new ticket id
  ARGV[10] check-in opens this long before the slot, ms
  ARGV[11] and closes this long after it, ms
  ARGV[12] grace after the slot start that keeps the slot's place, ms
  ARGV[13] business day YYYYMMDD (ticket numbering)
  ARGV[14] TTL of the ticket record, seconds
  ARGV[15] language of the ticket ("" = the booking's): the kiosk's chosen language

  Returns {"ok", <ticket view>, "booking": {...}} | {"error": no_booking |
  code_required | too_early | too_late | booking_not_active}
]]
local how, value, code = ARGV[6], ARGV[7], ARGV[8]
local before, after, grace = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12])

local function in_window(b)
  local slot = tonumber(b["slot"])
  return NOW >= slot - before and NOW <= slot + after
end

local b = nil
if how == "id" then
  b = hgetall(P .. "b:" .. value)
elseif how == "code" then
  local id = redis.call("GET", P .. "bcode:" .. value)
  if id then b = hgetall(P .. "b:" .. id) end
else
  -- In the window now; else the next one today, so "too early" can be said.
  local found, upcoming = {}, nil
  for _, id in ipairs(redis.call("SMEMBERS", P .. "bphone:" .. value)) do
    local cand = hgetall(P .. "b:" .. id)
    if cand and cand["status"] == "booked" and (code == "" or cand["code"] == code) then
      local slot = tonumber(cand["slot"])
      if in_window(cand) then
        found[#found + 1] = cand
      elseif slot - before > NOW and slot - NOW < 86400000
             and (upcoming == nil or slot < tonumber(upcoming["slot"])) then
        upcoming = cand
      end
    end
  end
  if #found > 1 then return fail("code_required", {bookings = #found}) end
  b = found[1] or upcoming
end
if b == nil then return fail("no_booking") end
if b["status"] ~= "booked" then return fail("booking_not_active", {status = b["status"]}) end
local slot = tonumber(b["slot"])
if NOW < slot - before then return fail("too_early", {opens_ms = slot - before}) end
if NOW > slot + after then return fail("too_late") end

local due = slot
if NOW > slot + grace then due = NOW end
local t, err = issue({id = ARGV[9], service = b["service"], channel = b["channel"],
  day = ARGV[13], priority = "0", head_start = 0, lang = (ARGV[15] ~= "" and ARGV[15]) or b["lang"], state = "waiting",
  due = due, ttl = tonumber(ARGV[14]), walk_in_only = false, booking = b["id"]})
if err then return err end
redis.call("HSET", P .. "b:" .. b["id"], "ticket", t["id"])
booking_closed(b, "checked_in", "checked_in_at")
b["ticket"] = t["id"]
emit("booking.checked_in", nil, nil, {booking = booking_pub(b)})
local view = ticket_view(t["id"])
view["booking"] = booking_out(b)
return ok(view)
