/**
 * Log rows for the event log's tests: a plain row, the widest values the limits allow, and the
 * columns each row must be stored as (worked out here independently of src/log/columns.ts).
 */
import { MAX_PATH_LENGTH, MAX_PROPERTIES } from '../src/events/limits.ts'
import { EVENT_TYPES, VISIT_DIMENSIONS, type VisitDimension } from '../src/events/types.ts'
import { MAX_VALUE_BYTES } from '../src/events/values.ts'
import { WITHOUT_VISITOR } from '../src/log/columns.ts'
import type { LogRow } from '../src/log/row.ts'

export const DAY_MS = 86_400_000

export const visitOf = (over: Partial<Record<VisitDimension, string | null>> = {}): LogRow['visit'] => ({
  source: 'Google',
  utm_source: null,
  utm_medium: null,
  utm_campaign: null,
  entry_page: '/',
  browser: 'Chrome',
  os: 'Windows',
  device: 'desktop',
  country: 'DE',
  hostname: 'shop.example.com',
  ...over,
})

export function logRow(over: Partial<LogRow> = {}): LogRow {
  return {
    at: Date.parse('2026-12-06T10:00:00.123Z'),
    site: 0,
    type: 'page_view',
    path: '/pricing',
    hostname: 'shop.example.com',
    feature: null,
    userId: null,
    props: null,
    visitId: '1234567890123',
    began: false,
    visitor: '0123456789abcdef',
    visit: visitOf(),
    ...over,
  }
}

/** A string of exactly MAX_VALUE_BYTES UTF-8 bytes: 2-byte letters, quotes and backslashes. */
export function widest(seed: string): string {
  let s = `${seed}"\\`
  while (Buffer.byteLength(s) + 2 <= MAX_VALUE_BYTES) s += 'é'
  while (Buffer.byteLength(s) < MAX_VALUE_BYTES) s += '\\'
  return s
}

/** The longest counted path: MAX_PATH_LENGTH units, 2- and 3-byte characters, a quote, a backslash. */
export function longestPath(): string {
  let s = '/"\\'
  while (s.length < MAX_PATH_LENGTH) s += s.length % 2 ? 'é' : '€'
  return s
}

/** A row with every field set to the widest value it can hold. */
export function widestRow(over: Partial<LogRow> = {}): LogRow {
  const props: Record<string, string> = {}
  for (let i = 0; i < MAX_PROPERTIES; i++) props[`key "${i}" \\ ${'k'.repeat(40)}`] = widest(`v${i}`)
  const dims = {} as Record<VisitDimension, string>
  for (const d of VISIT_DIMENSIONS) dims[d] = widest(d).slice(0, 100)
  return logRow({
    type: 'subscription_canceled',
    path: longestPath(),
    hostname: `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`,
    feature: widest('feature').slice(0, 100),
    userId: widest('user').slice(0, 128),
    props,
    visitId: '-9223372036854775808',
    began: true,
    visitor: 'ffffffffffffffff',
    visit: { ...dims, entry_page: longestPath() },
    ...over,
  })
}

/**
 * The columns each row is stored as, in the shape `SELECT_BACK` reads them back (ids turned into
 * their strings again): a row's visit values are those of its visit's row of the row's UTC day,
 * which the first row of that visit and day with values gave.
 */
export function storedAs(rows: readonly LogRow[]): Record<string, unknown>[] {
  const visits = new Map<string, LogRow['visit']>()
  const key = (row: LogRow) => `${row.visitId} ${new Date(row.at).toISOString().slice(0, 10)}`
  for (const row of rows)
    if (row.visitId !== null && row.visit !== null && !visits.has(key(row))) visits.set(key(row), row.visit)
  return rows.map((row) => {
    const visit = row.visitId === null ? null : (visits.get(key(row)) ?? null)
    const out: Record<string, unknown> = {
      ms: String(row.at),
      visit_id: row.visitId,
      visitor: row.visitor === null ? null : BigInt.asIntN(64, BigInt(`0x${row.visitor}`)).toString(),
      site: row.site,
      event_type: row.type,
      path: row.path,
      hostname: row.hostname,
      feature: row.feature,
      user_id: row.userId,
    }
    for (const d of VISIT_DIMENSIONS) out[d === 'hostname' ? 'visit_hostname' : d] = visit ? visit[d] : null
    out.props = row.props && Object.keys(row.props).length > 0 ? row.props : null
    return out
  })
}

/** The visits' rows the rows make, as `SELECT_VISITS` reads them: one per visit and UTC day, with when it began. */
export function visitsStoredAs(rows: readonly LogRow[]): { visit_id: string; day: string; began_ms: string | null }[] {
  const out = new Map<string, { visit_id: string; day: string; began_ms: string | null }>()
  for (const row of rows) {
    if (row.visitId === null || row.visit === null) continue
    const day = new Date(row.at).toISOString().slice(0, 10)
    const k = `${row.visitId} ${day}`
    const v = out.get(k) ?? { visit_id: row.visitId, day, began_ms: null }
    if (row.began) v.began_ms = String(row.at)
    out.set(k, v)
  }
  return [...out.values()].sort((a, b) => a.day.localeCompare(b.day) || a.visit_id.localeCompare(b.visit_id))
}

const name = (id: string) => `(SELECT value FROM analytics_values WHERE id = ${id})`

/** Every stored row, as {@link storedAs} shapes it, in insertion order within each instant. */
export const SELECT_BACK = `SELECT (extract(epoch FROM e.at) * 1000)::bigint::text AS ms, e.visit_id::text,
  e.visitor::text, e.site, (ARRAY[${EVENT_TYPES.map((t) => `'${t}'`).join(', ')}])[e.event_type + 1] AS event_type,
  ${name('e.path')} AS path, ${name('e.hostname')} AS hostname, ${name('e.feature')} AS feature, e.user_id,
  ${VISIT_DIMENSIONS.map((d) => `${name(`v.${d}`)} AS ${d === 'hostname' ? 'visit_hostname' : d}`).join(', ')}, e.props
  FROM analytics_events e
  LEFT JOIN analytics_visits v ON v.visit_id = e.visit_id AND v.day = (e.at AT TIME ZONE 'UTC')::date
  ORDER BY e.at, e.ctid`

/** Every visit's row: its id, day, and when it began (epoch ms) if it began that day. */
export const SELECT_VISITS = `SELECT visit_id::text, day::text,
  (extract(epoch FROM began_at) * 1000)::bigint::text AS began_ms FROM analytics_visits ORDER BY day, visit_id::text`

/**
 * The stored log in the shape a row had before it was normalized: one row per event, its strings
 * as text and its visit's values beside them, `began` on the row whose time its visit began at.
 * For tests that ask what was stored: `SELECT … FROM ${LOGGED}`.
 */
export const LOGGED = `(SELECT e.at, e.visit_id, e.visitor, e.site,
    coalesce(v.began_at = e.at, false) AS began,
    (ARRAY[${EVENT_TYPES.map((t) => `'${t}'`).join(', ')}])[e.event_type + 1] AS event_type,
    ${name('e.path')} AS path, ${name('e.hostname')} AS hostname, ${name('e.feature')} AS feature, e.user_id,
    ${VISIT_DIMENSIONS.map((d) => `${name(`v.${d}`)} AS ${d === 'hostname' ? 'visit_hostname' : d}`).join(', ')}, e.props
  FROM analytics_events e
  LEFT JOIN analytics_visits v ON v.visit_id = e.visit_id AND v.day = (e.at AT TIME ZONE 'UTC')::date) AS logged`

/**
 * The (visit, day) pairs whose row in `analytics_visits` does not hold what that day's events of
 * the visit add up to (sql/010_visit_aggregates.sql), their visitor and types (sql/011), or that
 * have events and no row: 0 when the
 * flush kept every aggregate exactly. A row with no events at all counts as off too.
 */
export const AGGREGATES_OFF = `SELECT count(*)::int FROM (
  SELECT visit_id, (at AT TIME ZONE 'UTC')::date AS day, count(*)::int AS events,
    count(*) FILTER (WHERE event_type = ${EVENT_TYPES.indexOf('page_view')})::int AS views, min(at) AS first_at, max(at) AS last_at,
    max(visitor) AS visitor, coalesce(bit_or(1 << event_type) FILTER (WHERE visitor IS NOT NULL), 0)
      | CASE WHEN bool_or(visitor IS NULL) THEN ${WITHOUT_VISITOR} ELSE 0 END AS types
  FROM analytics_events WHERE visit_id IS NOT NULL GROUP BY 1, 2) e
  FULL JOIN analytics_visits v USING (visit_id, day)
  WHERE v.events IS DISTINCT FROM e.events OR v.views IS DISTINCT FROM e.views
    OR v.first_at IS DISTINCT FROM e.first_at OR v.last_at IS DISTINCT FROM e.last_at
    OR v.visitor IS DISTINCT FROM e.visitor OR v.types IS DISTINCT FROM e.types`
