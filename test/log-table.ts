/**
 * Test helpers for the event log's table: make the daily partitions a test needs (the flush
 * makes them in production) and insert rows as the flush stores them.
 *
 * @example
 * await logPartitions(pool, '2026-11-27', '2026-11-29')
 * await insertLogRows(pool, rows)
 */
import type { Pool } from '@neondatabase/serverless'
import { VISIT_DIMENSIONS } from '../src/events/types.ts'
import { visitorKey } from '../src/filters/query.ts'
import type { LogRow } from '../src/log/row.ts'
import { addDays, daysBetween } from '../src/time.ts'

/** A partition for each UTC day from `from` to `to`. */
export async function logPartitions(pool: Pool, from: string, to: string): Promise<void> {
  for (const day of daysBetween(from, to)) {
    await pool.query(
      `CREATE TABLE IF NOT EXISTS analytics_events_${day.replaceAll('-', '')} PARTITION OF analytics_events
       FOR VALUES FROM ('${day}') TO ('${addDays(day, 1)}')`,
    )
  }
}

const COLUMNS: Record<(typeof VISIT_DIMENSIONS)[number], string> = {
  source: 'source',
  utm_source: 'utm_source',
  utm_medium: 'utm_medium',
  utm_campaign: 'utm_campaign',
  entry_page: 'entry_page',
  browser: 'browser',
  os: 'os',
  device: 'device',
  country: 'country',
  hostname: 'visit_hostname',
}

/** Inserts rows in batches, each column as an array. */
export async function insertLogRows(pool: Pool, rows: readonly LogRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 2000) {
    const batch = rows.slice(i, i + 2000)
    const columns: [string, string, unknown[]][] = [
      ['at', 'timestamptz', batch.map((r) => new Date(r.at).toISOString())],
      ['visit_id', 'bigint', batch.map((r) => r.visitId)],
      ['visitor', 'bigint', batch.map((r) => (r.visitor === null ? null : visitorKey(r.visitor)))],
      ['began', 'boolean', batch.map((r) => r.began)],
      ['event_type', 'text', batch.map((r) => r.type)],
      ['path', 'text', batch.map((r) => r.path)],
      ['hostname', 'text', batch.map((r) => r.hostname)],
      ['feature', 'text', batch.map((r) => r.feature)],
      ['user_id', 'text', batch.map((r) => r.userId)],
      ...VISIT_DIMENSIONS.map((d): [string, string, unknown[]] => [
        COLUMNS[d],
        'text',
        batch.map((r) => r.visit?.[d] ?? null),
      ]),
      ['props', 'jsonb', batch.map((r) => (r.props === null ? null : JSON.stringify(r.props)))],
    ]
    const names = columns.map(([name]) => name).join(', ')
    const arrays = columns.map(([, type], j) => `$${j + 1}::${type === 'jsonb' ? 'text' : type}[]`).join(', ')
    const selected = columns.map(([name, type]) => (type === 'jsonb' ? `${name}::jsonb` : name)).join(', ')
    await pool.query(
      `INSERT INTO analytics_events (${names}) SELECT ${selected} FROM unnest(${arrays}) AS u(${names})`,
      columns.map(([, , values]) => values),
    )
  }
}
