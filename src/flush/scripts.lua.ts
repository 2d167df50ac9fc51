import { defineScript } from '../db/script.ts'

/**
 * Freezes the pending deltas into a snapshot under a new batch id, atomically with respect to
 * the group commit (a Lua script runs alone), so every acknowledged increment is either still
 * pending or in exactly one snapshot. Returns the snapshot's sequence number, or 0 when nothing
 * was pending.
 */
export const MOVE_PENDING = defineScript(`#!lua flags=allow-oom
-- KEYS[1..n]: the pending hashes, one per kind
-- KEYS[n+1..2n]: the new snapshot's keys, the same kinds in the same order
-- KEYS[2n+1]: the snapshot registry (sorted set of batch ids, scored by sequence)
-- KEYS[2n+2]: the move sequence counter
-- ARGV[1] batchId: the new snapshot's batch id
-- ARGV[2] ttl: seconds the snapshot keys, the registry and the counter live
-- ARGV[3] n: the number of kinds
local batchId, ttl, n = ARGV[1], ARGV[2], tonumber(ARGV[3])
local registry, sequence = KEYS[2 * n + 1], KEYS[2 * n + 2]
local moved = {}
for k = 1, n do
  if redis.call('EXISTS', KEYS[k]) == 1 then moved[#moved + 1] = k end
end
if #moved == 0 then return 0 end
local seq = redis.call('INCR', sequence)
redis.call('EXPIRE', sequence, ttl)
for _, k in ipairs(moved) do
  redis.call('RENAME', KEYS[k], KEYS[n + k])
  redis.call('EXPIRE', KEYS[n + k], ttl)
end
redis.call('ZADD', registry, seq, batchId)
redis.call('EXPIRE', registry, ttl)
return seq
`)

/** Forgets a snapshot once Postgres holds it. */
export const DROP_SNAPSHOT = defineScript(`#!lua flags=allow-oom
-- KEYS[1..#KEYS-1]: the snapshot's keys; KEYS[#KEYS]: the snapshot registry
-- ARGV[1] batchId: the snapshot's batch id
local registry = KEYS[#KEYS]
for k = 1, #KEYS - 1 do
  redis.call('DEL', KEYS[k])
end
redis.call('ZREM', registry, ARGV[1])
return 1
`)

/**
 * A held snapshot's record and hashes, and with ARGV[2] = '1' its removal from Redis in the same
 * step: its keys, its place in the registry and its record. Nothing (nil) when it is not held.
 */
export const TAKE_HELD = defineScript(`#!lua flags=allow-oom
-- KEYS[1]: the held snapshots' hash; KEYS[2]: the snapshot registry
-- KEYS[3..#KEYS-1]: the snapshot's counter hashes, one per pending kind in order
-- KEYS[#KEYS]: the snapshot's log rows (a list)
-- ARGV[1] batchId; ARGV[2] remove: '1' to delete it, '0' to read only
local held, registry, batchId = KEYS[1], KEYS[2], ARGV[1]
local info = redis.call('HGET', held, batchId)
if not info then return false end
local out = { info }
for k = 3, #KEYS - 1 do out[#out + 1] = redis.call('HGETALL', KEYS[k]) end
out[#out + 1] = redis.call('LRANGE', KEYS[#KEYS], 0, -1)
if ARGV[2] == '1' then
  for k = 3, #KEYS do redis.call('DEL', KEYS[k]) end
  redis.call('ZREM', registry, batchId)
  redis.call('HDEL', held, batchId)
end
return out
`)

/**
 * Sets a snapshot aside: its record in the held hash, whose TTL every flush renews. A script so
 * that it runs at `maxmemory` too: the flush must get past a refused batch there as well.
 */
export const HOLD = defineScript(`#!lua flags=allow-oom
-- KEYS[1]: the held snapshots' hash
-- ARGV[1] batchId; ARGV[2] record: JSON of why; ARGV[3] ttl: seconds the hash lives
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
`)

/** Takes the lease if free, or extends it if ours; 1 when held, 0 when another holds it. */
export const TAKE_LEASE = defineScript(`#!lua flags=allow-oom
-- KEYS[1]: the lease
-- ARGV[1] owner: the taking instance's id
-- ARGV[2] ms: how long the lease lasts unless renewed
local lease, owner, ms = KEYS[1], ARGV[1], ARGV[2]
local holder = redis.call('GET', lease)
if holder == false or holder == owner then
  redis.call('SET', lease, owner, 'PX', ms)
  return 1
end
return 0
`)

/** Releases the lease only if ours. */
export const RELEASE_LEASE = defineScript(`#!lua flags=allow-oom
-- KEYS[1]: the lease
-- ARGV[1] owner: the releasing instance's id
local lease, owner = KEYS[1], ARGV[1]
if redis.call('GET', lease) == owner then return redis.call('DEL', lease) end
return 0
`)

/**
 * A day's visitor set as it is now: the HyperLogLog's bytes (false once expired) and their count,
 * in one step, so the stored count is the count of the stored bytes. (A script, not a MULTI:
 * node-redis hands a MULTI's replies back as text, which would mangle the bytes.) `allow-oom`,
 * not `no-writes`: PFCOUNT may write its cached count into the key, which `no-writes` refuses.
 */
export const READ_VISITOR_SET = defineScript(`#!lua flags=allow-oom
-- KEYS[1]: the day's visitors HyperLogLog
return { redis.call('GET', KEYS[1]), redis.call('PFCOUNT', KEYS[1]) }
`)
