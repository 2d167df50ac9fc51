/**
 * Checks at start that Redis is run so that "acknowledged" means kept: a 202 says the events are
 * in Redis, and they stay there alone until the next flush. An evicting `maxmemory-policy` may
 * drop them silently, so it stops the start unless REDIS_ALLOW_EVICTION=true; a Redis without an
 * append-only file loses them in a crash, which is logged once as a warning.
 *
 * @example
 * checkRedisAtStart(await readRedisInfo(redis), config, log) // throws on an evicting policy
 */
import type { Config } from './config.ts'
import { evicts, type RedisNodeInfo } from './db/redis-info.ts'
import type { Logger } from './log.ts'

/** The policies that evict, and on which masters; undefined when none does. */
function evicting(masters: readonly RedisNodeInfo[]): { policy: string; nodes: string[] } | undefined {
  const found = masters.filter((m) => evicts(m.policy))
  if (found.length === 0) return undefined
  return { policy: [...new Set(found.map((m) => m.policy))].join(', '), nodes: found.map((m) => m.node) }
}

/**
 * Throws (one line, for `edge-analytics: …`) on an evicting policy unless `allowEviction`; logs
 * the override, a policy INFO does not show, and an append-only file that is off.
 */
export function checkRedisAtStart(
  masters: readonly RedisNodeInfo[],
  config: Pick<Config, 'redisAllowEviction' | 'flushIntervalMs'>,
  log: Logger,
): void {
  const found = evicting(masters)
  if (found && !config.redisAllowEviction) {
    throw new Error(
      `Redis evicts keys when it is full (maxmemory-policy ${found.policy} on ${found.nodes.join(', ')}), so it ` +
        'could drop events already acknowledged before they are flushed to Postgres. Set maxmemory-policy ' +
        "noeviction (in redis.conf, or in your provider's settings), or set REDIS_ALLOW_EVICTION=true to start anyway.",
    )
  }
  if (found) {
    log.warn(
      'REDIS_ALLOW_EVICTION=true: Redis evicts keys when it is full, and may drop acknowledged events and ' +
        'counters before they are flushed, without a trace. Set maxmemory-policy noeviction to keep them',
      { maxmemory_policy: found.policy, nodes: found.nodes },
    )
  }
  const unknown = masters.filter((m) => m.policy === undefined).map((m) => m.node)
  if (unknown.length > 0) {
    log.warn('Redis INFO does not show maxmemory_policy: eviction not checked', { nodes: unknown })
  }
  const noAof = masters.filter((m) => m.aofEnabled === false).map((m) => m.node)
  if (noAof.length > 0) {
    log.warn(
      `Redis keeps no append-only file (appendonly no): if it crashes or restarts, every event not yet flushed ` +
        `to Postgres is lost, up to FLUSH_INTERVAL_MS (${config.flushIntervalMs} ms) of them. Set appendonly yes`,
      { nodes: noAof },
    )
  }
}
