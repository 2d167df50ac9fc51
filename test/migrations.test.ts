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
  'analytics_values',
  'analytics_visits',
  'analytics_funnels',
  'analytics_sites',
  'analytics_site_domains',
  'analytics_site_links',
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
          'analytics_daily(site,event_type,date)',
          'analytics_quarters(site,event_type,at)',
          'analytics_user_daily(site,user_id,event_type,date)',
          'analytics_users(site,user_id)',
          'analytics_feature_daily(site,event_type,feature_name,date)',
          'analytics_page_daily(site,path,date)',
          'analytics_visitors_daily(site,date)',
          'analytics_visitors_monthly(site,month)',
          'analytics_dimension_daily(site,dimension,event_type,date,value,count)',
          'analytics_dimension_monthly(site,dimension,event_type,month,value,count)',
          'analytics_flush_log(id)',
          'analytics_flush_log(batch_id)',
          'analytics_goals(id)',
          'analytics_goals(site,name)',
          'analytics_values(id)',
          'analytics_values(value)',
          'analytics_visits(visit_id,day)',
          'analytics_funnels(id)',
          'analytics_funnels(site,name)',
          'analytics_sites(id)',
          'analytics_sites(name)',
          'analytics_site_domains(domain)',
          'analytics_site_links(id)',
          'analytics_site_links(token_hash)',
          'analytics_site_links(site,name)',
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

  test('the event log as it was (one row per event, its visit copied on) is moved into the normalized tables', async () => {
    // the migrations before the log's layout changed, then the rows as they were stored then
    const dir = `${import.meta.dir}/../.data/test-log-layout-${process.pid}`
    const before = (await listMigrations()).filter((m) => m.version < '009')
    for (const m of before) await Bun.write(`${dir}/${m.version}.sql`, Bun.file(m.path))
    const db = await openDatabase(await emptyDatabaseUrl(), { max: 1 })
    try {
      await migrate(db.pool, dir)
      for (const day of ['2026-12-05', '2026-12-06']) {
        await db.pool.query(
          `CREATE TABLE analytics_events_${day.replaceAll('-', '')} PARTITION OF analytics_events
           FOR VALUES FROM ('${day} 00:00:00+00') TO ('${day}'::date + 1)`,
        )
      }
      await db.pool.query(`INSERT INTO analytics_events (at, visit_id, visitor, began, event_type, path, hostname,
          feature, user_id, source, utm_source, entry_page, browser, os, device, country, visit_hostname, props) VALUES
        ('2026-12-05 23:50:00+00', 7, -1, true, 'page_view', '/a', 'x.com', NULL, NULL, 'Google', 'news', '/a', 'Chrome', 'Linux', 'desktop', 'DE', 'x.com', NULL),
        ('2026-12-06 00:10:00+00', 7, -1, false, 'feature_used', NULL, 'x.com', 'export', NULL, 'Google', 'news', '/a', 'Chrome', 'Linux', 'desktop', 'DE', 'x.com', '{"plan":"pro"}'),
        ('2026-12-06 00:11:00+00', 7, -1, false, 'user_signup', NULL, NULL, NULL, 'u1', 'Google', 'news', '/a', 'Chrome', 'Linux', 'desktop', 'DE', 'x.com', NULL),
        ('2026-12-06 09:00:00+00', NULL, NULL, false, 'generation_completed', NULL, NULL, NULL, 'u2', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`)
      // now every migration: the layout's moves the rows
      expect(await migrate(db.pool)).toEqual(
        (await listMigrations()).filter((m) => m.version >= '009').map((m) => m.version),
      )
      const events = await db.pool.query(`SELECT e.at, e.visit_id::int, e.visitor::int, e.event_type,
          (SELECT value FROM analytics_values WHERE id = e.path) AS path,
          (SELECT value FROM analytics_values WHERE id = e.hostname) AS hostname,
          (SELECT value FROM analytics_values WHERE id = e.feature) AS feature, e.user_id, e.props,
          tableoid::regclass::text AS part
        FROM analytics_events e ORDER BY at`)
      expect(
        events.rows.map((r) => [
          r.at.toISOString(),
          r.visit_id,
          r.visitor,
          r.event_type,
          r.path,
          r.hostname,
          r.feature,
          r.user_id,
          r.props,
          r.part,
        ]),
      ).toEqual([
        ['2026-12-05T23:50:00.000Z', 7, -1, 8, '/a', 'x.com', null, null, null, 'analytics_events_20261205'],
        [
          '2026-12-06T00:10:00.000Z',
          7,
          -1,
          5,
          null,
          'x.com',
          'export',
          null,
          { plan: 'pro' },
          'analytics_events_20261206',
        ],
        ['2026-12-06T00:11:00.000Z', 7, -1, 3, null, null, null, 'u1', null, 'analytics_events_20261206'],
        ['2026-12-06T09:00:00.000Z', null, null, 1, null, null, null, 'u2', null, 'analytics_events_20261206'],
      ])
      // the visit once per day it has events on, began on the first
      const visits = await db.pool.query(`SELECT visit_id::int, day::text, began_at,
          (SELECT value FROM analytics_values WHERE id = source) AS source,
          (SELECT value FROM analytics_values WHERE id = utm_source) AS utm_source, utm_medium,
          (SELECT value FROM analytics_values WHERE id = hostname) AS hostname, tableoid::regclass::text AS part
        FROM analytics_visits ORDER BY day`)
      expect(
        visits.rows.map((r) => [
          r.visit_id,
          r.day,
          r.began_at?.toISOString() ?? null,
          r.source,
          r.utm_source,
          r.utm_medium,
          r.hostname,
          r.part,
        ]),
      ).toEqual([
        [7, '2026-12-05', '2026-12-05T23:50:00.000Z', 'Google', 'news', null, 'x.com', 'analytics_visits_20261205'],
        [7, '2026-12-06', null, 'Google', 'news', null, 'x.com', 'analytics_visits_20261206'],
      ])
      const old = await db.pool.query(
        "SELECT count(*)::int AS n FROM pg_class WHERE relname LIKE 'analytics_events_v1%' OR relname LIKE 'v1_%'",
      )
      expect(old.rows[0].n).toBe(0)
    } finally {
      await db.close()
      await Bun.$`rm -rf ${dir}`
    }
  })

  test("the visits' rows are given what their events add up to, their visitor and types; events of a visit without a row get one", async () => {
    const dir = `${import.meta.dir}/../.data/test-visit-aggregates-${process.pid}`
    const before = (await listMigrations()).filter((m) => m.version < '010')
    for (const m of before) await Bun.write(`${dir}/${m.version}.sql`, Bun.file(m.path))
    const db = await openDatabase(await emptyDatabaseUrl(), { max: 1 })
    try {
      await migrate(db.pool, dir)
      for (const day of ['2026-12-05', '2026-12-06']) {
        const d = day.replaceAll('-', '')
        await db.pool.query(`CREATE TABLE analytics_events_${d} PARTITION OF analytics_events
          FOR VALUES FROM ('${day} 00:00:00+00') TO ('${day}'::date + 1)`)
        await db.pool.query(`CREATE TABLE analytics_visits_${d} PARTITION OF analytics_visits
          FOR VALUES FROM ('${day}') TO ('${day}'::date + 1)`)
      }
      await db.pool.query("INSERT INTO analytics_values (value) VALUES ('Google')")
      // visit 7 over midnight (8 is page_view, 5 feature_used); visit 9's values were never stored
      await db.pool.query(`INSERT INTO analytics_events (at, visit_id, visitor, event_type) VALUES
        ('2026-12-05 23:50:00+00', 7, -1, 8), ('2026-12-05 23:55:00+00', 7, -1, 8),
        ('2026-12-06 00:10:00+00', 7, -1, 5), ('2026-12-06 00:11:00+00', 7, -1, 8),
        ('2026-12-06 01:00:00+00', 9, NULL, 8), ('2026-12-06 09:00:00+00', NULL, NULL, 1)`)
      await db.pool.query(`INSERT INTO analytics_visits (visit_id, began_at, day, source) VALUES
        (7, '2026-12-05 23:50:00+00', '2026-12-05', 1), (7, NULL, '2026-12-06', 1)`)
      expect(await migrate(db.pool)).toEqual(
        (await listMigrations()).filter((m) => m.version >= '010').map((m) => m.version),
      )
      const visits =
        await db.pool.query(`SELECT visit_id::int, day::text, began_at, source, first_at, last_at, events, views,
          visitor::int, types FROM analytics_visits ORDER BY visit_id, day`)
      const iso = (t: Date | null) => t?.toISOString() ?? null
      expect(
        visits.rows.map((r) => [
          r.visit_id,
          r.day,
          iso(r.began_at),
          r.source,
          iso(r.first_at),
          iso(r.last_at),
          r.events,
          r.views,
          r.visitor,
          r.types,
        ]),
      ).toEqual([
        // types: bit 8 page_view, bit 5 feature_used; bit 30, a row without the visitor (sql/011)
        [
          7,
          '2026-12-05',
          '2026-12-05T23:50:00.000Z',
          1,
          '2026-12-05T23:50:00.000Z',
          '2026-12-05T23:55:00.000Z',
          2,
          2,
          -1,
          256,
        ],
        [7, '2026-12-06', null, 1, '2026-12-06T00:10:00.000Z', '2026-12-06T00:11:00.000Z', 2, 1, -1, 256 | 32],
        [9, '2026-12-06', null, null, '2026-12-06T01:00:00.000Z', '2026-12-06T01:00:00.000Z', 1, 1, null, 1 << 30],
      ])
    } finally {
      await db.close()
      await Bun.$`rm -rf ${dir}`
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
