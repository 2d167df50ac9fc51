import { defineScript } from '../db/script.ts'
import { OTHER } from '../events/values.ts'

/**
 * Applies one group-commit batch atomically and sets every key's TTL in the same step. The
 * batcher builds its arguments (`MergedOps.toScriptArgs` in batcher.ts).
 */
export const APPLY_BATCH = defineScript(`#!lua
-- KEYS: every key the batch writes, each once; KEYS[1..nSeen] are the per-day "seen" sets of
--       the caps, the next nRecent the recent visitors' HyperLogLogs (one a minute), the others
--       counter hashes and the days' HyperLogLogs.
-- ARGV[1] ttl: seconds every counter key lives after this write
-- ARGV[2] seenTtl: seconds the "seen" sets live after this write
-- ARGV[3] nSeen: how many of KEYS are "seen" sets
-- ARGV[4] recentTtl: seconds a recent visitors' HyperLogLog lives after this write
-- ARGV[5] nRecent: how many of KEYS, after the "seen" sets, are those
-- ARGV[6..]: three sections, each a count followed by that many records. Keys are given as
--       indexes into KEYS.
--   incr:   g, then g x (key, ones, field x ones, more, (field, by) x more)
--           HINCRBY key field 1 for each of the first fields, HINCRBY key field by for the
--           others: a key's fields go together, and a count of 1 is not sent
--   capped: m, then m x (seen, cap, member, key, prefix, by)      HINCRBY key prefix..member by, or
--           prefix..'(other)' when member is new and seen already holds cap members
--   pfadd:  p, then p x (n, key x n, count, element x count)      PFADD key element... for each key
--           (the keys given the same elements, a batch's day and minute of visitors, share them)
-- Arguments cost the client more than anything else in the call; with both sections laid out
-- this way a warm batch of 32 requests under the benchmark's browser-like load takes 191
-- arguments, where a record per field and per key's element took 301.
-- Returns the positions (1-based, among the capped records) of the members refused for a full
-- set, so the caller learns which members count by name and which as '(other)'.
local ttl, seenTtl, nSeen, recentTtl, nRecent = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local i = 6
local g = tonumber(ARGV[i]); i = i + 1
for _ = 1, g do
  local key, ones = KEYS[tonumber(ARGV[i])], tonumber(ARGV[i + 1])
  i = i + 2
  for _ = 1, ones do
    redis.call('HINCRBY', key, ARGV[i], 1)
    i = i + 1
  end
  local more = tonumber(ARGV[i]); i = i + 1
  for _ = 1, more do
    redis.call('HINCRBY', key, ARGV[i], ARGV[i + 1])
    i = i + 2
  end
end
local m = tonumber(ARGV[i]); i = i + 1
local refused = {}
for j = 1, m do
  local seen, cap, member = KEYS[tonumber(ARGV[i])], tonumber(ARGV[i + 1]), ARGV[i + 2]
  if redis.call('SISMEMBER', seen, member) == 0 then
    if redis.call('SCARD', seen) < cap then
      redis.call('SADD', seen, member)
    else
      member = '${OTHER}'
      refused[#refused + 1] = j
    end
  end
  redis.call('HINCRBY', KEYS[tonumber(ARGV[i + 3])], ARGV[i + 4] .. member, ARGV[i + 5])
  i = i + 6
end
local p = tonumber(ARGV[i]); i = i + 1
for _ = 1, p do
  local n = tonumber(ARGV[i])
  local count = tonumber(ARGV[i + n + 1])
  for k = 1, n do
    redis.call('PFADD', KEYS[tonumber(ARGV[i + k])], unpack(ARGV, i + n + 2, i + n + 1 + count))
  end
  i = i + n + 2 + count
end
for k = 1, #KEYS do
  local keyTtl = ttl
  if k <= nSeen then keyTtl = seenTtl elseif k <= nSeen + nRecent then keyTtl = recentTtl end
  redis.call('EXPIRE', KEYS[k], keyTtl)
end
return refused
`)
