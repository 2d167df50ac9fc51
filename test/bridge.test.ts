import { describe, expect, test } from 'bun:test'
import { openDatabase } from '../src/db/pool.ts'
import { freshDatabaseUrl } from './services.ts'

describe('Neon driver through the WebSocket bridge', () => {
  test('a transaction commits, another rolls back', async () => {
    const db = await openDatabase(await freshDatabaseUrl(), { max: 2 })
    try {
      expect(db.bridge).toBeDefined()
      await db.pool.query('CREATE TABLE t (k text PRIMARY KEY, n bigint NOT NULL)')
      const c = await db.pool.connect()
      try {
        await c.query('BEGIN')
        await c.query("INSERT INTO t VALUES ('committed', 1)")
        await c.query('COMMIT')
        await c.query('BEGIN')
        await c.query("INSERT INTO t VALUES ('rolled-back', 1)")
        await c.query('ROLLBACK')
      } finally {
        c.release()
      }
      const rows = await db.pool.query('SELECT k FROM t ORDER BY k')
      expect(rows.rows.map((r) => r.k)).toEqual(['committed'])
    } finally {
      await db.close()
    }
  })

  test('a multi-row unnest upsert adds to existing rows', async () => {
    const db = await openDatabase(await freshDatabaseUrl(), { max: 2 })
    try {
      await db.pool.query('CREATE TABLE t (k text PRIMARY KEY, n bigint NOT NULL)')
      const upsert = `INSERT INTO t (k, n) SELECT * FROM unnest($1::text[], $2::bigint[])
                      ON CONFLICT (k) DO UPDATE SET n = t.n + EXCLUDED.n`
      const keys = Array.from({ length: 1000 }, (_, i) => `key-${i}`)
      await db.pool.query(upsert, [keys, keys.map(() => 1)])
      await db.pool.query(upsert, [keys.slice(0, 10), keys.slice(0, 10).map(() => '9007199254740')])
      const r = await db.pool.query('SELECT count(*)::int AS rows, sum(n)::text AS total FROM t')
      expect(r.rows[0]).toEqual({ rows: 1000, total: String(1000 + 10 * 9007199254740) })
    } finally {
      await db.close()
    }
  })

  test('survives 200 concurrent queries and closes its sockets on shutdown', async () => {
    const db = await openDatabase(await freshDatabaseUrl(), { max: 50 })
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => db.pool.query('SELECT $1::int AS i, pg_sleep(0.01)', [i])),
    )
    expect(results.map((r) => r.rows[0].i)).toEqual(Array.from({ length: 200 }, (_, i) => i))
    expect(db.bridge!.connections()).toBeGreaterThan(1)
    await db.close()
    expect(db.bridge!.connections()).toBe(0)
  })
})
