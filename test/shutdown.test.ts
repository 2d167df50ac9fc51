/**
 * Shutdown as operators cause it: a terminal's Ctrl-C or a process manager signalling the whole
 * process group of `bun run start`, and a stop while a dead instance's flush lease is still in
 * Redis. Each must write everything acknowledged to Postgres and exit 0.
 */
import { describe, expect, setDefaultTimeout, test } from 'bun:test'
import { createKeys } from '../src/counters/keys.ts'
import { openDatabase } from '../src/db/pool.ts'
import { BROWSER_UA } from './app.ts'
import { startServerProcess } from './server-process.ts'
import { freshDatabaseUrl, testContext, testPrefix } from './services.ts'

// this file starts processes: bun's 5 s default is too short on a busy machine
setDefaultTimeout(30_000)

async function sendBeacons(url: string, n: number): Promise<void> {
  const answers = await Promise.all(
    Array.from({ length: n }, () =>
      fetch(`${url}/e`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', 'user-agent': BROWSER_UA },
        body: JSON.stringify({ event_type: 'page_view', properties: { path: '/shutdown' } }),
      }),
    ),
  )
  expect(answers.map((r) => r.status)).toEqual(Array(n).fill(202))
}

async function storedPageViews(databaseUrl: string): Promise<number> {
  const db = await openDatabase(databaseUrl, { max: 1 })
  try {
    const r = await db.pool.query(
      "SELECT coalesce(sum(count), 0)::int AS n FROM analytics_daily WHERE event_type = 'page_view'",
    )
    return r.rows[0].n
  } finally {
    await db.close()
  }
}

describe('shutdown', () => {
  // A 50% failure passes 8 trials in a row once in 256 runs.
  const TRIALS = 8
  const PER_TRIAL = 5

  test(`a signal to the whole process group of \`bun run start\` flushes everything and exits 0 (${TRIALS} trials)`, async () => {
    const databaseUrl = await freshDatabaseUrl()
    const env = { DATABASE_URL: databaseUrl, REDIS_PREFIX: testPrefix(), LOG_LEVEL: 'info' }
    for (let trial = 1; trial <= TRIALS; trial++) {
      // a process group of its own, as under a terminal or a supervisor
      const server = await startServerProcess(env, { command: ['bun', 'run', 'start'], group: true })
      try {
        await sendBeacons(server.url, PER_TRIAL)
        // the whole group, as Ctrl-C in a terminal (SIGINT) or a process manager (SIGTERM) does
        const code = await server.stop(trial % 2 === 0 ? 'SIGINT' : 'SIGTERM')
        const logs = server.logs()
        expect({ trial, code, stopped: logs.includes('"msg":"stopped"') }).toEqual({ trial, code: 0, stopped: true })
        expect(logs).not.toContain('terminated by signal')
        expect(await storedPageViews(databaseUrl)).toBe(trial * PER_TRIAL)
      } finally {
        await server.stop('SIGKILL')
      }
    }
  }, 120_000)

  test('a dead instance’s flush lease does not hold up the final flush: all written, exit 0 within 10 s', async () => {
    const { redis } = await testContext()
    const prefix = testPrefix()
    const databaseUrl = await freshDatabaseUrl()
    const server = await startServerProcess({ REDIS_PREFIX: prefix, DATABASE_URL: databaseUrl })
    try {
      // what an instance SIGKILLed mid-flush leaves behind: its lease, for up to 30 s
      await redis.set(createKeys(prefix).lease, 'instance-killed-mid-flush', {
        expiration: { type: 'PX', value: 30_000 },
      })
      await sendBeacons(server.url, 12)
      const started = performance.now()
      expect(await server.stop('SIGTERM')).toBe(0)
      expect(performance.now() - started).toBeLessThan(10_000)
      expect(await storedPageViews(databaseUrl)).toBe(12)
      expect(server.logs()).toContain('final flush without the lease')
    } finally {
      await server.stop('SIGKILL')
    }
  }, 30_000)
})
