import { defineScript } from '../db/script.ts'
import { OTHER } from '../events/values.ts'
import { FIRST_SECTION_ARG, luaHeaderLocals, luaLayoutComment } from './apply-layout.ts'

/**
 * Applies one group-commit batch atomically and sets every key's TTL in the same step. The
 * batcher builds its arguments with `MergedOps.toScriptArgs` (merge.ts), laid out as
 * apply-layout.ts describes; the comment opening the script is generated from that description.
 */
export const APPLY_BATCH = defineScript(`#!lua
${luaLayoutComment()}
-- Arguments cost the client more than anything else in the call; with both sections laid out
-- this way a warm batch of 32 requests under the benchmark's browser-like load takes 191
-- arguments, where a record per field and per key's element took 301.
-- Returns the positions (1-based, among the capped records) of the members refused for a full
-- set, so the caller learns which members count by name and which as '(other)'.
${luaHeaderLocals()}
local i = ${FIRST_SECTION_ARG}
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
