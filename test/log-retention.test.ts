import { afterAll, describe, expect, test } from 'bun:test'
import { openDatabase } from '../src/db/pool.ts'
import { PostgresEventStore } from '../src/log/postgres.ts'
import { enforceRetention, firstKeptDay, RETENTION_EVERY_MS } from '../src/log/retention.ts'
import type { EventStore } from '../src/log/store.ts'
import { DAY_MS, logRow } from './log-rows.ts'
import { freshDatabaseUrl } from './services.ts'

const closers: (() => Promise<void>)[] = []
afterAll(async () => {
  for (const close of closers) await close()
})

/** A store that only records the days it is asked to drop before (retention's logic alone). */
function recorder(fail = false): EventStore & { asked: string[] } {
  const asked: string[] = []
  return {
    asked,
    prepare: async () => {},
    write: async () => 0,
    dropBefore: async (day) => {
      asked.push(day)
      if (fail) throw new Error('Postgres is down')
      return []
    },
  }
}

const at = (iso: string) => Date.parse(iso)

describe('event log retention', () => {
  test('the first day kept is the day of the instant that many days ago: every day before ended at least that long ago', () => {
    expect(firstKeptDay(at('2026-12-06T13:00:00Z'), 400)).toBe('2025-11-01')
    expect(firstKeptDay(at('2026-12-06T13:00:00Z'), 31)).toBe('2026-11-05')
    // at midnight the day before has just turned 31 days old: it goes
    expect(firstKeptDay(at('2026-12-06T00:00:00Z'), 31)).toBe('2026-11-05')
    expect(firstKeptDay(at('2026-12-05T23:59:59.999Z'), 31)).toBe('2026-11-04')
  })

  test('at most once an hour per store; 0 keeps every day; a failed drop is tried again on the next call', async () => {
    const now = at('2026-12-06T13:00:00Z')
    const a = recorder()
    const b = recorder()
    await enforceRetention(a, now, 400)
    await enforceRetention(a, now + RETENTION_EVERY_MS - 1, 400)
    await enforceRetention(b, now + 1, 400)
    await enforceRetention(a, now + RETENTION_EVERY_MS, 400)
    expect(a.asked).toEqual(['2025-11-01', '2025-11-01'])
    expect(b.asked).toEqual(['2025-11-01'])

    const forever = recorder()
    expect(await enforceRetention(forever, now, 0)).toEqual([])
    expect(forever.asked).toEqual([])

    const down = recorder(true)
    await expect(enforceRetention(down, now, 400)).rejects.toThrow('Postgres is down')
    await expect(enforceRetention(down, now + 1, 400)).rejects.toThrow('Postgres is down')
    expect(down.asked).toHaveLength(2)
  })

  test('drops the partitions of the days past retention from Postgres, and keeps the rest', async () => {
    const db = await openDatabase(await freshDatabaseUrl(), { max: 2 })
    closers.push(() => db.close())
    const store = new PostgresEventStore(db.pool)
    const now = at('2026-12-06T13:00:00Z')
    const rows = [45, 32, 31, 30, 0].map((ago) => logRow({ at: now - ago * DAY_MS }))
    await store.prepare(rows)
    const c = await db.pool.connect()
    await c.query('BEGIN')
    await store.write(c, rows)
    await c.query('COMMIT')
    c.release()
    expect(await enforceRetention(store, now, 31)).toEqual(['2026-10-22', '2026-11-04'])
    const left = await db.pool.query(
      `SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day FROM analytics_events ORDER BY at`,
    )
    expect(left.rows.map((r) => r.day)).toEqual(['2026-11-05', '2026-11-06', '2026-12-06'])
  })
})
