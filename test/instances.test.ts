import { describe, expect, test } from 'bun:test'
import { openDatabase } from '../src/db/pool.ts'
import { BROWSER_UA } from './app.ts'
import { type ServerProcess, startServerProcess } from './server-process.ts'
import { freshDatabaseUrl, testPrefix } from './services.ts'

const ADMIN_TOKEN = 'test-admin-token-0123456789'
const INGEST_TOKEN = 'test-ingest-token-0123456789'
const JWT_SECRET = 'test-jwt-secret-0123456789abcdef'

describe('three instances on one Redis and one Postgres', () => {
  test('round-robin events with every timer flusher running: exact totals everywhere, no secrets in logs', async () => {
    const databaseUrl = await freshDatabaseUrl()
    const prefix = testPrefix()
    const env = {
      DATABASE_URL: databaseUrl,
      REDIS_PREFIX: prefix,
      FLUSH_INTERVAL_MS: '1000',
      LOG_LEVEL: 'debug',
      TRUST_PROXY: 'true',
    }
    const servers: ServerProcess[] = []
    try {
      for (let i = 0; i < 3; i++) servers.push(await startServerProcess(env))
      let sent = 0
      const forwardedIps: string[] = []
      for (let round = 0; round < 30; round++) {
        const server = servers[round % 3]!
        const ip = `198.51.100.${round}`
        forwardedIps.push(ip)
        const beacon = await fetch(`${server.url}/e`, {
          method: 'POST',
          headers: { 'content-type': 'text/plain', 'user-agent': BROWSER_UA, 'x-forwarded-for': ip },
          body: JSON.stringify([
            { event_type: 'page_view', properties: { path: '/a' } },
            { event_type: 'asset_shared' },
          ]),
        })
        expect(beacon.status).toBe(202)
        const batch = await fetch(`${server.url}/analytics/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${INGEST_TOKEN}` },
          body: JSON.stringify(Array.from({ length: 5 }, (_, i) => ({ event_type: 'user_login', user_id: `u${i}` }))),
        })
        expect(batch.status).toBe(202)
        sent += 7
        // wrong tokens, which must never be logged
        await fetch(`${server.url}/analytics/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer wrong-token-never-logged-1' },
          body: '[]',
        })
        await fetch(`${server.url}/analytics/dashboard`, {
          headers: { authorization: 'Bearer wrong-token-never-logged-2' },
        })
        await Bun.sleep(60)
      }
      // let the timers run at least once everywhere while nothing arrives
      await Bun.sleep(2500)

      for (const server of servers) {
        const res = await fetch(`${server.url}/analytics/stats?granularity=hour`, {
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        })
        expect((await res.json()).total).toBe(sent)
      }
      const db = await openDatabase(databaseUrl, { max: 1 })
      try {
        const stored = await db.pool.query(
          `SELECT (SELECT sum(count)::int FROM analytics_daily) AS daily,
                  (SELECT sum(count)::int FROM analytics_hourly) AS hourly,
                  (SELECT count(DISTINCT batch_id)::int FROM analytics_flush_log) AS batches`,
        )
        const row = stored.rows[0]
        // everything reached Postgres through the instances' own timers, each batch once
        expect(row.daily).toBe(sent)
        expect(row.hourly).toBe(sent)
        expect(row.batches).toBeGreaterThan(1)
      } finally {
        await db.close()
      }

      for (const server of servers) expect(await server.stop()).toBe(0)
      const logs = servers.map((s) => s.logs()).join('\n')
      expect(logs).toContain('"msg":"flush"')
      for (const secret of [ADMIN_TOKEN, INGEST_TOKEN, JWT_SECRET, 'wrong-token-never-logged']) {
        expect(logs).not.toContain(secret)
      }
      for (const ip of forwardedIps) expect(logs).not.toContain(ip)
      // every line is one JSON object with a level
      for (const line of logs.split('\n').filter(Boolean)) {
        const parsed = JSON.parse(line)
        expect(['debug', 'info', 'warn', 'error']).toContain(parsed.level)
      }
    } finally {
      for (const server of servers) await server.stop('SIGKILL')
    }
  }, 60_000)
})
