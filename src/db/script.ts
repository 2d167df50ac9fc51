/**
 * Lua scripts run with EVALSHA, falling back to EVAL once when Redis does not know the script
 * yet (after a restart or failover), so the script body crosses the wire only when needed.
 *
 * Scripts start with a `#!lua` shebang, whose flags say what Redis may do at `maxmemory`:
 * - none (the group commit): the whole script is refused up front, never half-way through its
 *   writes, and the request answers 503;
 * - `flags=allow-oom` (the flush, the lease, a read's short-lived copies): it runs, since what it
 *   writes is a few bytes and what it lets go of (a flushed snapshot) is what frees the memory.
 *   A full Redis drains itself through the flush;
 * - `flags=no-writes` (reads): it runs, and Redis holds it to reading.
 */
import { RESP_TYPES } from 'redis'
import type { Redis } from './redis.ts'

export interface Script {
  readonly source: string
  readonly sha: string
}

export function defineScript(source: string): Script {
  return { source, sha: new Bun.CryptoHasher('sha1').update(source).digest('hex') }
}

/** `binary`: bulk strings in the reply come back as Buffers (for bytes that are not text). */
export async function runScript(
  redis: Redis,
  script: Script,
  keys: string[],
  /** text, or bytes (a HyperLogLog's) */
  args: (string | Buffer)[],
  options: { binary?: boolean } = {},
): Promise<unknown> {
  const client = options.binary
    ? (redis.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }) as unknown as Redis)
    : redis
  try {
    return await client.evalSha(script.sha, { keys, arguments: args })
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err
    return client.eval(script.source, { keys, arguments: args })
  }
}
