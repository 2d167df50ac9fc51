/**
 * A notice once Redis holds more than {@link MEMORY_NOTICE_RATIO} of its `maxmemory` (from
 * `/readyz`, readiness.ts): how full it is, what happens when it is full, and what to do.
 */
import { formatBytes, formatShare } from '../format.ts'
import type { Readiness } from '../readiness.ts'

export const MEMORY_NOTICE_RATIO = 0.9

export function RedisMemory({ memory }: { memory: Readiness['memory'] }) {
  if (!memory || memory.ratio < MEMORY_NOTICE_RATIO) return null
  const full = memory.ratio >= 1
  return (
    <div class="notice" role="status" data-notice="redis-memory" data-ratio={memory.ratio}>
      <p>
        <strong>
          {full ? 'Redis is full' : `Redis is ${formatShare(Math.floor(memory.ratio * 100) / 100)} full`}:
        </strong>{' '}
        {formatBytes(memory.used)} of its {formatBytes(memory.max)} <code>maxmemory</code>. {full ? 'Now' : 'At 100%'}{' '}
        Redis refuses new writes: beacons and server events are answered 503 until there is room, and nothing already
        acknowledged is lost. The next flush writes the counts to Postgres and frees the memory. To keep room, raise
        Redis's <code>maxmemory</code> or flush more often (<code>FLUSH_INTERVAL_MS</code>, or{' '}
        <code>POST /analytics/flush</code> now).
      </p>
    </div>
  )
}
