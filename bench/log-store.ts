/**
 * The event log's store: rows per second through `PostgresEventStore.write` (the Neon driver and
 * the bridge, each batch in its own transaction as the flush writes it), the same for other chunk
 * sizes, and disk bytes per stored row: the events', their visits' and the dictionary's tables
 * (heap and indexes of every partition, after VACUUM ANALYZE; sql/009_log_layout.sql).
 *
 * The rows are a site's traffic (bench/log-mix.ts): 500,000 (BENCH_LOG_ROWS) over five UTC days,
 * 100,000 a day; 70% page views, a fifth of all rows beginning a visit with every dimension set.
 *
 * @example
 * const r = await logStoreScenario(services) // { rowsPerSecond, bytesPerRow, layouts, … }
 */

import { openDatabase } from '../src/db/pool.ts'
import { CHUNK_ROWS, chunks, INSERT_EVENTS, logStrings, type ValueIds } from '../src/log/columns.ts'
import { PostgresEventStore } from '../src/log/postgres.ts'
import type { LogRow } from '../src/log/row.ts'
import { LogValues } from '../src/log/values.ts'
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
  /** each table's part of {@link bytesPerRow} */
  tables: { name: string; bytesPerRow: number }[]
}

/**
 * What the event log takes on disk, after VACUUM ANALYZE: its three tables (every partition's heap,
 * TOAST and indexes, the dictionary's too), and its rows and days.
 */
export async function logSize(pool: Pool) {
  await pool.query('VACUUM ANALYZE analytics_events, analytics_visits, analytics_values')
  const { rows } = await pool.query<{ name: string; partitions: number; total: string; heap: string; indexes: string }>(
    `SELECT t.name, count(i.inhrelid)::int AS partitions,
       coalesce(sum(pg_total_relation_size(i.inhrelid)), pg_total_relation_size(t.name::regclass)) AS total,
       coalesce(sum(pg_table_size(i.inhrelid)), pg_table_size(t.name::regclass)) AS heap,
       coalesce(sum(pg_indexes_size(i.inhrelid)), pg_indexes_size(t.name::regclass)) AS indexes
     FROM unnest(ARRAY['analytics_events', 'analytics_visits', 'analytics_values']) AS t(name)
     LEFT JOIN pg_inherits i ON i.inhparent = t.name::regclass
     GROUP BY t.name ORDER BY t.name DESC`,
  )
  const { rows: n } = await pool.query<{ events: string; visits: string }>(
    'SELECT (SELECT count(*) FROM analytics_events) AS events, (SELECT count(*) FROM analytics_visits) AS visits',
  )
  const sum = (k: 'total' | 'heap' | 'indexes') => rows.reduce((a, r) => a + Number(r[k]), 0)
  return {
    events: Number(n[0]!.events),
    visits: Number(n[0]!.visits),
    partitions: rows.find((r) => r.name === 'analytics_events')!.partitions,
    bytes: sum('total'),
    heap: sum('heap'),
    indexes: sum('indexes'),
    tables: rows.map((r) => ({ name: r.name, bytes: Number(r.total) })),
  }
}

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

/** Rows per second and CPU per row of one statement over `rows`, rolled back. */
async function tryStatement(pool: Pool, rows: LogRow[], ids: ValueIds, sql: string, maxRows: number) {
  const c = await pool.connect()
  try {
    const pid = await backendPid(c)
    await c.query('BEGIN')
    const before = await cpuNow(pid)
    const t0 = performance.now()
    for (const { params } of chunks(rows, ids, maxRows)) await c.query(sql, params)
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
    const sampleIds = await new LogValues().ids(pool, logStrings(sample))
    const tries = [1000, 2000, CHUNK_ROWS, 10_000, 20_000]
      .filter((size, i, all) => all.indexOf(size) === i)
      .map((size) => ({ name: `${size.toLocaleString('en')} rows a chunk`, sql: INSERT_EVENTS, size }))
    const best = new Map<string, { rowsPerSecond: number; cpuUsPerRow: number }>()
    for (let round = 0; round < 2; round++) {
      for (const t of tries) {
        const r = await tryStatement(pool, sample, sampleIds, t.sql, t.size)
        const b = best.get(t.name)
        best.set(t.name, {
          rowsPerSecond: Math.max(b?.rowsPerSecond ?? 0, r.rowsPerSecond),
          cpuUsPerRow: Math.min(b?.cpuUsPerRow ?? Number.POSITIVE_INFINITY, r.cpuUsPerRow),
        })
      }
    }
    await store.dropBefore('2021-01-01')

    const rows = siteRows(n, Date.parse('2026-01-05T00:00:00Z'))
    const allIds = await new LogValues().ids(pool, logStrings(rows))
    const p0 = process.cpuUsage()
    for (const _ of chunks(rows, allIds));
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

    const size = await logSize(pool)
    if (size.events !== n) throw new Error(`${size.events} rows stored of ${n}`)
    await store.dropBefore('2100-01-01')
    return {
      rows: n,
      rowsPerSecond: n / (writeMs / 1000),
      rowsPerSecondWithCommit: n / (withCommitMs / 1000),
      clientCpuUsPerRow: clientCpu / n,
      backendCpuUsPerRow: backendCpu === undefined ? undefined : backendCpu / n,
      paramsUsPerRow: (p1.user + p1.system) / n,
      statements: tries.map((t) => ({ name: t.name, ...best.get(t.name)! })),
      bytesPerRow: size.bytes / n,
      heapBytesPerRow: size.heap / n,
      indexBytesPerRow: size.indexes / n,
      partitions: size.partitions,
      tables: size.tables.map((t) => ({ name: t.name, bytesPerRow: t.bytes / n })),
    }
  } finally {
    await db.close()
  }
}
