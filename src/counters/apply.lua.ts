import { defineScript } from './script.ts'

/**
 * Applies one group-commit batch atomically and sets every key's TTL in the same step.
 *
 * KEYS: every key the batch writes; the first ARGV[3] of them are the per-day "seen" sets of
 * the caps, which get ARGV[2] as TTL; the others get ARGV[1].
 * ARGV[4]: n, then n × (key index, field, increment)                          -- HINCRBY
 * then m, then m × (seen index, cap, member, key index, field prefix, increment) -- capped HINCRBY
 * then p, then p × (key index, count, element...)                            -- PFADD
 */
export const APPLY_BATCH = defineScript(`#!lua
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
