import { defineScript } from '../db/script.ts'

/**
 * Applies one group-commit batch atomically and sets every key's TTL in the same step. The
 * batcher builds its arguments (`MergedOps.toScriptArgs` in batcher.ts).
 */
export const APPLY_BATCH = defineScript(`#!lua
-- KEYS: every key the batch writes, each once; KEYS[1..nSeen] are the per-day "seen" sets of
--       the caps, the others counter hashes and HyperLogLogs.
-- ARGV[1] ttl: seconds every counter key lives after this write
-- ARGV[2] seenTtl: seconds the "seen" sets live after this write
-- ARGV[3] nSeen: how many of KEYS are "seen" sets
-- ARGV[4..]: three sections, each a count followed by that many records. Keys are given as
--       indexes into KEYS.
--   incr:   n, then n x (key, field, by)                          HINCRBY key field by
--   capped: m, then m x (seen, cap, member, key, prefix, by)      HINCRBY key prefix..member by, or
--           prefix..'(other)' when member is new and seen already holds cap members
--   pfadd:  p, then p x (key, count, element x count)             PFADD key element...
local ttl, seenTtl, nSeen = ARGV[1], ARGV[2], tonumber(ARGV[3])
local i = 4
local n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  redis.call('HINCRBY', KEYS[tonumber(ARGV[i])], ARGV[i + 1], ARGV[i + 2])
  i = i + 3
end
local m = tonumber(ARGV[i]); i = i + 1
for _ = 1, m do
  local seen, cap, member = KEYS[tonumber(ARGV[i])], tonumber(ARGV[i + 1]), ARGV[i + 2]
  if redis.call('SISMEMBER', seen, member) == 0 then
    if redis.call('SCARD', seen) < cap then
      redis.call('SADD', seen, member)
    else
      member = '(other)'
    end
  end
  redis.call('HINCRBY', KEYS[tonumber(ARGV[i + 3])], ARGV[i + 4] .. member, ARGV[i + 5])
  i = i + 6
end
local p = tonumber(ARGV[i]); i = i + 1
for _ = 1, p do
  local count = tonumber(ARGV[i + 1])
  redis.call('PFADD', KEYS[tonumber(ARGV[i])], unpack(ARGV, i + 2, i + 1 + count))
  i = i + 2 + count
end
for k = 1, #KEYS do
  redis.call('EXPIRE', KEYS[k], k <= nSeen and seenTtl or ttl)
end
return n + m + p
`)
