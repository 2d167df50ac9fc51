import { defineScript } from '../db/script.ts'

/**
 * One shard's unflushed counts in one step, so a read sees each acknowledged increment either
 * pending or in exactly one snapshot: the move sequence, the snapshot registry, then each hash,
 * whole or only some of its fields. A script rather than a MULTI: at `maxmemory` Redis refuses
 * to queue even reads in a MULTI, while it runs a script flagged `no-writes`.
 */
export const READ_UNFLUSHED = defineScript(`#!lua flags=no-writes
-- KEYS[1]: the move sequence counter; KEYS[2]: the snapshot registry
-- KEYS[3..]: the hashes to read
-- ARGV: for each hash in order, n then n field names: HMGET of those, HGETALL when n is -1, or
--   LRANGE of the whole list (the event log's rows) when n is -2
-- Returns { sequence or nil, registry, then per key its HGETALL (flat), HMGET or LRANGE reply }
local out = { redis.call('GET', KEYS[1]), redis.call('ZRANGE', KEYS[2], 0, -1) }
local i = 1
for k = 3, #KEYS do
  local n = tonumber(ARGV[i]); i = i + 1
  if n == -2 then
    out[#out + 1] = redis.call('LRANGE', KEYS[k], 0, -1)
  elseif n < 0 then
    out[#out + 1] = redis.call('HGETALL', KEYS[k])
  else
    -- unpack() has a stack limit of a few thousand values: HMGET a thousand fields at a time
    local values = {}
    for from = i, i + n - 1, 1000 do
      local part = redis.call('HMGET', KEYS[k], unpack(ARGV, from, math.min(from + 999, i + n - 1)))
      for j = 1, #part do values[#values + 1] = part[j] end
    end
    out[#out + 1] = values
    i = i + n
  end
end
return out
`)

/**
 * A read's visitor counts in one step: each live day's, then for each range the union of its live
 * days and (when it has stored days) a copy of their merged set, which is written, counted and
 * deleted within the script. `allow-oom`: a copy is at most 12 KB and is gone when the script
 * ends, so reads go on at `maxmemory`; its TTL only covers a script cut short.
 */
export const COUNT_VISITORS = defineScript(`#!lua flags=allow-oom
-- KEYS[1..nLive]: the live days' HyperLogLogs, ascending; KEYS[nLive+1..]: one copy key per range
--   that has stored sets, in order
-- ARGV[1] nLive; ARGV[2] copyTtlMs; ARGV[3] ranges: how many; then per range:
--   first, last: the live days it counts, as positions in KEYS (last < first for none),
--   hasCopy ('1' or '0') and, with a copy, the bytes of its stored days' merged set
-- Returns each live day's count, then each range's union (-1 for a range with nothing to count)
local nLive, ttl, ranges = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local out = {}
for k = 1, nLive do out[#out + 1] = redis.call('PFCOUNT', KEYS[k]) end
local i, copyAt, copies = 4, nLive + 1, {}
for _ = 1, ranges do
  local first, last, hasCopy = tonumber(ARGV[i]), tonumber(ARGV[i + 1]), ARGV[i + 2]
  i = i + 3
  local counted = {}
  for k = first, last do counted[#counted + 1] = KEYS[k] end
  if hasCopy == '1' then
    local copy = KEYS[copyAt]
    copyAt = copyAt + 1
    redis.call('SET', copy, ARGV[i], 'PX', ttl)
    i = i + 1
    copies[#copies + 1] = copy
    counted[#counted + 1] = copy
  end
  if #counted > 0 then out[#out + 1] = redis.call('PFCOUNT', unpack(counted)) else out[#out + 1] = -1 end
end
if #copies > 0 then redis.call('DEL', unpack(copies)) end
return out
`)
