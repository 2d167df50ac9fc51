import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { Pool, PoolClient } from '@neondatabase/serverless'
import { type Database, openDatabase } from '../src/db/pool.ts'
import { dataRefusal } from '../src/flush/flusher.ts'
import { CHUNK_ROWS, chunks, logStrings } from '../src/log/columns.ts'
import { PartitionMissing, PostgresEventStore } from '../src/log/postgres.ts'
import type { LogRow } from '../src/log/row.ts'
import { LogValues } from '../src/log/values.ts'
import {
  AGGREGATES_OFF,
  DAY_MS,
  logRow,
  SELECT_BACK,
  SELECT_VISITS,
  storedAs,
  visitsStoredAs,
  widestRow,
} from './log-rows.ts'
import { freshDatabaseUrl } from './services.ts'

// tens of thousands of rows and wide statements through the bridge on a shared machine
setDefaultTimeout(60_000)

const opened: Database[] = []
afterAll(async () => {
  for (const db of opened) await db.close()
})

async function database(): Promise<{ url: string; db: Database }> {
  const url = await freshDatabaseUrl()
  const db = await openDatabase(url, { max: 4 })
  opened.push(db)
  return { url, db }
}

/** Runs `fn` in a transaction on one client, as the flush does. */
async function inTransaction<T>(pool: Pool, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect()
  try {
    await c.query('BEGIN')
    const out = await fn(c)
    await c.query('COMMIT')
    return out
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {})
    throw err
  } finally {
    c.release()
  }
}

async function store(pool: Pool, store: PostgresEventStore, rows: LogRow[]): Promise<number> {
  await store.prepare(rows)
  return inTransaction(pool, (c) => store.write(c, rows))
}

/** The parent's partitions, by name, with their bounds in UTC. */
async function partitions(pool: Pool): Promise<{ name: string; bound: string }[]> {
  const c = await pool.connect()
  try {
    // bounds are printed in the session's zone
    await c.query(`SET TIME ZONE 'UTC'`)
    const { rows } = await c.query<{ name: string; bound: string }>(
      `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'analytics_events'::regclass ORDER BY 1`,
    )
    return rows
  } finally {
    await c.query('RESET TIME ZONE').catch(() => {})
    c.release()
  }
}

const partitionNames = async (pool: Pool) => (await partitions(pool)).map((p) => p.name)

/** A pool that counts the statements sent through it. */
function counting(pool: Pool): { pool: Pool; sent: string[] } {
  const sent: string[] = []
  const wrapped = {
    query: (sql: string, params?: unknown[]) => {
      sent.push(sql)
      return pool.query(sql, params)
    },
  } as unknown as Pool
  return { pool: wrapped, sent }
}

const at = (iso: string) => Date.parse(iso)

/** The ids of the rows' strings, added to the dictionary. */
const idsOf = (pool: Pool, rows: readonly LogRow[]) => new LogValues().ids(pool, logStrings(rows))

describe('event log in Postgres', () => {
  test('every field of every kind of row is stored as mapped, the widest values included, in one chunk', async () => {
    const { db } = await database()
    const s = new PostgresEventStore(db.pool)
    const rows: LogRow[] = [
      logRow({
        began: true,
        visit: { ...logRow().visit!, utm_source: 'newsletter', utm_medium: 'email', utm_campaign: 'x' },
      }),
      logRow({ type: 'feature_used', path: null, feature: 'export', props: { plan: 'pro', variant: 'b' } }),
      // a server event: no visit, a user, properties
      logRow({
        type: 'generation_completed',
        path: null,
        hostname: null,
        userId: 'u_1',
        visitId: null,
        visitor: null,
        visit: null,
        props: { model: 'x' },
      }),
      // a visit whose dimensions were dropped past the log's bound
      logRow({ visit: null, visitor: null }),
      // values an array literal must quote: the word NULL, empty, braces, commas, spaces
      logRow({ path: 'NULL', feature: '', userId: ' {a,b} ', hostname: '"', props: { NULL: '', '': 'x,y}' } }),
      widestRow(),
      widestRow({ visitor: '8000000000000000', visitId: '9223372036854775807', began: false, props: {} }),
    ].map((r, i) => ({ ...r, at: r.at + i }))
    expect([...chunks(rows, await idsOf(db.pool, rows))]).toHaveLength(1)
    expect(await store(db.pool, s, rows)).toBe(rows.length)
    const back = (await db.pool.query(SELECT_BACK)).rows
    expect(back).toEqual(storedAs(rows))
    // one row per visit and day: the widest rows' visit began, the others' did not begin that day
    const visits = (await db.pool.query(SELECT_VISITS)).rows
    expect(visits).toEqual(visitsStoredAs(rows))
    expect(visits.filter((v) => v.began_ms !== null)).toHaveLength(2)
  })

  test('rows across chunks: by count and by bytes, through the driver and the bridge, all of them in order', async () => {
    const { db } = await database()
    const s = new PostgresEventStore(db.pool)
    const start = at('2026-12-06T00:00:00Z')
    const many = Array.from({ length: 2 * CHUNK_ROWS + 17 }, (_, i) =>
      logRow({ at: start + i, path: `/blog/post-${i}`, began: i % 5 === 0 }),
    )
    // values of quotes: about 200 KB a row as the driver writes them, some 40 rows to a chunk
    const props = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`"k${i}\\`, '"\\'.repeat(500)]))
    const wide = Array.from({ length: 90 }, (_, i) => widestRow({ at: start + DAY_MS + i, props }))
    expect(await store(db.pool, s, many)).toBe(many.length)
    expect(await store(db.pool, s, wide)).toBe(wide.length)
    expect([...chunks(many, await idsOf(db.pool, many))].length).toBe(3)
    expect([...chunks(wide, await idsOf(db.pool, wide))].length).toBeGreaterThanOrEqual(3)
    const back = (await db.pool.query(SELECT_BACK)).rows
    expect(back.length).toBe(many.length + wide.length)
    expect(back).toEqual(storedAs([...many, ...wide]))
  })

  test("a visit's row of a day adds up every batch's rows of it; values not known yet are filled in, never unset", async () => {
    const { db } = await database()
    const s = new PostgresEventStore(db.pool)
    const t = Date.parse('2026-12-06T23:58:00Z')
    const at = (ms: number, over: Partial<LogRow> = {}) => logRow({ at: t + ms, visitId: '5', ...over })
    // first a batch whose rows of visit 5 lost its values, then the row that began it, then more
    await store(db.pool, s, [at(30_000, { visit: null, visitor: null, type: 'feature_used' })])
    await store(db.pool, s, [at(0, { began: true }), at(10_000, { visitId: null, visitor: null, visit: null })])
    await store(db.pool, s, [
      at(60_000, { type: 'user_login' }),
      at(150_000),
      at(200_000, { visit: null, visitor: null }),
    ])
    const { rows } = await db.pool.query(`SELECT day::text, began_at IS NOT NULL AS began, source IS NOT NULL AS known,
        events, views, (extract(epoch FROM first_at) * 1000)::bigint::float8 AS first,
        (extract(epoch FROM last_at) * 1000)::bigint::float8 AS last FROM analytics_visits ORDER BY day`)
    expect(rows).toEqual([
      { day: '2026-12-06', began: true, known: true, events: 3, views: 1, first: t, last: t + 60_000 },
      { day: '2026-12-07', began: false, known: true, events: 2, views: 2, first: t + 150_000, last: t + 200_000 },
    ])
    expect((await db.pool.query(AGGREGATES_OFF)).rows[0].count).toBe(0)
  })

  test('a write rolled back with its transaction leaves no row (exactly-once is the batch id beside it)', async () => {
    const { db } = await database()
    const s = new PostgresEventStore(db.pool)
    const rows = [logRow(), logRow()]
    await s.prepare(rows)
    const c = await db.pool.connect()
    await c.query('BEGIN')
    expect(await s.write(c, rows)).toBe(2)
    await c.query('ROLLBACK')
    c.release()
    expect((await db.pool.query('SELECT count(*)::int AS n FROM analytics_events')).rows[0].n).toBe(0)
  })

  test('one partition per UTC day, old days included; known days run no statement at all', async () => {
    const { db } = await database()
    const { pool, sent } = counting(db.pool)
    const s = new PostgresEventStore(pool)
    const rows = [
      logRow({ at: at('2020-02-29T23:59:59.999Z') }),
      logRow({ at: at('2020-03-01T00:00:00.000Z') }),
      logRow({ at: at('2025-12-31T12:00:00Z') }),
      logRow({ at: at('2026-12-06T10:00:00Z') }),
      logRow({ at: at('2026-12-06T11:00:00Z') }),
    ]
    await s.prepare(rows)
    expect(await partitions(db.pool)).toEqual([
      {
        name: 'analytics_events_20200229',
        bound: "FOR VALUES FROM ('2020-02-29 00:00:00+00') TO ('2020-03-01 00:00:00+00')",
      },
      {
        name: 'analytics_events_20200301',
        bound: "FOR VALUES FROM ('2020-03-01 00:00:00+00') TO ('2020-03-02 00:00:00+00')",
      },
      {
        name: 'analytics_events_20251231',
        bound: "FOR VALUES FROM ('2025-12-31 00:00:00+00') TO ('2026-01-01 00:00:00+00')",
      },
      {
        name: 'analytics_events_20261206',
        bound: "FOR VALUES FROM ('2026-12-06 00:00:00+00') TO ('2026-12-07 00:00:00+00')",
      },
    ])
    // one catalog read per table, then one CREATE per day and table
    expect(sent.filter((q) => q.includes('CREATE TABLE'))).toHaveLength(8)
    expect(
      sent.filter((q) => q.includes('CREATE TABLE analytics_visits') || q.includes('analytics_visits_')),
    ).toHaveLength(4)
    sent.length = 0
    await s.prepare(rows)
    await s.prepare([logRow({ at: at('2026-12-06T23:59:59.999Z') })])
    expect(sent).toEqual([])
    expect(await inTransaction(db.pool, (c) => s.write(c, rows))).toBe(5)
    const perPartition = await db.pool.query(
      `SELECT tableoid::regclass::text AS p, count(*)::int AS n FROM analytics_events GROUP BY 1 ORDER BY 1`,
    )
    expect(perPartition.rows).toEqual([
      { p: 'analytics_events_20200229', n: 1 },
      { p: 'analytics_events_20200301', n: 1 },
      { p: 'analytics_events_20251231', n: 1 },
      { p: 'analytics_events_20261206', n: 2 },
    ])

    // a new process finds the days in the catalog: one read per table, no DDL, then the strings' ids
    const again = counting(db.pool)
    await new PostgresEventStore(again.pool).prepare(rows)
    expect(again.sent).toHaveLength(3)
    expect(again.sent.join()).not.toContain('CREATE')
    expect(again.sent[2]).toStartWith('SELECT id, value FROM analytics_values')
  })

  test('dropBefore drops exactly the whole days before it, found in the catalog; a later write makes the day again', async () => {
    const { db } = await database()
    const s = new PostgresEventStore(db.pool)
    const days = ['2026-01-01', '2026-01-02', '2026-01-03', '2026-01-04', '2026-01-05']
    const rows = days.flatMap((d) => [logRow({ at: at(`${d}T00:00:00Z`) }), logRow({ at: at(`${d}T23:59:59.999Z`) })])
    await store(db.pool, s, rows)
    // a partition whose name says nothing of its range is still found by its bounds
    await db.pool.query(
      `CREATE TABLE oddly_named PARTITION OF analytics_events FOR VALUES FROM ('2025-06-01 00:00:00+00') TO ('2025-06-03 00:00:00+00')`,
    )
    expect(await s.dropBefore('2026-01-03')).toEqual(['2025-06-01', '2025-06-02', '2026-01-01', '2026-01-02'])
    expect(await partitionNames(db.pool)).toEqual([
      'analytics_events_20260103',
      'analytics_events_20260104',
      'analytics_events_20260105',
    ])
    // the visits' days went with the events'
    expect((await db.pool.query(SELECT_VISITS)).rows.map((v) => v.day)).toEqual([
      '2026-01-03',
      '2026-01-04',
      '2026-01-05',
    ])
    const left = await db.pool.query(`SELECT count(*)::int AS n, min(at) AS first FROM analytics_events`)
    expect(left.rows[0].n).toBe(6)
    expect(left.rows[0].first.toISOString()).toBe('2026-01-03T00:00:00.000Z')
    expect(await s.dropBefore('2026-01-03')).toEqual([])

    // the store forgot the days it dropped: writing one again makes its partition again
    const late = [logRow({ at: at('2026-01-01T08:00:00Z') })]
    expect(await store(db.pool, s, late)).toBe(1)
    expect(await partitionNames(db.pool)).toContain('analytics_events_20260101')
    await expect(s.dropBefore('2026-1-3')).rejects.toThrow(RangeError)
  })

  test('a day dropped by another instance: the write fails to be retried, not held, and the retry makes the day', async () => {
    const { db } = await database()
    const a = new PostgresEventStore(db.pool)
    const b = new PostgresEventStore(db.pool)
    const rows = [logRow({ at: at('2026-03-01T10:00:00Z') })]
    await store(db.pool, a, rows)
    await b.dropBefore('2026-03-02')
    const err = await inTransaction(db.pool, (c) => a.write(c, rows)).catch((e) => e)
    expect(err).toBeInstanceOf(PartitionMissing)
    expect(dataRefusal(err)).toBeUndefined()
    expect(await store(db.pool, a, rows)).toBe(1)
    expect((await db.pool.query('SELECT count(*)::int AS n FROM analytics_events')).rows[0].n).toBe(1)
  })

  test('a value Postgres refuses fails the write for its data', async () => {
    const { db } = await database()
    const s = new PostgresEventStore(db.pool)
    for (const bad of [
      logRow({ path: '/a\u0000b' }),
      logRow({ props: { k: '\u0000' } }),
      logRow({ visitId: 'x' }),
      logRow({ visitId: '1,2' }),
    ]) {
      const err = await store(db.pool, s, [logRow(), bad]).catch((e) => e)
      expect(dataRefusal(err)).toMatch(/^22/)
    }
  })

  test('instances making the same days at once all succeed', async () => {
    const { url, db } = await database()
    // three instances (their own pools and bridges) on one database
    const more = await Promise.all([openDatabase(url, { max: 2 }), openDatabase(url, { max: 2 })])
    opened.push(...more)
    const dbs = [db, ...more]
    const stores = dbs.map((d) => new PostgresEventStore(d.pool))
    for (let round = 0; round < 15; round++) {
      const rows = [0, 1, 2].map((d) => logRow({ at: at('2027-01-01T12:00:00Z') + (round * 3 + d) * DAY_MS }))
      await Promise.all(stores.map((s) => s.prepare(rows)))
      await Promise.all(stores.map((s, i) => inTransaction(dbs[i]!.pool, (c) => s.write(c, rows))))
    }
    expect(await partitionNames(dbs[0]!.pool)).toHaveLength(45)
    expect((await dbs[0]!.pool.query('SELECT count(*)::int AS n FROM analytics_events')).rows[0].n).toBe(45 * 3)
  })
})
