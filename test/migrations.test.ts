import { describe, expect, test } from 'bun:test'
import { listMigrations, migrate } from '../src/db/migrate.ts'
import { openDatabase } from '../src/db/pool.ts'
import { emptyDatabaseUrl } from './services.ts'

const TABLES = [
  'analytics_daily',
  'analytics_events',
  'analytics_quarters',
  'analytics_user_daily',
  'analytics_users',
  'analytics_feature_daily',
  'analytics_page_daily',
  'analytics_visitors_daily',
  'analytics_visitors_monthly',
  'analytics_dimension_daily',
  'analytics_dimension_monthly',
  'analytics_flush_log',
  'analytics_goals',
  'analytics_funnels',
  'schema_migrations',
]

describe('migrations', () => {
  test('apply on an empty database, then re-apply is a no-op', async () => {
    const db = await openDatabase(await emptyDatabaseUrl(), { max: 2 })
    try {
      const all = (await listMigrations()).map((m) => m.version)
      expect(all[0]).toBe('001_counters')
      expect(await migrate(db.pool)).toEqual(all)
      expect(await migrate(db.pool)).toEqual([])
      const recorded = await db.pool.query('SELECT version FROM schema_migrations ORDER BY version')
      expect(recorded.rows.map((r) => r.version)).toEqual(all)

      const tables = await db.pool.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
      )
      expect(tables.rows.map((r) => r.table_name).sort()).toEqual([...TABLES].sort())
    } finally {
      await db.close()
    }
  })

  test('every table has the unique key its upsert conflicts on', async () => {
    const db = await openDatabase(await emptyDatabaseUrl(), { max: 2 })
    try {
      await migrate(db.pool)
      const keys = await db.pool.query(`
        SELECT c.relname AS table, string_agg(a.attname::text, ',' ORDER BY k.ord) AS columns
        FROM pg_index i
        JOIN pg_class c ON c.oid = i.indrelid
        JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
        WHERE i.indisunique AND c.relname LIKE 'analytics_%'
        GROUP BY c.relname, i.indexrelid`)
      const unique = keys.rows.map((r) => `${r.table}(${r.columns})`).sort()
      expect(unique).toEqual(
        [
          'analytics_daily(event_type,date)',
          'analytics_quarters(event_type,at)',
          'analytics_user_daily(user_id,event_type,date)',
          'analytics_users(user_id)',
          'analytics_feature_daily(event_type,feature_name,date)',
          'analytics_page_daily(path,date)',
          'analytics_visitors_daily(date)',
          'analytics_visitors_monthly(month)',
          'analytics_dimension_daily(dimension,event_type,date,value,count)',
          'analytics_dimension_monthly(dimension,event_type,month,value,count)',
          'analytics_flush_log(id)',
          'analytics_flush_log(batch_id)',
          'analytics_goals(id)',
          'analytics_goals(site,name)',
          'analytics_funnels(id)',
          'analytics_funnels(site,name)',
        ].sort(),
      )
    } finally {
      await db.close()
    }
  })

  test('concurrent runs apply each migration once', async () => {
    const url = await emptyDatabaseUrl()
    const dbs = await Promise.all([openDatabase(url, { max: 1 }), openDatabase(url, { max: 1 })])
    try {
      const results = await Promise.all(dbs.map((db) => migrate(db.pool)))
      const all = (await listMigrations()).map((m) => m.version)
      expect(results.flat().sort()).toEqual(all)
    } finally {
      await Promise.all(dbs.map((db) => db.close()))
    }
  })

  test('a failing migration rolls back and names itself', async () => {
    const dir = `${import.meta.dir}/../.data/test-bad-migrations-${process.pid}`
    await Bun.write(`${dir}/001_ok.sql`, 'CREATE TABLE ok_table (id int);')
    await Bun.write(`${dir}/002_bad.sql`, 'CREATE TABLE half_done (id int); SELECT no_such_column FROM ok_table;')
    const db = await openDatabase(await emptyDatabaseUrl(), { max: 1 })
    try {
      await expect(migrate(db.pool, dir)).rejects.toThrow(/migration 002_bad failed: column "no_such_column"/)
      const half = await db.pool.query("SELECT to_regclass('half_done') AS t")
      expect(half.rows[0].t).toBeNull()
      const recorded = await db.pool.query('SELECT version FROM schema_migrations')
      expect(recorded.rows.map((r) => r.version)).toEqual(['001_ok'])
    } finally {
      await db.close()
      await Bun.$`rm -rf ${dir}`
    }
  })
})
