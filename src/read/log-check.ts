/**
 * The drift check: each day's events and visits as the counters have them and as the event log
 * has them, side by side. They agree by construction (a row is written by the same script call
 * and the same flush transaction as its counts); a day where they do not is shown, never hidden:
 * rows dropped past EVENTS_PENDING_MAX, days past EVENTS_RETENTION_DAYS, or a fault to report.
 *
 * @example
 * const report = await logCheck(deps, { from: '2026-11-01', to: '2026-11-30', tz: 'UTC' }) // { days: […], drift: 0 }
 */
import type { ReadDeps } from './exact.ts'
import { filteredStats } from './filtered.ts'
import type { RangeParams, StatsParams } from './params.ts'
import { stats } from './stats.ts'

export interface DayCheck {
  day: string
  events: { counters: number; log: number }
  visits: { counters: number; log: number }
  /** whether the two agree on both */
  same: boolean
}

export interface LogCheck {
  from: string
  to: string
  tz: string
  days: DayCheck[]
  /** days that differ */
  drift: number
  /** log rows dropped past EVENTS_PENDING_MAX, by UTC day, as Redis still remembers them */
  dropped: Record<string, number>
}

export async function logCheck(deps: ReadDeps, range: RangeParams): Promise<LogCheck> {
  const of = (metric: 'events' | 'visits'): StatsParams => ({ ...range, metric, granularity: 'day', filters: [] })
  const [events, logEvents, visits, logVisits] = await Promise.all([
    stats(deps, of('events')),
    filteredStats(deps, of('events'), []),
    stats(deps, of('visits')),
    filteredStats(deps, of('visits'), []),
  ])
  const days = events.series.map((p, i) => {
    const check = {
      day: p.t,
      events: { counters: p.count, log: logEvents.series[i]!.count },
      visits: { counters: visits.series[i]!.count, log: logVisits.series[i]!.count },
    }
    return { ...check, same: check.events.counters === check.events.log && check.visits.counters === check.visits.log }
  })
  const dropped: Record<string, number> = {}
  for (const shard of deps.keys.shards) {
    for (const [epochDay, n] of Object.entries(await deps.redis.hGetAll(shard.dropped))) {
      const day = new Date(Number(epochDay) * 86_400_000).toISOString().slice(0, 10)
      dropped[day] = (dropped[day] ?? 0) + Number(n)
    }
  }
  return { ...range, days, drift: days.filter((d) => !d.same).length, dropped }
}
