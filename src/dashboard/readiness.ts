/**
 * What the public `GET /readyz` tells every reader of the dashboard (a viewer token cannot read
 * the admin routes): how many flush batches are held (their counts are not in Postgres yet), and
 * how full Redis is of its `maxmemory`. Read once the first numbers are in, and again when the
 * live feed reports a change, at most once every {@link REREAD_GAP_MS}: memory fills with
 * traffic, which is when the feed moves, and a quiet page asks nothing.
 *
 * @example
 * const readiness = useReadiness(open)
 * readiness.changed() // the feed moved: read again, if the last read is old enough
 * readiness.state // { held: 0, memory: { ratio: 0.93, used: 3_900_000, max: 4_194_304 } }
 */
import { useEffect, useMemo, useState } from 'preact/hooks'

export interface Readiness {
  held: number
  /** event log rows dropped past EVENTS_PENDING_MAX that Redis still remembers */
  logDropped?: number
  /** Redis's memory of its `maxmemory` (the fullest master); undefined without a limit */
  memory?: { ratio: number; used: number; max: number }
}

export const REREAD_GAP_MS = 15_000

const count = (n: unknown) => (typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : undefined)

/** Nothing held and no limit known when the answer does not say (Redis down, an older server, no answer). */
export async function readReadiness(): Promise<Readiness> {
  try {
    const res = await fetch('readyz', { cache: 'no-store', headers: { accept: 'application/json' } })
    const body = (await res.json()) as {
      held_batches?: unknown
      log_dropped_rows?: unknown
      redis_config?: { memory_ratio?: unknown; used_memory?: unknown; maxmemory?: unknown } | null
    }
    const held = count(body.held_batches)
    const ratio = count(body.redis_config?.memory_ratio)
    const used = count(body.redis_config?.used_memory)
    const max = count(body.redis_config?.maxmemory)
    const dropped = count(body.log_dropped_rows)
    return {
      held: held !== undefined && Number.isInteger(held) ? held : 0,
      logDropped: dropped !== undefined && Number.isInteger(dropped) ? dropped : 0,
      memory: ratio !== undefined && used !== undefined && max ? { ratio, used, max } : undefined,
    }
  } catch {
    return { held: 0 }
  }
}

export function useReadiness(open: boolean): { state: Readiness; changed(): void } {
  const [state, setState] = useState<Readiness>({ held: 0 })
  const reader = useMemo(() => {
    let last = Number.NEGATIVE_INFINITY
    let out = false
    let stopped = false
    const read = async () => {
      out = true
      last = Date.now()
      const next = await readReadiness()
      out = false
      if (!stopped) setState(next)
    }
    return {
      read,
      changed() {
        if (!out && last > Number.NEGATIVE_INFINITY && Date.now() - last >= REREAD_GAP_MS) void read()
      },
      stop() {
        stopped = true
      },
    }
  }, [])
  useEffect(() => {
    if (open) void reader.read()
  }, [open])
  useEffect(() => () => reader.stop(), [])
  return { state, changed: reader.changed }
}
