/**
 * How Redis is run, as its `INFO` tells it: the eviction policy, the memory limit and use, and
 * whether an append-only file is kept. `INFO`, not `CONFIG GET`: managed services often rename
 * or refuse `CONFIG`. A cluster is read master by master, since each holds acknowledged events.
 *
 * @example
 * const masters = await readRedisInfo(redis) // one entry, or one per cluster master
 * summarize(masters) // { maxmemory_policy: 'noeviction', aof_enabled: true, ... }
 */
import type { RedisClusterType } from 'redis'
import { maskUrl } from '../config.ts'
import type { Redis } from './redis.ts'

export interface RedisNodeInfo {
  /** the master's address, for the log and start-up errors (never in a public answer) */
  node: string
  /** `maxmemory_policy`; undefined when INFO does not show it */
  policy?: string
  /** `maxmemory` in bytes; 0 = no limit */
  maxmemory: number
  /** `used_memory` in bytes */
  usedMemory: number
  /** `aof_enabled`; undefined when INFO does not show it */
  aofEnabled?: boolean
}

/** `key:value` lines of an INFO reply; section headers and blank lines skipped. */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>()
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1).trim())
  }
  return fields
}

/** One master's state from its INFO fields. */
export function nodeInfo(node: string, fields: Map<string, string>): RedisNodeInfo {
  const bytes = (name: string) => {
    const n = Number(fields.get(name))
    return Number.isFinite(n) && n >= 0 ? n : 0
  }
  const aof = fields.get('aof_enabled')
  return {
    node,
    policy: fields.get('maxmemory_policy') || undefined,
    maxmemory: bytes('maxmemory'),
    usedMemory: bytes('used_memory'),
    aofEnabled: aof === undefined ? undefined : aof === '1',
  }
}

/**
 * Every policy but `noeviction` drops keys at `maxmemory`: `allkeys-*` any key, `volatile-*`
 * keys with a TTL, which here is every key (invariant I4).
 */
export function evicts(policy: string | undefined): boolean {
  return policy !== undefined && policy !== 'noeviction'
}

/** The share of `maxmemory` in use; undefined without a limit. */
export function memoryRatio(info: Pick<RedisNodeInfo, 'usedMemory' | 'maxmemory'>): number | undefined {
  return info.maxmemory > 0 ? info.usedMemory / info.maxmemory : undefined
}

const SECTIONS = ['INFO', 'memory', 'persistence']

async function readOne(client: Pick<Redis, 'sendCommand'>, node: string): Promise<RedisNodeInfo> {
  // several sections in one INFO: Redis 7, which the service needs anyway (README, Deployment)
  return nodeInfo(node, parseInfo(String(await client.sendCommand(SECTIONS))))
}

/** The INFO of the Redis, or of every master of a cluster (the cluster client has `masters`). */
export async function readRedisInfo(redis: Redis): Promise<RedisNodeInfo[]> {
  if (!('masters' in redis)) return [await readOne(redis, maskUrl(redis.options?.url ?? 'redis'))]
  const cluster = redis as unknown as RedisClusterType
  return Promise.all(cluster.masters.map(async (master) => readOne(await cluster.nodeClient(master), master.address)))
}

/**
 * What `/readyz` shows: no address, and one set of numbers for a cluster: the evicting policy if
 * any master has one, AOF on only if on everywhere, and the memory of the fullest master.
 */
export interface RedisConfigSummary {
  maxmemory_policy: string | null
  aof_enabled: boolean | null
  used_memory: number
  /** 0 = no limit */
  maxmemory: number
  /** used_memory / maxmemory of the fullest master; null without a limit */
  memory_ratio: number | null
}

/** The fullest master: the highest ratio, then the most memory used. */
export function fullest(masters: readonly RedisNodeInfo[]): RedisNodeInfo | undefined {
  let top: RedisNodeInfo | undefined
  for (const m of masters) {
    const [a, b] = [memoryRatio(m) ?? -1, top ? (memoryRatio(top) ?? -1) : -2]
    if (!top || a > b || (a === b && m.usedMemory > top.usedMemory)) top = m
  }
  return top
}

export function summarize(masters: readonly RedisNodeInfo[]): RedisConfigSummary {
  const top = fullest(masters)
  const policies = masters.map((m) => m.policy)
  const aof = masters.map((m) => m.aofEnabled)
  const ratio = top && memoryRatio(top)
  return {
    maxmemory_policy: policies.find(evicts) ?? policies.find((p) => p !== undefined) ?? null,
    aof_enabled: aof.length === 0 || aof.includes(undefined) ? null : aof.every(Boolean),
    used_memory: top?.usedMemory ?? 0,
    maxmemory: top?.maxmemory ?? 0,
    memory_ratio: ratio === undefined ? null : Math.round(ratio * 1000) / 1000,
  }
}
