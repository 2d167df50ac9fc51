/**
 * Conversions, as Plausible defines them: of the unique visitors of the rows that pass every
 * filter, those with a row that also completes a goal; the conversion rate is the one divided by
 * the other. Several goals are counted in one pass over the range (the goals panel), grouped by
 * the bucket of each row (a series) or by its visit's value of a visit dimension (a top's rows,
 * the group conversion rate: a visitor converts in a group when the converting row's visit is of
 * it). A goal's value is the sum of its converting rows' amounts (src/goals/goal.ts).
 *
 * With visit filters alone (or none) and one group over the range (the goals panel, a top's
 * rates), Postgres's part is read from the range's visit rows, which hold their visitor and event
 * types (sql/011), and only the events that complete a goal of a page, a property or a value
 * ({@link visitRowsSql}); otherwise from every passing event of the range.
 *
 * Rows of no visitor (a server event sent without the browser's address and User-Agent) are no
 * one's: they count for no visitor and add no value.
 *
 * Distinct visitors do not add up across Postgres and the pending rows, so the SQL is sent the
 * pending rows' (group, visitor, converted…) tuples and counts the union; values are sums, so
 * the SQL sums the stored rows only and `finish` adds the rows not stored.
 *
 * @example
 * const c = await readLog(pool, conversions, { filters, bounds, goals: [signup] }, pendingRows)
 * c.total.converted[0] / c.total.visitors // the conversion rate of the range
 */
import { EVENT_TYPES, type EventType, type VisitDimension } from '../events/types.ts'
import { type Goal, goalSql, goalTest, numericMicros, rowValue, valueSql } from '../goals/goal.ts'
import type { LogRow } from '../log/row.ts'
import type { SqlParams } from '../read/sql.ts'
import { dimensionSource, splitFilters, typeCode } from './filter.ts'
import { matches } from './match.ts'
import {
  bucketSql,
  filtersSql,
  foldOf,
  type LogMetric,
  type LogQuery,
  rangeOf,
  rangeSql,
  rowBucket,
  visitorKey,
} from './query.ts'
import { rangeEdges, visitDaysSql, visitRowsInRangeSql, visitWhereSql, windowsSql } from './where.ts'

export interface ConversionsQuery extends LogQuery {
  goals: readonly Goal[]
  /** group by this visit dimension's value (rows of a visit without one are left out); none: by bucket */
  by?: VisitDimension
}

/** One group's figures. */
export interface Conversions {
  /** distinct visitors of the rows that pass */
  visitors: number
  /** per goal: distinct visitors with a passing row that completes it */
  converted: number[]
  /** per goal: its converting rows' value, in millionths (0 for a goal without a value) */
  value: bigint[]
}

export interface ConversionCounts<K> {
  groups: Map<K, Conversions>
  total: Conversions
}

interface Pending {
  keys: (number | string)[]
  visitors: string[]
  /** per tuple: the goals converted, bit i for goal i, as a decimal bigint */
  masks: string[]
}

/** `[key, visitors, [converted…], [value text | null…]]` */
type StoredGroup = [number | string, number, number[], (string | null)[]]

export interface ConversionsStored {
  k: StoredGroup[]
  t: [number, number[], (string | null)[]]
}

const empty = (goals: number): Conversions => ({
  visitors: 0,
  converted: new Array<number>(goals).fill(0),
  value: new Array<bigint>(goals).fill(0n),
})

/** The group of a row: its bucket, or its visit's value (undefined: in none). */
function groupOf(q: ConversionsQuery): (row: LogRow) => number | string | undefined {
  const by = q.by
  if (by === undefined) {
    return (row) => {
      const b = rowBucket(q, row)
      return b < 0 ? undefined : b
    }
  }
  const value = dimensionSource(by).value
  return (row) => (rowBucket(q, row) < 0 ? undefined : (value(row) ?? undefined))
}

interface Tally<K> {
  /** per group, per visitor: which goals they converted */
  byGroup: Map<K, Map<string, boolean[]>>
  /** per group: the values of the rows */
  values: Map<K, bigint[]>
}

/** The passing rows with a visitor, per group and visitor: the goals converted, and the values. */
function tally<K extends number | string>(q: ConversionsQuery, rows: readonly LogRow[]): Tally<K> {
  const keep = matches(q.filters, foldOf(q))
  const group = groupOf(q) as (row: LogRow) => K | undefined
  const tests = q.goals.map(goalTest)
  const out: Tally<K> = { byGroup: new Map(), values: new Map() }
  for (const row of rows) {
    if (row.visitor === null) continue
    const k = group(row)
    if (k === undefined || !keep(row)) continue
    let visitors = out.byGroup.get(k)
    if (!visitors) {
      visitors = new Map()
      out.byGroup.set(k, visitors)
    }
    let converted = visitors.get(row.visitor)
    if (!converted) {
      converted = new Array<boolean>(tests.length).fill(false)
      visitors.set(row.visitor, converted)
    }
    for (let g = 0; g < tests.length; g++) {
      if (!tests[g]!(row)) continue
      converted[g] = true
      const v = rowValue(q.goals[g]!, row)
      if (v === null) continue
      let values = out.values.get(k)
      if (!values) {
        values = new Array<bigint>(tests.length).fill(0n)
        out.values.set(k, values)
      }
      values[g]! += v
    }
  }
  return out
}

/** Adds each of `values` to its place in `into`. */
function addInto(into: bigint[], values: readonly bigint[]): void {
  for (let i = 0; i < values.length; i++) into[i]! += values[i]!
}

/** Counts of the tally alone: what the JavaScript side means by the metric. */
function counted<K>(q: ConversionsQuery, t: Tally<K>): ConversionCounts<K> {
  const goals = q.goals.length
  const groups = new Map<K, Conversions>()
  const all = new Map<string, boolean[]>()
  const total = empty(goals)
  for (const [k, visitors] of t.byGroup) {
    const c = empty(goals)
    for (const [visitor, converted] of visitors) {
      c.visitors++
      const union = all.get(visitor) ?? new Array<boolean>(goals).fill(false)
      converted.forEach((yes, g) => {
        if (!yes) return
        c.converted[g]!++
        union[g] = true
      })
      all.set(visitor, union)
    }
    const values = t.values.get(k)
    if (values) c.value = [...values]
    groups.set(k, c)
  }
  total.visitors = all.size
  for (const union of all.values()) for (let g = 0; g < goals; g++) if (union[g]) total.converted[g]!++
  for (const values of t.values.values()) addInto(total.value, values)
  return { groups, total }
}

/** Goal i's bit in a row's mask of goals, as SQL. */
const bit = (i: number) => `${(1n << BigInt(i)).toString()}::bigint`

/** Whether goal i is an event type alone, without a value (every built-in goal): its converters are in the visits' rows. */
const isTyped =
  (q: ConversionsQuery) =>
  (i: number): boolean => {
    const goal = q.goals[i]!
    return goal.page === null && goal.property === null && goal.value === null
  }

/**
 * Whether Postgres's part can be read from the visits' rows (sql/011_visit_visitors.sql): with
 * visit filters alone (or none) a row passes when its visit does, so a group's visitors are the
 * visitors of the range's visit rows that pass, and a goal that is an event type alone converts
 * the visitors of the rows that had it. That holds for one group over the whole range: one bucket,
 * or a visit dimension's values (a visit's values are the same on each of its rows). Buckets
 * narrower than the range cut a visit's row of the day, and read the events.
 */
const fromVisitRows = (q: ConversionsQuery): boolean =>
  splitFilters(q.filters).event.length === 0 && (q.by !== undefined || q.bounds.length <= 2)

/**
 * `SELECT k, visitor, m, v…` from the range's rows of `analytics_visits`: every visitor of a row
 * that has an event in the range and passes the visit filters, with the bits of the goals its
 * visit completed that day in the range. A goal that is an event type alone is read from the row's
 * types; the others (a page, a property, a value) from the range's events that complete one, taken
 * together per visit and day and joined to their row. A row across the range's start or end
 * instant (rangeEdges) takes its types from its events in the range instead, and counts only when
 * it has one there. By a visit dimension, the rows are grouped by (value id, visitor) before their
 * values are named.
 */
function visitRowsSql(q: ConversionsQuery, p: SqlParams, valued: readonly number[]): string {
  const param = (v: unknown) => p.add(v)
  const range = rangeOf(q)
  const { windows, across } = rangeEdges(range, p)
  const g = q.goals.map((_, i) => i)
  // the typed goals of each event type, as the OR of one CASE a type that some goal is
  const byType = new Map<number, bigint>()
  for (const i of g.filter(isTyped(q))) {
    const t = typeCode(q.goals[i]!.eventType as EventType)
    byType.set(t, (byType.get(t) ?? 0n) | (1n << BigInt(i)))
  }
  const typedMask = [...byType].map(
    ([t, bits]) => `CASE WHEN t & ${1 << t} <> 0 THEN ${bits.toString()}::bigint ELSE 0 END`,
  )
  // the other goals' bits and values per visit and day, from the rows that complete one
  const others = g.filter((i) => !isTyped(q)(i))
  const sums = valued.map((i) => `, sum(v${i}) AS v${i}`).join('')
  const completed =
    others.length === 0
      ? ''
      : `LEFT JOIN (SELECT visit_id, (at AT TIME ZONE 'UTC')::date AS day,
          bit_or(${others.map((i) => `CASE WHEN ${goalSql(q.goals[i]!, param)} THEN ${bit(i)} ELSE 0 END`).join(' | ')}) AS m
          ${valued.map((i) => `, sum(CASE WHEN ${goalSql(q.goals[i]!, param)} THEN ${valueSql(q.goals[i]!, param)} END) AS v${i}`).join('')}
        FROM analytics_events WHERE ${rangeSql(q, p)} AND visitor IS NOT NULL
          AND (${others.map((i) => goalSql(q.goals[i]!, param)).join(' OR ')})
        GROUP BY 1, 2) o ON o.visit_id = v.visit_id AND o.day = v.day`
  const mask = [...typedMask, ...(completed === '' ? [] : ['coalesce(om, 0)'])].join(' | ') || '0::bigint'
  const values =
    (completed === '' ? '' : ', o.m AS om') +
    valued.map((i) => (completed === '' ? `, NULL::numeric AS v${i}` : `, o.v${i}`)).join('')
  const column = q.by === undefined ? '0' : `v.${dimensionSource(q.by).sql(param)}`
  const rows = `${visitRowsInRangeSql(range, p, 'v')}
    AND v.visitor IS NOT NULL AND coalesce(${visitWhereSql(q.filters, p, foldOf(q))}, false)`
  const typed =
    across === ''
      ? `SELECT ${column} AS k, v.visitor, v.types AS t${values} FROM analytics_visits v ${completed} WHERE ${rows}`
      : `SELECT ${column} AS k, v.visitor, CASE WHEN ${across} THEN c.t ELSE v.types END AS t${values}
        FROM analytics_visits v LEFT JOIN (
          SELECT visit_id, (at AT TIME ZONE 'UTC')::date AS day, bit_or(1 << event_type) AS t FROM analytics_events
          WHERE ${windowsSql(windows, p)} AND visitor IS NOT NULL AND visit_id IN (
            SELECT visit_id FROM analytics_visits WHERE ${visitDaysSql(range, p)} AND (${across}))
          GROUP BY 1, 2) c ON c.visit_id = v.visit_id AND c.day = v.day
        ${completed}
        WHERE ${rows} AND (c.t IS NOT NULL OR NOT (${across}))`
  if (q.by === undefined)
    return `SELECT k, visitor, ${mask} AS m${valued.map((i) => `, v${i}`).join('')} FROM (${typed}) x`
  // a dimension's value ids named once per (value, visitor)
  return `SELECT d.value AS k, y.visitor, y.m${valued.map((i) => `, y.v${i}`).join('')} FROM (
      SELECT k, visitor, bit_or(${mask}) AS m${sums} FROM (${typed}) x GROUP BY 1, 2) y
    JOIN analytics_values d ON d.id = y.k`
}

/**
 * `SELECT k, visitor, m, v…` from the range's events that pass the filters, with the bits of the
 * goals each completes and the values of the valued ones.
 */
function eventsSql(q: ConversionsQuery, p: SqlParams, valued: readonly number[]): string {
  const param = (v: unknown) => p.add(v)
  // each row's goals as one bitmask: goals that are an event type alone (every built-in one)
  // by one lookup of the row's type, each other goal by its own condition
  const byType = new Map<string, bigint>()
  const others: string[] = []
  q.goals.forEach((goal, i) => {
    if (goal.page === null && goal.property === null) {
      byType.set(goal.eventType, (byType.get(goal.eventType) ?? 0n) | (1n << BigInt(i)))
    } else others.push(`CASE WHEN ${goalSql(goal, param)} THEN ${bit(i)} ELSE 0 END`)
  })
  const typed =
    byType.size === 0
      ? '0::bigint'
      : `coalesce((${param(EVENT_TYPES.map((t) => String(byType.get(t) ?? 0n)))}::bigint[])[event_type + 1], 0)`
  const mask = [typed, ...others].join(' | ')
  const amountSql = (i: number) => `CASE WHEN ${goalSql(q.goals[i]!, param)} THEN ${valueSql(q.goals[i]!, param)} END`
  const passing = `${rangeSql(q, p)} AND visitor IS NOT NULL AND ${filtersSql(q, p)}`
  // By a visit dimension, a row's group is its visit's value on the row's day (a visit has a
  // row of values per UTC day): the rows are first taken together per visit and day, and only
  // those (a tenth as many) are joined to their values, named after.
  return q.by === undefined
    ? `SELECT ${bucketSql(q, p)} AS k, visitor, ${mask} AS m${valued.map((i) => `, ${amountSql(i)} AS v${i}`).join('')} FROM analytics_events
      WHERE ${passing}`
    : `SELECT d.value AS k, e.visitor, e.m${valued.map((i) => `, e.v${i}`).join('')} FROM (
        SELECT visit_id, (at AT TIME ZONE 'UTC')::date AS day, visitor, bit_or(${mask}) AS m${valued
          .map((i) => `, sum(${amountSql(i)}) AS v${i}`)
          .join('')}
        FROM analytics_events WHERE ${passing} AND visit_id IS NOT NULL
        GROUP BY 1, 2, 3) e
      JOIN analytics_visits v ON v.visit_id = e.visit_id AND v.day = e.day AND ${visitDaysSql(rangeOf(q), p, 'v.day')}
      JOIN analytics_values d ON d.id = v.${dimensionSource(q.by).sql(param)}`
}

/** Goals one read converts at most: each is a bit of a row's bigint mask. */
export const MAX_GOALS_PER_READ = 63

function conversionsMetric<K extends number | string>(): LogMetric<
  ConversionsQuery,
  Pending,
  ConversionsStored,
  ConversionCounts<K>
> {
  return {
    pending(q, rows) {
      const out: Pending = { keys: [], visitors: [], masks: [] }
      for (const [k, visitors] of tally<K>(q, rows).byGroup) {
        for (const [visitor, converted] of visitors) {
          out.keys.push(k)
          out.visitors.push(visitorKey(visitor))
          let mask = 0n
          for (let g = 0; g < converted.length; g++) if (converted[g]) mask |= 1n << BigInt(g)
          out.masks.push(mask.toString())
        }
      }
      return out
    },
    sql(q, p, pending) {
      if (q.goals.length > MAX_GOALS_PER_READ) throw new Error(`at most ${MAX_GOALS_PER_READ} goals in one read`)
      const g = q.goals.map((_, i) => i)
      const keyType = q.by === undefined ? 'int' : 'text'
      // values only of the goals that have one, summed from the stored rows (pending ones: finish)
      const valued = g.filter((i) => q.goals[i]!.value !== null)
      const sums = valued.map((i) => `, sum(v${i}) AS v${i}`)
      const convertedOf = `json_build_array(${g.map((i) => `count(*) FILTER (WHERE m & ${bit(i)} <> 0)`).join(', ')})`
      const valuesOf = `json_build_array(${g.map((i) => (valued.includes(i) ? `sum(v${i})::text` : 'NULL')).join(', ')})`
      const stored = fromVisitRows(q) ? visitRowsSql(q, p, valued) : eventsSql(q, p, valued)
      return `(WITH r AS MATERIALIZED (
          SELECT k, visitor, bit_or(m) AS m${sums.join('')} FROM (
            ${stored}
            UNION ALL
            SELECT k, v, m${valued.map(() => ', NULL::numeric').join('')}
            FROM unnest(${p.add(pending.keys)}::${keyType}[], ${p.add(pending.visitors)}::bigint[], ${p.add(pending.masks)}::bigint[])
              AS u(k, v, m)) a
          WHERE k IS NOT NULL
          GROUP BY 1, 2)
        ${
          q.by === undefined && q.bounds.length <= 2
            ? // one bucket: its group is the range's visitors, counted once
              `SELECT json_build_object('k', CASE WHEN n = 0 THEN '[]'::json ELSE json_build_array(json_build_array(0, n, c, s)) END,
                't', json_build_array(n, c, s))
              FROM (SELECT count(*) AS n, ${convertedOf} AS c, ${valuesOf} AS s FROM r) x)`
            : `SELECT json_build_object(
                'k', (SELECT coalesce(json_agg(json_build_array(k, n, c, s)), '[]') FROM (
                  SELECT k, count(*) AS n, ${convertedOf} AS c, ${valuesOf} AS s FROM r GROUP BY 1) x),
                't', (SELECT json_build_array(count(*), ${convertedOf}, ${valuesOf}) FROM (
                  SELECT visitor, bit_or(m) AS m${sums.join('')} FROM r GROUP BY 1) y)))`
        }`
    },
    finish(q, stored, rows) {
      const goals = q.goals.length
      // visitors: the SQL counted the pending ones with the stored; values: add the rows not stored
      const mine = counted<K>(q, tally<K>(q, rows))
      const groups = new Map<K, Conversions>()
      for (const [k, visitors, converted, values] of stored.k) {
        groups.set(k as K, {
          visitors: Number(visitors),
          converted: converted.map(Number),
          value: values.map(numericMicros),
        })
      }
      for (const [k, c] of mine.groups) {
        const g = groups.get(k) ?? { ...empty(goals), visitors: c.visitors, converted: [...c.converted] }
        addInto(g.value, c.value)
        groups.set(k, g)
      }
      const [visitors, converted, values] = stored.t
      const total: Conversions = {
        visitors: Number(visitors),
        converted: (converted ?? []).map(Number),
        value: (values ?? []).map(numericMicros),
      }
      addInto(total.value, mine.total.value)
      return { groups, total }
    },
    ofRows: (q, rows) => counted<K>(q, tally<K>(q, rows)),
  }
}

/** Per bucket of the range (groups are bucket numbers). */
export const conversions = conversionsMetric<number>()
/** Per value of `q.by`, a visit dimension. */
export const conversionsBy = conversionsMetric<string>()
