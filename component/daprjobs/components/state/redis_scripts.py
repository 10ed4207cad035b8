"""The Lua scripts of ``state.redis``: each read or write is one script, so redis runs it atomically.

Layout (components-contrib ``state/redis``): one hash per key with fields ``data`` (the value) and ``version`` (an
integer bumped by every write, which is the ETag). A key holding some other type is replaced on write, and a plain
string (an old layout) reads as its value without an ETag.

``WRITE`` takes any number of operations, five ``ARGV`` entries each (kind ``set``/``del``, expected version or
``""``, ``"1"`` when the key must be absent, value, TTL seconds or ``"0"``). It checks every precondition before it
writes anything, so a transaction is all or nothing — contrib sends one script per operation in MULTI/EXEC, where a
failed check does not undo the operations before it. A failed check is an error reply starting ``ETAG_MISMATCH``.
"""

from __future__ import annotations

ETAG_MISMATCH = "ETAG_MISMATCH"
ARGS_PER_OPERATION = 5

READ = """
local out = {}
for i, key in ipairs(KEYS) do
  local kind = redis.call("TYPE", key).ok
  if kind == "hash" then
    local fields = redis.call("HMGET", key, "data", "version")
    out[i] = {fields[1] or "", fields[2] or "", redis.call("PTTL", key)}
  elseif kind == "string" then
    out[i] = {redis.call("GET", key), "", redis.call("PTTL", key)}
  else
    out[i] = {}
  end
end
return out
"""

WRITE = """
local n = #KEYS
for i = 1, n do
  local key = KEYS[i]
  local base = (i - 1) * 5
  local expected, absent = ARGV[base + 2], ARGV[base + 3]
  local kind = redis.call("TYPE", key).ok
  local version = false
  if kind == "hash" then
    version = redis.call("HGET", key, "version") or ""
  elseif kind ~= "none" then
    version = ""
  end
  if expected ~= "" then
    if not version then
      return redis.error_reply("ETAG_MISMATCH state not exist or expired for key=" .. key)
    end
    if version ~= expected then
      return redis.error_reply("ETAG_MISMATCH state etag not match for key=" .. key .. ": current=" .. version ..
        ", expect=" .. expected)
    end
  elseif absent == "1" and kind ~= "none" then
    return redis.error_reply("ETAG_MISMATCH item already exists and no etag was passed")
  end
end
for i = 1, n do
  local key = KEYS[i]
  local base = (i - 1) * 5
  if ARGV[base + 1] == "del" then
    redis.call("DEL", key)
  else
    if redis.call("TYPE", key).ok ~= "hash" then
      redis.call("DEL", key)
    end
    redis.call("HSET", key, "data", ARGV[base + 4])
    redis.call("HINCRBY", key, "version", 1)
    local ttl = tonumber(ARGV[base + 5])
    if ttl > 0 then
      redis.call("EXPIRE", key, ttl)
    else
      redis.call("PERSIST", key)
    end
  end
end
return n
"""
