/**
 * The event log's store: rows per second through `PostgresEventStore.write` (the Neon driver and
 * the bridge, each batch in its own transaction as the flush writes it), the same for other chunk
 * sizes, and disk bytes per stored row (heap and indexes of every partition, after VACUUM
 * ANALYZE), then the bytes other layouts of the same rows would take.
 *
 * The rows are a site's traffic (bench/log-mix.ts): 500,000 (BENCH_LOG_ROWS) over five UTC days,
 * 100,000 a day; 70% page views, a fifth of all rows beginning a visit with every dimension set.
 *
 * @example
 * const r = await logStoreScenario(services) // { rowsPerSecond, bytesPerRow, layouts, … }
 */

import { openDatabase } from '../src/db/pool.ts'
import { EVENT_TYPES } from '../src/events/types.ts'
import { CHUNK_ROWS, chunks, INSERT_EVENTS } from '../src/log/columns.ts'
import { PostgresEventStore } from '../src/log/postgres.ts'
import type { LogRow } from '../src/log/row.ts'
import { type BenchServices, cpuMicros } from './lib.ts'
import { siteRows } from './log-mix.ts'

export const LOG_ROWS = Number(process.env.BENCH_LOG_ROWS ?? 500_000)
/** Rows per `write` call: one flush's rows at about 100 events a second. */
const BATCH_ROWS = 25_000

export interface LogStoreResult {
  rows: number
  /** rows per second of `write` alone, and with the transaction's COMMIT */
  rowsPerSecond: number
  rowsPerSecondWithCommit: number
  /**
   * CPU per row of the bench's process (making the parameters, the driver, the bridge) and of the
   * Postgres backend (parsing the arrays, inserting); the two run one after the other, so on an
   * idle machine the rate is about 1e6 / their sum (the backend's is absent for a remote Postgres)
   */
  clientCpuUsPerRow: number
  backendCpuUsPerRow?: number
  /** µs per row making the statements' parameters alone (part of the client's CPU) */
  paramsUsPerRow: number
  /** statements and chunk sizes on 100,000 rows: the best of two interleaved rounds */
  statements: { name: string; rowsPerSecond: number; cpuUsPerRow?: number }[]
  bytesPerRow: number
  heapBytesPerRow: number
  indexBytesPerRow: number
  partitions: number
  /** the same rows in other layouts, one table each with its BRIN index */
  layouts: { name: string; bytesPerRow: number }[]
}

const TEXT_DIMENSIONS = ['source', 'utm_source', 'utm_medium', 'utm_campaign', 'entry_page'] as const
const CLOSED = ['browser', 'os', 'device', 'country'] as const
const TYPE_CODE = `array_position(ARRAY[${EVENT_TYPES.map((t) => `'${t}'`).join(', ')}], event_type)::smallint AS event_type`
/** A closed set's value as its place among the values stored (a code list the service would keep). */
const code = (c: string) =>
  `array_position(ARRAY(SELECT DISTINCT ${c} FROM analytics_events WHERE ${c} IS NOT NULL ORDER BY 1), ${c})::smallint AS ${c}`
const own = (c: string) => `CASE WHEN began OR visit_id IS NULL THEN ${c} END AS ${c}`
const id = (c: string) => `hashtext(${c}) AS ${c}`

/**
 * Other layouts of the stored rows: fixed-width columns first (8, 4, 2, 1 bytes: no padding),
 * then text. A dictionary's ids are stood in for by hashtext (4 bytes, NULL for NULL, as an id
 * would be); its own table of distinct values is measured apart.
 */
const LAYOUTS: { name: string; select: string }[] = [
  { name: 'as stored, one table', select: '*' },
  {
    name: 'event_type as smallint',
    select: `at, visit_id, visitor, site, ${TYPE_CODE}, began, path, hostname, feature, user_id,
      ${TEXT_DIMENSIONS.join(', ')}, ${CLOSED.join(', ')}, visit_hostname, props`,
  },
  {
    name: "smallint type, the event's host NULL where it is the visit's",
    select: `at, visit_id, visitor, site, ${TYPE_CODE}, began, path,
      CASE WHEN hostname = visit_hostname THEN NULL ELSE hostname END AS hostname, feature, user_id,
      ${TEXT_DIMENSIONS.join(', ')}, ${CLOSED.join(', ')}, visit_hostname, props`,
  },
  {
    name: 'smallint type, browser/OS/device/country as smallint codes',
    select: `at, visit_id, visitor, site, ${TYPE_CODE}, ${CLOSED.map(code).join(', ')}, began, path, hostname,
      feature, user_id, ${TEXT_DIMENSIONS.join(', ')}, visit_hostname, props`,
  },
  {
    name: 'the three above together',
    select: `at, visit_id, visitor, site, ${TYPE_CODE}, ${CLOSED.map(code).join(', ')}, began, path,
      CASE WHEN hostname = visit_hostname THEN NULL ELSE hostname END AS hostname, feature, user_id,
      ${TEXT_DIMENSIONS.join(', ')}, visit_hostname, props`,
  },
  {
    name: "smallint type, a visit's dimensions only on its first row",
    select: `at, visit_id, visitor, site, ${TYPE_CODE}, began, path, hostname, feature, user_id,
      ${[...TEXT_DIMENSIONS, ...CLOSED, 'visit_hostname'].map(own).join(', ')}, props`,
  },
  {
    name: 'dictionary: every text an int4 id, type and closed sets smallint',
    select: `at, visit_id, visitor, ${['path', 'hostname', 'feature', 'user_id', ...TEXT_DIMENSIONS, 'visit_hostname'].map(id).join(', ')},
      site, ${TYPE_CODE}, ${CLOSED.map(code).join(', ')}, began, props`,
  },
]

const DICTIONARY = `SELECT DISTINCT v FROM analytics_events,
  LATERAL (VALUES (path), (hostname), (feature), (user_id), (source), (utm_source), (utm_medium), (utm_campaign),
    (entry_page), (visit_hostname)) AS t(v) WHERE v IS NOT NULL`

/** The statement first written: the arrays unnested in FROM, each into a tuplestore first. */
const FROM_UNNEST = `INSERT INTO analytics_events (at, visit_id, visitor, site, began, event_type, path,
    hostname, feature, user_id, source, utm_source, utm_medium, utm_campaign, entry_page, browser, os, device,
    country, visit_hostname, props)
  SELECT timestamptz 'epoch' + ms * interval '1 millisecond', visit_id, visitor, site, began, event_type, path,
    hostname, feature, user_id, source, utm_source, utm_medium, utm_campaign, entry_page, browser, os, device,
    country, visit_hostname, props
  FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::smallint[], $5::boolean[], $6::text[], $7::text[],
    $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[],
    $16::text[], $17::text[], $18::text[], $19::text[], $20::text[], $21::jsonb[])
    AS u(ms, visit_id, visitor, site, began, event_type, path, hostname, feature, user_id, source, utm_source,
      utm_medium, utm_campaign, entry_page, browser, os, device, country, visit_hostname, props)`

type Pool = import('@neondatabase/serverless').Pool
type PoolClient = import('@neondatabase/serverless').PoolClient

/** CPU of this process and of a client's backend, µs so far (the backend's undefined when not on this machine). */
async function cpuNow(backend: number): Promise<{ client: number; backend?: number }> {
  const own = process.cpuUsage()
  const theirs = await cpuMicros(backend).catch(() => undefined)
  return { client: own.user + own.system, backend: theirs }
}

async function backendPid(c: PoolClient): Promise<number> {
  return (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
}

async function sizeOf(pool: Pool, select: string, rows: number): Promise<number> {
  await pool.query('DROP TABLE IF EXISTS bench_layout')
  await pool.query(`CREATE TABLE bench_layout AS SELECT ${select} FROM analytics_events ORDER BY at`)
  await pool.query('CREATE INDEX ON bench_layout USING brin (at)')
  await pool.query('VACUUM ANALYZE bench_layout')
  const { rows: r } = await pool.query<{ bytes: string }>(`SELECT pg_total_relation_size('bench_layout') AS bytes`)
  await pool.query('DROP TABLE bench_layout')
  return Number(r[0]!.bytes) / rows
}

/** Rows per second and CPU per row of one statement over `rows`, rolled back. */
async function tryStatement(pool: Pool, rows: LogRow[], sql: string, maxRows: number) {
  const c = await pool.connect()
  try {
    const pid = await backendPid(c)
    await c.query('BEGIN')
    const before = await cpuNow(pid)
    const t0 = performance.now()
    for (const { params } of chunks(rows, maxRows)) await c.query(sql, params)
    const seconds = (performance.now() - t0) / 1000
    const after = await cpuNow(pid)
    await c.query('ROLLBACK')
    const backend = before.backend === undefined || after.backend === undefined ? 0 : after.backend - before.backend
    return { rowsPerSecond: rows.length / seconds, cpuUsPerRow: (after.client - before.client + backend) / rows.length }
  } finally {
    c.release()
  }
}

export async function logStoreScenario(services: BenchServices, n = LOG_ROWS): Promise<LogStoreResult> {
  const db = await openDatabase(services.databaseUrl, { max: 2 })
  const { pool } = db
  const store = new PostgresEventStore(pool)
  try {
    // the log starts empty: the servers of the scenarios before flush their rows into this database
    await store.dropBefore('2100-01-01')
    // statements and chunk sizes, interleaved, on days of 2020 dropped afterwards
    const sample = siteRows(100_000, Date.parse('2020-01-01T00:00:00Z'), 1)
    await store.prepare(sample)
    const tries = [
      ...[1000, 2000, CHUNK_ROWS, 10_000, 20_000]
        .filter((size, i, all) => all.indexOf(size) === i)
        .map((size) => ({ name: `${size.toLocaleString('en')} rows a chunk`, sql: INSERT_EVENTS, size })),
      { name: `FROM unnest(…), ${CHUNK_ROWS.toLocaleString('en')} rows a chunk`, sql: FROM_UNNEST, size: CHUNK_ROWS },
    ]
    const best = new Map<string, { rowsPerSecond: number; cpuUsPerRow: number }>()
    for (let round = 0; round < 2; round++) {
      for (const t of tries) {
        const r = await tryStatement(pool, sample, t.sql, t.size)
        const b = best.get(t.name)
        best.set(t.name, {
          rowsPerSecond: Math.max(b?.rowsPerSecond ?? 0, r.rowsPerSecond),
          cpuUsPerRow: Math.min(b?.cpuUsPerRow ?? Number.POSITIVE_INFINITY, r.cpuUsPerRow),
        })
      }
    }
    await store.dropBefore('2021-01-01')

    const rows = siteRows(n, Date.parse('2026-01-05T00:00:00Z'))
    const p0 = process.cpuUsage()
    for (const _ of chunks(rows));
    const p1 = process.cpuUsage(p0)
    let writeMs = 0
    let withCommitMs = 0
    let clientCpu = 0
    let backendCpu: number | undefined = 0
    for (let from = 0; from < n; from += BATCH_ROWS) {
      const batch = rows.slice(from, from + BATCH_ROWS)
      await store.prepare(batch)
      const c = await pool.connect()
      try {
        const pid = await backendPid(c)
        await c.query('BEGIN')
        const before = await cpuNow(pid)
        const t0 = performance.now()
        const written = await store.write(c, batch)
        const t1 = performance.now()
        const after = await cpuNow(pid)
        await c.query('COMMIT')
        writeMs += t1 - t0
        withCommitMs += performance.now() - t0
        clientCpu += after.client - before.client
        backendCpu =
          backendCpu === undefined || before.backend === undefined || after.backend === undefined
            ? undefined
            : backendCpu + after.backend - before.backend
        if (written !== batch.length) throw new Error(`wrote ${written} of ${batch.length} rows`)
      } finally {
        c.release()
      }
    }

    await pool.query('VACUUM ANALYZE analytics_events')
    const { rows: size } = await pool.query<{
      partitions: number
      total: string
      heap: string
      indexes: string
      n: string
    }>(
      `SELECT count(*)::int AS partitions, sum(pg_total_relation_size(inhrelid)) AS total,
         sum(pg_table_size(inhrelid)) AS heap, sum(pg_indexes_size(inhrelid)) AS indexes,
         (SELECT count(*) FROM analytics_events) AS n
       FROM pg_inherits WHERE inhparent = 'analytics_events'::regclass`,
    )
    const s = size[0]!
    if (Number(s.n) !== n) throw new Error(`${s.n} rows stored of ${n}`)
    const layouts: LogStoreResult['layouts'] = []
    for (const layout of LAYOUTS) layouts.push({ name: layout.name, bytesPerRow: await sizeOf(pool, layout.select, n) })
    // the dictionary's own table: its values once each, with the unique index a lookup needs
    await pool.query('DROP TABLE IF EXISTS bench_dictionary')
    await pool.query(`CREATE TABLE bench_dictionary (id serial PRIMARY KEY, value text UNIQUE)`)
    await pool.query(`INSERT INTO bench_dictionary (value) ${DICTIONARY}`)
    await pool.query('VACUUM ANALYZE bench_dictionary')
    const dict = await pool.query<{ bytes: string }>(`SELECT pg_total_relation_size('bench_dictionary') AS bytes`)
    await pool.query('DROP TABLE bench_dictionary')
    layouts.push({ name: "the dictionary's own table (distinct values)", bytesPerRow: Number(dict.rows[0]!.bytes) / n })
    await store.dropBefore('2100-01-01')
    return {
      rows: n,
      rowsPerSecond: n / (writeMs / 1000),
      rowsPerSecondWithCommit: n / (withCommitMs / 1000),
      clientCpuUsPerRow: clientCpu / n,
      backendCpuUsPerRow: backendCpu === undefined ? undefined : backendCpu / n,
      paramsUsPerRow: (p1.user + p1.system) / n,
      statements: tries.map((t) => ({ name: t.name, ...best.get(t.name)! })),
      bytesPerRow: Number(s.total) / n,
      heapBytesPerRow: Number(s.heap) / n,
      indexBytesPerRow: Number(s.indexes) / n,
      partitions: s.partitions,
      layouts,
    }
  } finally {
    await db.close()
  }
}
