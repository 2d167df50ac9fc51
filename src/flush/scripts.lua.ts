import { defineScript } from '../counters/script.ts'

/**
 * Freezes the pending deltas into a snapshot under a new batch id, atomically with respect to
 * the group commit (a Lua script runs alone), so every acknowledged increment is either still
 * pending or in exactly one snapshot.
 *
 * KEYS[1..6]: pending hashes (d h u f p v); KEYS[7..12]: the snapshot keys for the same kinds;
 * KEYS[13]: the snapshot registry (sorted set); KEYS[14]: the sequence counter.
 * ARGV[1]: batch id; ARGV[2]: TTL of the snapshot keys.
 * Returns the snapshot's sequence number, or 0 when nothing was pending.
 */
export const MOVE_PENDING = defineScript(`#!lua
local moved = {}
for k = 1, 6 do
  if redis.call('EXISTS', KEYS[k]) == 1 then moved[#moved + 1] = k end
end
if #moved == 0 then return 0 end
local seq = redis.call('INCR', KEYS[14])
redis.call('EXPIRE', KEYS[14], ARGV[2])
for _, k in ipairs(moved) do
  redis.call('RENAME', KEYS[k], KEYS[k + 6])
  redis.call('EXPIRE', KEYS[k + 6], ARGV[2])
end
redis.call('ZADD', KEYS[13], seq, ARGV[1])
redis.call('EXPIRE', KEYS[13], ARGV[2])
return seq
`)

/**
 * Forgets a snapshot once Postgres holds it. KEYS[1..6]: the snapshot keys; KEYS[7]: the
 * registry. ARGV[1]: batch id.
 */
export const DROP_SNAPSHOT = defineScript(`#!lua
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6])
redis.call('ZREM', KEYS[7], ARGV[1])
return 1
`)

/** Takes the lease if free, or extends it if ours. KEYS[1]: lease; ARGV: owner, ms. */
export const TAKE_LEASE = defineScript(`#!lua
local owner = redis.call('GET', KEYS[1])
if owner == false or owner == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`)

/** Releases the lease only if ours. KEYS[1]: lease; ARGV[1]: owner. */
export const RELEASE_LEASE = defineScript(`#!lua
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)
