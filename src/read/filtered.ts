/**
 * Reads under filters: the same answers as the unfiltered reads (stats.ts, top.ts), counted from
 * the event log, exactly: the rows Postgres holds plus the rows not yet flushed, read against one
 * atomic view of Redis as every exact read is (exact.ts), so a flush never makes a row count
 * twice or not at all. A filter that matches everything gives the counters' numbers.
 *
 * @example
 * const result = await filteredStats(deps, params, filters) // a StatsResult, as stats() answers it
 */

import type { EventType, VisitDimension } from '../events/types.ts'
import { type Conversions, conversions, conversionsBy } from '../filters/conversions.ts'
import type { CaseFold } from '../filters/fold.ts'
import {
  bucketsOf,
  eventTopDimensions,
  eventTops,
  eventTypes,
  type Filter,
  type LogMetric,
  type LogQuery,
  probeCaseFold,
  top as topMetric,
  topOfEventTops,
  visitors as visitorsMetric,
  visitQuality,
  visitQualityBy,
  visits as visitsMetric,
} from '../filters/index.ts'
import { matches } from '../filters/match.ts'
import { filtersSql, foldOf as foldOfQuery, rangeSql, rowBucket } from '../filters/query.ts'
import { fromMicros, type Goal } from '../goals/goal.ts'
import type { LogRow } from '../log/row.ts'
import { addDays, dayStarts, localHours } from '../time.ts'
import { type Dashboard, PANELS } from './dashboard.ts'
import { committedSql, exactRead, type ReadDeps } from './exact.ts'
import type { StatsParams, TopParams } from './params.ts'
import {
  type ConversionMetric,
  figure,
  isConversionMetric,
  isQualityMetric,
  QUALITY_METRICS,
  type QualityMetric,
  rateOf,
  totalOf,
} from './quality.ts'
import { SqlParams } from './sql.ts'
import { type StatsResult, statsHead } from './stats.ts'
import type { TopItem, TopResult } from './top.ts'

/** How the database folds case, asked once per pool (it changes only with its locale or ICU). */
const folds = new WeakMap<object, Promise<CaseFold>>()
function foldOf(deps: ReadDeps): Promise<CaseFold> {
  let fold = folds.get(deps.pool)
  if (!fold) {
    fold = probeCaseFold(deps.pool)
    folds.set(deps.pool, fold)
    fold.catch(() => folds.delete(deps.pool))
  }
  return fold
}

/**
 * One metric of the log, exactly: the SQL over the stored rows is told of every unflushed row
 * seen (pending or in a snapshot), and runs in the same statement as the check of which of those
 * snapshots are committed; the answer is finished with the rows not committed.
 */
export async function exactLogRead<Q extends LogQuery, P, S, R>(
  deps: ReadDeps,
  metric: LogMetric<Q, P, S, R>,
  q: Q,
): Promise<R> {
  const query = { ...q, fold: q.fold ?? (await foldOf(deps)) }
  const { history, rows } = await exactRead(deps.redis, deps.keys, { rows: true }, async (view) => {
    const p = new SqlParams(deps.keys.site)
    const sql = metric.sql(query, p, metric.pending(query, view.rows()))
    const r = await deps.pool.query(`SELECT ${sql} AS stored, ${committedSql(p, view.batchIds)} AS committed`, p.values)
    const row = r.rows[0] as { stored: S; committed: string[] }
    return { result: row.stored, committed: row.committed }
  })
  return metric.finish(query, history, rows)
}

/**
 * What Postgres holds of the log, as of the statement: a flush that commits adds a row to the
 * flush log (count and max id both move: ids are taken before commit, so a late commit of a lower
 * id moves only the count), and retention drops a partition.
 */
const STORED_VERSION = `(SELECT count(*) || ':' || coalesce(max(id), 0) FROM analytics_flush_log)
  || ':' || (SELECT count(*) FROM pg_inherits WHERE inhparent = 'analytics_events'::regclass)`

/** How long a stored answer is offered to later reads (which check it is still what Postgres holds). */
const SHARED_MS = 30_000
const SHARED_MAX = 256
/** Values (counts, names) the shared answers of one pool may hold together before they are let go. */
const SHARED_VALUES_MAX = 1_000_000

interface Shared<S> {
  version: string
  stored: S
  at: number
}

interface SharedAnswers {
  answers: Map<string, Promise<Shared<unknown> | undefined>>
  /** the values their answers hold, about */
  values: number
}

const sharedAnswers = new WeakMap<object, SharedAnswers>()

/**
 * A log metric whose SQL does not depend on the pending rows (its `pending` is null), read
 * exactly as {@link exactLogRead} reads it, with the stored part shared by the reads of the same
 * query: a dashboard sends one read per event type under the same filters and range, and the
 * first one's pass over the range answers the others. A later read uses a shared answer only if
 * Postgres still holds what it was computed from ({@link STORED_VERSION}, checked in the statement
 * that also learns which snapshots are committed); the pending rows are always its own.
 */
async function sharedLogRead<Q extends LogQuery, S, R>(
  deps: ReadDeps,
  metric: LogMetric<Q, null, S, R>,
  name: string,
  q: Q,
  /** about how many values an answer holds (a top's names): what the shared answers may hold is bounded */
  valuesOf: (stored: S) => number = () => 1,
): Promise<R> {
  const query = { ...q, fold: q.fold ?? (await foldOf(deps)) }
  let found = sharedAnswers.get(deps.pool)
  if (!found) {
    found = { answers: new Map(), values: 0 }
    sharedAnswers.set(deps.pool, found)
  }
  const shares = found
  const answers = shares.answers
  // the query whole: its SQL depends on nothing else (the fold is the pool's)
  const key = JSON.stringify([name, q])
  const { history, rows } = await exactRead(deps.redis, deps.keys, { rows: true }, async (view) => {
    // A shared answer is looked up and, when none serves, a new one claimed with no await between,
    // so reads sent together share one pass; a read that finds another's pass begun waits for it.
    for (let look = 0; look < 3; look++) {
      const inFlight = answers.get(key)
      if (!inFlight) break
      const shared = (await inFlight.catch(() => undefined)) as Shared<S> | undefined
      if (shared && performance.now() - shared.at < SHARED_MS) {
        const p = new SqlParams(deps.keys.site)
        const r = await deps.pool.query(
          `SELECT ${STORED_VERSION} AS version, ${committedSql(p, view.batchIds)} AS committed`,
          p.values,
        )
        const row = r.rows[0] as { version: string; committed: string[] }
        if (row.version === shared.version) return { result: shared.stored, committed: row.committed }
      }
      if (answers.get(key) === inFlight) break
    }
    const p = new SqlParams(deps.keys.site)
    const sql = metric.sql(query, p, null)
    const { promise, resolve } = Promise.withResolvers<Shared<S> | undefined>()
    if (answers.size >= SHARED_MAX || shares.values >= SHARED_VALUES_MAX) {
      answers.clear()
      shares.values = 0
    }
    answers.set(key, promise)
    try {
      const r = await deps.pool.query(
        `SELECT ${STORED_VERSION} AS version, ${sql} AS stored, ${committedSql(p, view.batchIds)} AS committed`,
        p.values,
      )
      const row = r.rows[0] as { version: string; stored: S; committed: string[] }
      shares.values += valuesOf(row.stored)
      resolve({ version: row.version, stored: row.stored, at: performance.now() })
      return { result: row.stored, committed: row.committed }
    } catch (err) {
      resolve(undefined)
      if (answers.get(key) === promise) answers.delete(key)
      throw err
    }
  })
  return metric.finish(query, history, rows)
}

/**
 * `GET /analytics/stats` under filters: the same series, buckets and total as stats() gives; and
 * the visit-quality metrics, filtered or not (the counters do not keep them).
 */
export async function filteredStats(
  deps: ReadDeps,
  q: StatsParams,
  filters: readonly Filter[],
  /** metric=conversions or conversion_rate: the goal */
  goal?: Goal,
): Promise<StatsResult> {
  const buckets = bucketsOf(q.granularity, q.from, q.to, q.tz)
  // `until`: buckets after it count nothing, the one it falls in counts up to it
  const until = q.until
  const bounds = until === undefined ? buckets.bounds : buckets.bounds.map((b) => Math.min(b, until))
  const base = statsHead(q)
  const metric = q.metric
  if (isQualityMetric(metric)) {
    const perBucket = await exactLogRead(deps, visitQuality, { site: deps.keys.site, filters, bounds })
    const total = totalOf(perBucket)
    return {
      ...base,
      series: buckets.labels.map((t, i) => {
        const b = perBucket[i] ?? totalOf([])
        return { t, count: b.visits, value: figure(metric, b) }
      }),
      total: total.visits,
      value: figure(metric, total),
      quality: Object.fromEntries(QUALITY_METRICS.map((m) => [m, figure(m, total)])) as Record<
        QualityMetric,
        number | null
      >,
    }
  }
  if (isConversionMetric(metric)) {
    if (!goal) throw new Error('a conversion metric needs its goal')
    const { groups, total } = await exactLogRead(deps, conversions, {
      site: deps.keys.site,
      filters,
      bounds,
      goals: [goal],
    })
    const point = (c: Conversions | undefined) => {
      const converted = c?.converted[0] ?? 0
      const visitors = c?.visitors ?? 0
      return {
        count: converted,
        visitors,
        ...(metric === 'conversion_rate' ? { value: rateOf(converted, visitors) } : {}),
        ...(goal.value ? { goal_value: fromMicros(c?.value[0] ?? 0n) } : {}),
      }
    }
    const { count, ...range } = point(total)
    return { ...base, series: buckets.labels.map((t, i) => ({ t, ...point(groups.get(i)) })), total: count, ...range }
  }
  let counts: number[]
  let total: number
  if (q.metric === 'visitors') {
    const answer = await exactLogRead(deps, visitorsMetric, { site: deps.keys.site, filters, bounds })
    counts = answer.counts
    total = answer.total
  } else {
    if (q.metric === 'visits')
      counts = await exactLogRead(deps, visitsMetric, { site: deps.keys.site, filters, bounds })
    else {
      // every type in one pass, shared with the reads of the other types
      const byType = await sharedLogRead(deps, eventTypes, 'types', { site: deps.keys.site, filters, bounds })
      const eventType = q.eventType
      const sum = new Array<number>(bounds.length - 1).fill(0)
      for (const [type, n] of byType) {
        if (eventType !== undefined && type !== eventType) continue
        for (let i = 0; i < sum.length; i++) sum[i]! += n[i] ?? 0
      }
      counts = sum
    }
    total = counts.reduce((a, b) => a + b, 0)
  }
  return { ...base, series: buckets.labels.map((t, i) => ({ t, count: counts[i] ?? 0 })), total }
}

/** `GET /analytics/top` under filters: the same ranking and total as top() gives. */
export async function filteredTop(
  deps: ReadDeps,
  q: TopParams,
  filters: readonly Filter[],
  countedProperties: readonly string[] = [],
): Promise<TopResult> {
  const { bounds } = bucketsOf('day', q.from, q.to, q.tz)
  const query = {
    site: deps.keys.site,
    filters,
    bounds: [bounds[0]!, bounds.at(-1)!],
    dimension: q.dimension,
    eventType: q.eventType,
    limit: q.limit,
  }
  // pages, features and properties: one pass for all of them, shared by their reads
  if (eventTopDimensions(countedProperties).includes(q.dimension)) {
    const name = `tops ${JSON.stringify(countedProperties)}`
    const counted = await sharedLogRead(
      deps,
      eventTops(countedProperties),
      name,
      { site: deps.keys.site, filters, bounds: query.bounds },
      (stored) => stored.g.length,
    )
    return topOfEventTops({ ...query, fold: await foldOf(deps) }, countedProperties, counted)
  }
  return exactLogRead(deps, topMetric, query)
}

/** What a top's item may be given beside its count: visit quality, and a goal's conversions. */
export type ItemFigures = Partial<Record<QualityMetric | ConversionMetric, number | null>> & { goal_value?: number }

/**
 * A top's items, each with the figures `q.metrics` names, from the event log (under the same
 * filters, over the same days): visit quality (null for an item with no visits there), and the
 * conversions of `goal` among the item's visitors (its group conversion rate).
 */
export async function withFigures(
  deps: ReadDeps,
  q: TopParams,
  items: readonly TopItem[],
  goal?: Goal,
): Promise<(TopItem & ItemFigures)[]> {
  const { bounds } = bucketsOf('day', q.from, q.to, q.tz)
  const query = { site: deps.keys.site, filters: q.filters, bounds: [bounds[0]!, bounds.at(-1)!] }
  const dimension = q.dimension as VisitDimension
  const quality = q.metrics.filter(isQualityMetric)
  const converting = q.metrics.filter(isConversionMetric)
  const [byValue, byGroup] = await Promise.all([
    quality.length > 0 ? exactLogRead(deps, visitQualityBy(dimension), query) : undefined,
    converting.length > 0 && goal
      ? exactLogRead(deps, conversionsBy, { ...query, goals: [goal], by: dimension })
      : undefined,
  ])
  return items.map((item) => {
    const out: TopItem & ItemFigures = { ...item }
    if (byValue) {
      const figures = byValue.get(item.name) ?? totalOf([])
      for (const m of quality) out[m] = figure(m, figures)
    }
    if (byGroup && goal) {
      const c = byGroup.groups.get(item.name)
      const converted = c?.converted[0] ?? 0
      if (converting.includes('conversions')) out.conversions = converted
      if (converting.includes('conversion_rate')) out.conversion_rate = rateOf(converted, c?.visitors ?? 0)
      if (goal.value) out.goal_value = fromMicros(c?.value[0] ?? 0n)
    }
    return out
  })
}

/** One goal's figures in the goals panel. */
export interface GoalFigures {
  goal: Goal
  /** unique visitors who completed it */
  conversions: number
  /** percent of the unique visitors, one decimal; null without visitors */
  conversion_rate: number | null
  /** the converting rows' value (goals with a value) */
  value?: number
  /** the value per converting visitor */
  value_per_conversion?: number | null
}

/**
 * Every goal's conversions over a range under filters, in one pass over the log: the goals
 * panel. The visitors are those of the rows that pass the filters.
 */
export async function goalConversions(
  deps: ReadDeps,
  range: { from: string; to: string; tz: string },
  filters: readonly Filter[],
  goals: readonly Goal[],
): Promise<{ visitors: number; goals: GoalFigures[] }> {
  const { bounds } = bucketsOf('day', range.from, range.to, range.tz)
  const { total } = await exactLogRead(deps, conversions, {
    site: deps.keys.site,
    filters,
    bounds: [bounds[0]!, bounds.at(-1)!],
    goals,
  })
  return {
    visitors: total.visitors,
    goals: goals.map((goal, i) => {
      const converted = total.converted[i] ?? 0
      const figures: GoalFigures = { goal, conversions: converted, conversion_rate: rateOf(converted, total.visitors) }
      if (goal.value) {
        const value = total.value[i] ?? 0n
        figures.value = fromMicros(value)
        figures.value_per_conversion = converted === 0 ? null : fromMicros(value / BigInt(converted))
      }
      return figures
    }),
  }
}

/** The distinct user ids of the rows that pass, over the range. */
function userIds(q: LogQuery, rows: readonly LogRow[]): Set<string> {
  const keep = matches(q.filters, foldOfQuery(q))
  const ids = new Set<string>()
  for (const row of rows) if (row.userId !== null && rowBucket(q, row) >= 0 && keep(row)) ids.add(row.userId)
  return ids
}

/**
 * Distinct users under filters: a distinct count does not add up across Postgres and the pending
 * rows, so the SQL is given every pending user and counts the union.
 */
const users: LogMetric<LogQuery, string[], number, number> = {
  pending: (q, rows) => [...userIds(q, rows)],
  sql: (q, p, pending) =>
    `(SELECT count(*) FROM (SELECT user_id FROM analytics_events WHERE ${rangeSql(q, p)} AND user_id IS NOT NULL
       AND ${filtersSql(q, p)} UNION SELECT unnest(${p.add(pending)}::text[])) u)`,
  finish: (_q, stored) => Number(stored),
  ofRows: (q, rows) => userIds(q, rows).size,
}

/** Every day the log can hold: its totals are those of the days it keeps (EVENTS_RETENTION_DAYS). */
const ALL_DAYS = [Date.parse('2000-01-01T00:00:00Z'), Date.parse('3000-01-01T00:00:00Z')]

/**
 * `GET /analytics/dashboard` under filters: every key counted from the event log. "Today", its
 * hours and the trend are of TIME_ZONE as unfiltered; the totals (generations, users) are of the
 * days the log keeps.
 */
export async function filteredDashboard(deps: ReadDeps, filters: readonly Filter[]): Promise<Dashboard> {
  const zone = deps.calendar.zone
  const today = deps.calendar.day(deps.now())
  const [dayBegins, dayEnds] = dayStarts(today, today, zone) as [number, number]
  const hours = localHours(dayBegins, dayEnds, zone)
  const trendFrom = addDays(today, -29)
  const weekFrom = addDays(today, -6)
  const todayBounds = [dayBegins, dayEnds]
  const weekBounds = [dayStarts(weekFrom, weekFrom, zone)[0]!, dayEnds]
  const trend = bucketsOf('day', trendFrom, today, zone)
  // the counts of one range by type are one pass, shared by the types read of it
  const count = async (eventType: EventType, bounds: number[]) =>
    (await sharedLogRead(deps, eventTypes, 'types', { site: deps.keys.site, filters, bounds })).get(eventType) ??
    new Array<number>(bounds.length - 1).fill(0)
  const [
    [totalGenerations],
    totalUsers,
    [generationsToday],
    [signupsToday],
    [pageViewsToday],
    [visitsToday],
    visitorsToday,
    visitorsWeek,
    visitorsMonth,
    hourly,
    daily,
    ...lists
  ] = await Promise.all([
    count('generation_completed', ALL_DAYS),
    exactLogRead(deps, users, { site: deps.keys.site, filters, bounds: ALL_DAYS }),
    count('generation_completed', todayBounds),
    count('user_signup', todayBounds),
    count('page_view', todayBounds),
    exactLogRead(deps, visitsMetric, { site: deps.keys.site, filters, bounds: todayBounds }),
    exactLogRead(deps, visitorsMetric, { site: deps.keys.site, filters, bounds: todayBounds }),
    exactLogRead(deps, visitorsMetric, { site: deps.keys.site, filters, bounds: weekBounds }),
    exactLogRead(deps, visitorsMetric, {
      site: deps.keys.site,
      filters,
      bounds: [trend.bounds[0]!, trend.bounds.at(-1)!],
    }),
    count('generation_completed', [...hours.map((h) => h.start), dayEnds]),
    count('generation_completed', trend.bounds),
    ...PANELS.map((list) =>
      exactLogRead(deps, topMetric, {
        site: deps.keys.site,
        filters,
        bounds: weekBounds,
        dimension: list.dimension,
        limit: 10,
      }),
    ),
  ])
  // keyed by local hour: a day whose clocks go back adds its repeated hour's two counts together
  const byHour: Record<string, number> = Object.fromEntries(Array.from({ length: 24 }, (_, h) => [String(h), 0]))
  hours.forEach((h, i) => {
    byHour[String(h.hour)]! += hourly[i] ?? 0
  })
  return {
    day: today,
    time_zone: zone,
    total_generations: totalGenerations ?? 0,
    total_users: totalUsers,
    generations_today: generationsToday ?? 0,
    signups_today: signupsToday ?? 0,
    page_views_today: pageViewsToday ?? 0,
    visitors_today: visitorsToday.total,
    visitors_7d: visitorsWeek.total,
    visitors_30d: visitorsMonth.total,
    visits_today: visitsToday ?? 0,
    hourly_generations: byHour,
    daily_trend: Object.fromEntries(trend.labels.map((d, i) => [d, daily[i] ?? 0])),
    ...(Object.fromEntries(
      PANELS.map((list, i) => [list.name, lists[i]!.items.map((t) => ({ [list.key]: t.name, [list.count]: t.count }))]),
    ) as Pick<Dashboard, (typeof PANELS)[number]['name']>),
  }
}
