import { describe, expect, setDefaultTimeout, test } from 'bun:test'
import { openDatabase } from '../src/db/pool.ts'
import { BROWSER_UA } from './app.ts'
import { type ServerProcess, startServerProcess } from './server-process.ts'
import { freshDatabaseUrl, testPrefix } from './services.ts'
import { waitFor } from './wait.ts'

// this file starts processes: bun's 5 s default is too short on a busy machine
setDefaultTimeout(30_000)

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
    const db = await openDatabase(databaseUrl, { max: 1 })
    const stored = async () =>
      (
        await db.pool.query(
          `SELECT coalesce((SELECT sum(count)::int FROM analytics_daily WHERE event_type <> 'visit'), 0) AS daily,
                  coalesce((SELECT sum(count)::int FROM analytics_quarters WHERE event_type <> 'visit'), 0) AS hourly,
                  coalesce((SELECT sum(count)::int FROM analytics_daily WHERE event_type = 'visit'), 0) AS visits,
                  coalesce((SELECT sum(count)::int FROM analytics_dimension_daily WHERE dimension = 'country'), 0)
                    AS by_country,
                  (SELECT json_agg(DISTINCT value) FROM analytics_dimension_daily) AS values,
                  (SELECT count(DISTINCT batch_id)::int FROM analytics_flush_log) AS batches`,
        )
      ).rows[0] as {
        daily: number
        hourly: number
        visits: number
        by_country: number
        values: string[] | null
        batches: number
      }
    try {
      for (let i = 0; i < 3; i++) servers.push(await startServerProcess(env))
      let sent = 0
      const forwardedIps: string[] = []
      // Rounds go on until a timer has flushed some of them and more came after that flush (30 at
      // least): events arrive while the timers run, and they make more than one batch.
      const deadline = Date.now() + 15_000
      let flushSeen = false
      let roundsAfterFlush = 0
      for (let round = 0; round < 30 || roundsAfterFlush === 0; round++) {
        if (Date.now() > deadline) throw new Error('no timer flush within 15 s of the first event')
        const server = servers[round % 3]!
        // public addresses, so that each visit's country is looked up in the database
        const ip = round % 2 === 0 ? `8.8.${round % 256}.8` : `194.25.0.${round % 256}`
        forwardedIps.push(ip)
        const beacon = await fetch(`${server.url}/e`, {
          method: 'POST',
          headers: {
            'content-type': 'text/plain',
            'user-agent': BROWSER_UA,
            'x-forwarded-for': ip,
            origin: 'https://shop.example.com',
          },
          body: JSON.stringify([
            { event_type: 'page_view', properties: { path: '/a', referrer: 'https://news.example/', utm_source: 'x' } },
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
        if (flushSeen) roundsAfterFlush++
        else flushSeen = (await stored()).batches > 0
      }
      // every event reaches Postgres through the instances' own timers, with nothing arriving
      let last = await stored()
      await waitFor(
        async () => {
          last = await stored()
          return last.daily === sent && last.hourly === sent
        },
        { what: () => `the timers to store all ${sent} events (stored ${JSON.stringify(last)})`, timeoutMs: 10_000 },
      )

      for (const server of servers) {
        const res = await fetch(`${server.url}/analytics/stats?granularity=hour`, {
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        })
        expect((await res.json()).total).toBe(sent)
      }
      // each batch once
      const row = await stored()
      expect(row.daily).toBe(sent)
      expect(row.hourly).toBe(sent)
      // one visit per round, each with its country; no address among the values stored
      expect(row.visits).toBe(forwardedIps.length)
      expect(row.by_country).toBe(forwardedIps.length)
      for (const ip of forwardedIps) expect(row.values ?? []).not.toContain(ip)
      expect(row.batches).toBeGreaterThan(1)

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
      await db.close()
    }
  }, 60_000)
})
