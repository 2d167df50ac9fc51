/**
 * Unique visitors over any range of days: the union of the days' sets, never a sum. A visitor
 * seen on Monday and on Tuesday is one visitor of the week.
 *
 * Each day's set is a HyperLogLog. While the day's Redis key lives (the counters' TTL after its
 * last write) it holds every visitor of the day; the flush also stores its bytes in Postgres
 * (`analytics_visitors_daily.hll`, with their count) and merges them into the month's set
 * (`analytics_visitors_monthly`). A read counts each day from Redis while its key exists, else
 * takes the stored count. For the union it merges the stored sets it needs, a month's set for
 * each whole month of the range and a day's for each other day, into one set (src/counters/hll.ts),
 * loads that into a short-lived key beside the live days' keys (all under the `{prefix}` hash tag,
 * so one cluster slot), and lets Redis count them together (`PFCOUNT key1 key2 …`). So a year
 * costs about 14 stored sets, not 365, and one Redis round trip.
 *
 * Days stored before the sets were kept have only their count: such a day adds it to the union of
 * the others (an upper bound, said in `partial`).
 *
 * @example
 * const { days, union } = await visitorsOf(deps, ['2026-11-23', …, '2026-11-29'])
 */
import { randomBytes } from 'node:crypto'
import { mergeSets } from '../counters/hll.ts'
import { runScript } from '../db/script.ts'
import { addDays } from '../time.ts'
import type { ReadDeps } from './exact.ts'
import { COUNT_VISITORS } from './scripts.lua.ts'
import { SqlParams } from './sql.ts'

/** How long a merged copy may live if its read's MULTI never completes. */
const COPY_TTL_MS = 30_000

export interface Visitors {
  /** each day's unique visitors */
  days: Map<string, number>
  /** the unique visitors of all the days together */
  union: number
  /** some day had only its count stored (before sets were kept): `union` adds it, an upper bound */
  partial: boolean
  /** for each day asked for as `since`: the union of that day and those after it */
  since: Map<string, number>
  /** for each span asked for (first and last day, inside `days`): the union of its days */
  spans: number[]
}

interface Range {
  from: string
  to: string
  /** its months that lie wholly inside it (`YYYY-MM-01`) */
  months: Set<string>
}

const monthOf = (day: string) => `${day.slice(0, 7)}-01`
const lastDayOf = (month: string) => addDays(`${nextMonth(month)}`, -1)
const nextMonth = (month: string) => {
  const [y, m] = month.split('-').map(Number) as [number, number]
  return m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`
}

/** The months wholly inside `from`..`to`. */
function wholeMonths(from: string, to: string): Set<string> {
  const months = new Set<string>()
  for (let month = from.endsWith('-01') ? from : nextMonth(monthOf(from)); lastDayOf(month) <= to; ) {
    months.add(month)
    month = nextMonth(month)
  }
  return months
}

/**
 * The visitors of each day of `days` (ascending, consecutive), of all of them together, of each
 * tail of them that starts at a day of `since`, and of each of `spans`: the same read answers a
 * month and its last week, or a year and each of its weeks.
 */
export async function visitorsOf(
  deps: Pick<ReadDeps, 'redis' | 'keys' | 'pool'>,
  days: string[],
  since: string[] = [],
  spans: [string, string][] = [],
): Promise<Visitors> {
  const { redis, keys, pool } = deps
  if (days.length === 0) return { days: new Map(), union: 0, partial: false, since: new Map(), spans: [] }
  const last = days.at(-1)!
  const range = (from: string, to: string): Range => ({ from, to, months: wholeMonths(from, to) })
  const ranges: Range[] = [
    ...[days[0]!, ...since].map((from) => range(from, last)),
    ...spans.map(([from, to]) => range(from, to)),
  ]
  const inside = (day: string, r: Range) => day >= r.from && day <= r.to

  // which days Redis still holds (no MULTI: at maxmemory Redis refuses to queue even reads)
  const exists = await Promise.all(days.map((day) => redis.exists(keys.visitors(day))))
  const live = days.filter((_, i) => exists[i] === 1)
  const stored = days.filter((_, i) => exists[i] !== 1)

  // A stored day's bytes are needed where some range takes it outside a whole month, or where its
  // month has no set; every stored day's count is needed for its point.
  const months = [...new Set(ranges.flatMap((r) => [...r.months]))]
  const edge = stored.filter((day) => ranges.some((r) => inside(day, r) && !r.months.has(monthOf(day))))
  const storedDays = new Map<string, { count: number; hll: Buffer | null; legacy: boolean }>()
  const monthSets = new Map<string, Buffer>()
  if (stored.length > 0) {
    const p = new SqlParams(keys.site)
    const months$ = p.add(months)
    const r = await pool.query(
      `SELECT 'm' AS kind, to_char(month, 'YYYY-MM-DD') AS day, hll, 0 AS visitors, false AS legacy
         FROM analytics_visitors_monthly WHERE ${p.site()} AND month = ANY(${months$}::date[])
       UNION ALL
       SELECT 'd', to_char(d.date, 'YYYY-MM-DD'),
         CASE WHEN d.date = ANY(${p.add(edge)}::date[]) OR NOT EXISTS (SELECT 1 FROM analytics_visitors_monthly m
           WHERE ${p.site('m')} AND m.month = date_trunc('month', d.date)::date AND m.month = ANY(${months$}::date[])) THEN d.hll END,
         d.visitors, d.hll IS NULL
       FROM analytics_visitors_daily d WHERE ${p.site('d')} AND d.date = ANY(${p.add(stored)}::date[])`,
      p.values,
    )
    for (const row of r.rows as {
      kind: string
      day: string
      hll: Buffer | null
      visitors: string
      legacy: boolean
    }[]) {
      if (row.kind === 'm') monthSets.set(row.day, row.hll!)
      else storedDays.set(row.day, { count: Number(row.visitors), hll: row.hll, legacy: row.legacy })
    }
  }

  // each range's stored sets merged into one, counted by Redis together with its live days
  const run = randomBytes(6).toString('hex')
  const copies: string[] = []
  const args: (string | Buffer)[] = [String(live.length), String(COPY_TTL_MS), String(ranges.length)]
  const extra: number[] = []
  let partial = false
  for (const [i, range] of ranges.entries()) {
    const sets: Buffer[] = []
    let legacy = 0
    for (const month of range.months) {
      const set = monthSets.get(month)
      if (set) sets.push(set)
    }
    for (const day of stored) {
      const s = inside(day, range) ? storedDays.get(day) : undefined
      if (!s) continue
      if (s.legacy) legacy += s.count
      else if (!monthSets.has(monthOf(day)) || !range.months.has(monthOf(day))) sets.push(s.hll!)
    }
    if (legacy > 0) partial = true
    extra.push(legacy)
    // the live days inside the range: consecutive in `live` (1-based positions in KEYS)
    const first = live.findIndex((day) => inside(day, range)) + 1
    const count = live.filter((day) => inside(day, range)).length
    const merged = mergeSets(sets)
    args.push(String(Math.max(first, 1)), String(first + count - 1), merged ? '1' : '0')
    if (merged) {
      args.push(merged)
      copies.push(keys.visitorsCopy(run, String(i)))
    }
  }
  const replies =
    live.length > 0 || copies.length > 0
      ? ((await runScript(
          redis,
          COUNT_VISITORS,
          [...live.map((day) => keys.visitors(day)), ...copies],
          args,
        )) as number[])
      : ranges.map(() => -1)

  const result = new Map<string, number>(days.map((day) => [day, storedDays.get(day)?.count ?? 0]))
  for (const [i, day] of live.entries()) result.set(day, Number(replies[i]))
  const totals = ranges.map((_, i) => Math.max(Number(replies[live.length + i]), 0) + extra[i]!)
  return {
    days: result,
    union: totals[0]!,
    partial,
    since: new Map(since.map((from, i) => [from, totals[i + 1]!])),
    spans: totals.slice(1 + since.length),
  }
}
