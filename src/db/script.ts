/**
 * Lua scripts run with EVALSHA, falling back to EVAL once when Redis does not know the script
 * yet (after a restart or failover), so the script body crosses the wire only when needed.
 *
 * Scripts start with a `#!lua` shebang: Redis then refuses the whole script up front when it is
 * out of memory, instead of failing half-way through its writes.
 */
import type { Redis } from './redis.ts'

export interface Script {
  readonly source: string
  readonly sha: string
}

export function defineScript(source: string): Script {
  return { source, sha: new Bun.CryptoHasher('sha1').update(source).digest('hex') }
}

export async function runScript(redis: Redis, script: Script, keys: string[], args: string[]): Promise<unknown> {
  try {
    return await redis.evalSha(script.sha, { keys, arguments: args })
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err
    return redis.eval(script.source, { keys, arguments: args })
  }
}
