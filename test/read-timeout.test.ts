/**
 * The service's Postgres connections: JIT off, work_mem and statement_timeout as configured, and
 * a read that runs past READ_TIMEOUT_MS answered with a 503 that says so.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { openDatabase } from '../src/db/pool.ts'
import { silentLogger } from '../src/log.ts'
import { type RunningServer, startServer } from '../src/server.ts'
import { testContext } from './services.ts'

const servers: RunningServer[] = []
afterAll(async () => {
  for (const s of servers) await s.stop()
})

describe('read timeout and session settings', () => {
  test('every connection starts with JIT off and the configured work_mem and statement_timeout', async () => {
    const { config } = await testContext()
    const db = await openDatabase(config.databaseUrl, {
      max: 2,
      session: { statementTimeoutMs: 4321, workMem: '48MB' },
    })
    try {
      // two connections held at once: each was set up, not only the first
      const [a, b] = await Promise.all([db.pool.connect(), db.pool.connect()])
      for (const c of [a, b]) {
        const r = await c.query(
          `SELECT current_setting('jit') AS jit, current_setting('work_mem') AS work_mem,
             current_setting('statement_timeout') AS timeout`,
        )
        expect(r.rows[0]).toEqual({ jit: 'off', work_mem: '48MB', timeout: '4321ms' })
      }
      a.release()
      b.release()
    } finally {
      await db.close()
    }
  })

  test('a read held past READ_TIMEOUT_MS answers 503 saying so, and the next read answers', async () => {
    const { config } = await testContext({ readTimeoutMs: 1000 })
    const server = await startServer({ ...config, port: 0, flushIntervalMs: 3_600_000 }, silentLogger)
    servers.push(server)
    const headers = { authorization: `Bearer ${config.adminToken}` }
    const stats = () => fetch(`${server.url}/analytics/stats?granularity=day`, { headers })
    expect((await stats()).status).toBe(200)
    // another session holds the daily table: the read waits on its lock until Postgres stops it
    const locker = await openDatabase(config.databaseUrl, { max: 1 })
    const c = await locker.pool.connect()
    try {
      await c.query('BEGIN')
      await c.query('LOCK TABLE analytics_daily IN ACCESS EXCLUSIVE MODE')
      const res = await stats()
      expect(res.status).toBe(503)
      const body = (await res.json()) as { error: string; service?: string }
      // not an outage: the dashboard would say Postgres is down
      expect(body.service).toBeUndefined()
      expect(body.error).toContain('READ_TIMEOUT_MS')
      await c.query('ROLLBACK')
    } finally {
      c.release()
      await locker.close()
    }
    expect((await stats()).status).toBe(200)
  })
})
