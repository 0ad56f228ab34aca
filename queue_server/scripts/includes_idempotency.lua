--[[
  Idempotency keys (queue_server/idempotency.py), prepended to every script
  after includes.lua; scripts.py runs each script's body through
  idempotent() below. A request with an Idempotency-Key passes:
    KEYS[2]       the key's record, under the office's prefix
                  (P .. "idem:<caller>:<key digest>")
    ARGV[#ARGV-1] fingerprint of the request (method, path, body)
    ARGV[#ARGV]   seconds to keep the record
  Without KEYS[2] the script runs as it is.
  The record {fp, out} is written in the same step as the change, so a retry
  sees either nothing done (and does it) or the change and its outcome
  (returned with "replayed": true, nothing changed). Refusals ({"error"})
  are not kept: they changed nothing.
]]
local IDEM_KEY = KEYS[2]

local function idempotent(operation)
  if IDEM_KEY == nil then return operation() end
  local fp = ARGV[#ARGV - 1]
  local prior = redis.call("HMGET", IDEM_KEY, "fp", "out")
  if prior[1] then
    if prior[1] ~= fp then return fail("idempotency_key_reused") end
    -- Every outcome is a JSON object: mark it as replayed in place.
    return '{"replayed":true,' .. string.sub(prior[2], 2)
  end
  local out = operation()
  if cjson.decode(out)["error"] == nil then
    redis.call("HSET", IDEM_KEY, "fp", fp, "out", out)
    redis.call("EXPIRE", IDEM_KEY, tonumber(ARGV[#ARGV]))
  end
  return out
end
