import { describe, expect, setDefaultTimeout, test } from 'bun:test'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RESP_TYPES } from 'redis'
import { registersOf } from '../src/counters/hll.ts'
import { openDatabase } from '../src/db/pool.ts'
import type { Deps } from '../src/deps.ts'
import { Flusher } from '../src/flush/flusher.ts'
import { PostgresEventStore } from '../src/log/postgres.ts'
import { silentLogger } from '../src/log.ts'
import { BROWSER_UA, beaconRequest, ingestRequest, pendingTotal, testApp } from './app.ts'
import { flushChild, readLine } from './flush-child.ts'
import { AGGREGATES_OFF } from './log-rows.ts'
import { proxyFor } from './tcp-proxy.ts'
import { waitFor } from './wait.ts'

// this file starts processes: bun's 5 s default is too short on a busy machine
setDefaultTimeout(30_000)

type Pool = Deps['pool']

/** Sums of the event, per-user, per-page, visit and per-dimension (daily and monthly) counts in Postgres. */
async function stored(pool: Pool) {
  const r = await pool.query(`SELECT
      (SELECT coalesce(sum(count), 0)::int FROM analytics_daily WHERE event_type <> 'visit') AS daily,
      (SELECT coalesce(sum(count), 0)::int FROM analytics_quarters WHERE event_type <> 'visit') AS hourly,
      (SELECT coalesce(sum(count), 0)::int FROM analytics_user_daily) AS users,
      (SELECT coalesce(sum(count), 0)::int FROM analytics_page_daily) AS pages,
      (SELECT coalesce(sum(count), 0)::int FROM analytics_daily WHERE event_type = 'visit') AS visits,
      (SELECT coalesce(sum(count), 0)::int FROM analytics_dimension_daily WHERE dimension = 'source') AS sources,
      (SELECT coalesce(sum(count), 0)::int FROM analytics_dimension_monthly WHERE dimension = 'source') AS monthly,
      (SELECT count(*)::int FROM analytics_events) AS rows,
      (SELECT count(*)::int FROM analytics_visits WHERE began_at IS NOT NULL) AS began,
      (SELECT count(DISTINCT visit_id)::int FROM analytics_events) AS logged_visits,
      (${AGGREGATES_OFF}) AS aggregates_off`)
  return r.rows[0] as {
    daily: number
    hourly: number
    users: number
    pages: number
    visits: number
    sources: number
    monthly: number
    /** event log rows, the rows that began a visit, and the distinct visits rows belong to */
    rows: number
    began: number
    logged_visits: number
    /** visits' rows whose aggregates are not their events' (log-rows.ts): always 0 */
    aggregates_off: number
  }
}

/** Each stored day's visitors: the estimate and the HyperLogLog's bytes, in Postgres. */
async function storedVisitorSets(pool: Pool) {
  const r = await pool.query(
    'SELECT date::text AS day, visitors::int, encode(hll, $1) AS hll FROM analytics_visitors_daily ORDER BY 1',
    ['hex'],
  )
  expect(r.rows.length).toBeGreaterThan(0)
  return r.rows as { day: string; visitors: number; hll: string }[]
}

/** The same days' visitors as Redis holds them now. */
async function redisVisitorSets(deps: Deps, pool: Pool) {
  const days = (await storedVisitorSets(pool)).map((r) => r.day)
  const bytes = deps.redis.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer })
  return Promise.all(
    days.map(async (day) => ({
      day,
      visitors: await deps.redis.pfCount(deps.keys.visitors(day)),
      hll: ((await bytes.get(deps.keys.visitors(day))) as unknown as Buffer).toString('hex'),
    })),
  )
}

/** Each stored month's set, as its registers. */
async function storedMonthSets(pool: Pool) {
  const r = await pool.query(
    "SELECT to_char(month, 'YYYY-MM') AS month, hll FROM analytics_visitors_monthly ORDER BY 1",
  )
  return (r.rows as { month: string; hll: Buffer }[]).map(({ month, hll }) => ({
    month,
    registers: Buffer.from(registersOf(hll)).toString('hex'),
  }))
}

/** The same months as the union of their days' sets in Redis, merged by Redis itself. */
async function redisMonthSets(deps: Deps, pool: Pool) {
  const days = (await storedVisitorSets(pool)).map((r) => r.day)
  const bytes = deps.redis.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer })
  const months = [...new Set(days.map((d) => d.slice(0, 7)))].sort()
  return Promise.all(
    months.map(async (month) => {
      const merged = `${deps.keys.tag}:test-merge:${month}`
      await deps.redis.pfMerge(
        merged,
        days.filter((d) => d.startsWith(month)).map((d) => deps.keys.visitors(d)),
      )
      const registers = Buffer.from(registersOf((await bytes.get(merged)) as unknown as Buffer)).toString('hex')
      await deps.redis.del(merged)
      return { month, registers }
    }),
  )
}

/**
 * Sends `n` server events (each with a user) and `n` page-view beacons, each from a visitor of
 * its own, every other one from another site: 2n events, n per-user, n visits, n visitors.
 */
async function sendEvents(app: Awaited<ReturnType<typeof testApp>>['app'], n: number, tag: string) {
  const batch = Array.from({ length: n }, (_, i) => ({
    event_type: 'generation_completed',
    user_id: `${tag}-${i % 5}`,
  }))
  expect((await app.handle(ingestRequest(batch))).status).toBe(202)
  for (let i = 0; i < n; i++) {
    expect(
      (
        await app.handle(
          beaconRequest(
            {
              event_type: 'page_view',
              properties:
                i % 2 === 0 ? { path: `/${i % 3}`, referrer: `https://site-${i % 4}.example/` } : { path: `/${i % 3}` },
            },
            // a visitor per beacon and tag: the same address, browsers of other builds
            { headers: { 'user-agent': `${BROWSER_UA.replace('131.0.0.0', `131.0.0.${i}`)} Build/${tag}` } },
          ),
        )
      ).status,
    ).toBe(202)
  }
}

/**
 * Reads a child's stdout until `marker` appears (its process has started and connected), and
 * returns a function that reads the rest: all of the output once the child has exited.
 */
async function waitForOutput(proc: ReturnType<typeof flushChild>, marker: string): Promise<() => Promise<string>> {
  const reader = proc.stdout.getReader()
  const decoder = new TextDecoder()
  let text = ''
  while (!text.includes(marker)) {
    const { done, value } = await reader.read()
    if (done) throw new Error(`the child exited before printing ${marker}: ${text}`)
    text += decoder.decode(value, { stream: true })
  }
  return async () => {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return text
      text += decoder.decode(value, { stream: true })
    }
  }
}

describe('flush under faults', () => {
  for (const step of ['moved', 'in-transaction', 'committed'] as const) {
    test(`SIGKILL ${step === 'moved' ? 'after the move' : step === 'committed' ? 'after the commit, before the Redis delete' : 'inside the Postgres transaction'}: nothing lost, nothing doubled`, async () => {
      const { app, deps, db, config } = await testApp()
      await sendEvents(app, 20, 'a')
      const proc = flushChild({
        MODE: 'crash',
        CRASH_AT: step,
        REDIS_URL: config.redisUrl,
        DATABASE_URL: config.databaseUrl,
        REDIS_PREFIX: config.redisPrefix,
      })
      expect(await readLine(proc.stdout, /AT [a-z-]+/)).toBe(`AT ${step}`)
      proc.kill('SIGKILL')
      await proc.exited
      // the dead flusher's lease would block the timer for 30 s; a manual flush waits it out, so
      // clear it to keep the test short (correctness never depends on the lease)
      await deps.redis.del(deps.keys.lease)

      // events keep arriving after the crash
      await sendEvents(app, 10, 'b')
      const before = await stored(db.pool)
      expect(before.daily).toBe(step === 'committed' ? 40 : 0)
      // the rows commit with the counters, or not at all
      expect(before.rows).toBe(step === 'committed' ? 40 : 0)

      // every event sent before and after the crash, counted once
      const all = {
        daily: 60,
        hourly: 60,
        users: 30,
        pages: 30,
        visits: 30,
        sources: 30,
        monthly: 30,
        // the event log: one row per event, each visit begun once
        rows: 60,
        began: 30,
        logged_visits: 30,
        aggregates_off: 0,
      }
      await deps.flusher.flush()
      expect(await stored(db.pool)).toEqual(all)
      expect(await pendingTotal(deps)).toBe(0)
      expect(await deps.redis.zCard(deps.keys.shards[0]!.snapshots)).toBe(0)
      // each day's visitor set reached Postgres as the very bytes Redis holds
      expect(await storedVisitorSets(db.pool)).toEqual(await redisVisitorSets(deps, db.pool))
      // and each month's set is the union of its days', once
      expect(await storedMonthSets(db.pool)).toEqual(await redisMonthSets(deps, db.pool))
      // flushing again changes nothing
      expect(await deps.flusher.flush()).toBe(0)
      expect(await stored(db.pool)).toEqual(all)
    }, 30_000)
  }

  test('Postgres unavailable: the flush fails, keeps the batch, and the next one writes it once', async () => {
    const { app, deps, config } = await testApp()
    const { proxy, url } = proxyFor(config.databaseUrl, 5432)
    const db = await openDatabase(url, { max: 2 })
    const logs: string[] = []
    const log = {
      ...silentLogger,
      error: (msg: string, f?: Record<string, unknown>) => logs.push(`${msg} ${JSON.stringify(f)}`),
    }
    const flusher = new Flusher(
      { redis: deps.redis, pool: db.pool, keys: deps.keys, log, eventStore: new PostgresEventStore(db.pool) },
      { intervalMs: 60_000, ttlSeconds: 604_800, statementTimeoutMs: 5000 },
    )
    try {
      await sendEvents(app, 10, 'a')
      proxy.close()
      await expect(flusher.flush()).rejects.toThrow(/^flush failed: /)
      expect(logs).toHaveLength(1)
      expect(logs[0]).toStartWith('flush failed; counts stay in Redis and are retried')
      expect(flusher.getStats()).toMatchObject({ consecutiveFailures: 1, waitingBatches: 1 })

      // the write path keeps accepting events while Postgres is down
      await sendEvents(app, 5, 'b')
      await expect(flusher.flush()).rejects.toThrow()
      expect(flusher.getStats().consecutiveFailures).toBe(2)

      proxy.reopen()
      await flusher.flush()
      expect(flusher.getStats()).toMatchObject({ consecutiveFailures: 0, waitingBatches: 0 })
      expect(await stored(deps.pool)).toEqual({
        daily: 30,
        hourly: 30,
        users: 15,
        pages: 15,
        visits: 15,
        sources: 15,
        monthly: 15,
        rows: 30,
        began: 15,
        logged_visits: 15,
        aggregates_off: 0,
      })
    } finally {
      proxy.close()
      await db.close()
    }
  }, 30_000)

  for (const lease of [true, false]) {
    test(`two flusher processes racing ${lease ? 'with' : 'without'} the lease while events arrive: exact totals`, async () => {
      const { app, deps, db, config } = await testApp()
      const stopFile = join(tmpdir(), `stop-flushers-${process.pid}-${lease}-${Date.now()}`)
      const env = {
        MODE: 'loop',
        LEASE: lease ? '1' : '0',
        STOP_FILE: stopFile,
        REDIS_URL: config.redisUrl,
        DATABASE_URL: config.databaseUrl,
        REDIS_PREFIX: config.redisPrefix,
      }
      const procs = [flushChild(env), flushChild(env)]
      // both flushers run before the events start, so their flushes do race with the events
      // (a slow process start would otherwise leave one flush after all of them)
      const rest = await Promise.all(procs.map((p) => waitForOutput(p, 'READY')))
      const batches = async () =>
        (await db.pool.query('SELECT count(*)::int AS n FROM analytics_flush_log')).rows[0].n as number
      let sent = 0
      let visits = 0
      let flushed = 0
      for (let round = 0; round < 30; round++) {
        await sendEvents(app, 5, `r${round}`)
        sent += 10
        visits += 5
        // every tenth round waits until a flusher has written a batch since the last wait: the
        // flushers race with the rounds in between, and the events make at least three batches
        if (round % 10 !== 9) continue
        const before = flushed
        flushed = await waitFor(
          async () => {
            const n = await batches()
            return n > before && n
          },
          { what: `a flush after round ${round}` },
        )
      }
      await Bun.write(stopFile, 'stop')
      const outputs = await Promise.all(
        procs.map(async (p, i) => {
          await p.exited
          return rest[i]!()
        }),
      )
      const flushedByChildren = outputs.map((o) => Number(/FLUSHED (\d+)/.exec(o)?.[1] ?? Number.NaN))
      expect(flushedByChildren.every((n) => n >= 0)).toBe(true)
      await deps.flusher.flush()
      expect(await stored(db.pool)).toEqual({
        daily: sent,
        hourly: sent,
        users: sent / 2,
        pages: sent / 2,
        visits,
        sources: visits,
        monthly: visits,
        rows: sent,
        began: visits,
        logged_visits: visits,
        aggregates_off: 0,
      })
      const log = await db.pool.query(
        'SELECT count(*)::int AS batches, count(DISTINCT seq)::int AS seqs FROM analytics_flush_log',
      )
      expect(log.rows[0].batches).toBeGreaterThan(1)
      expect(log.rows[0].seqs).toBe(log.rows[0].batches)
      await Bun.$`rm -f ${stopFile}`
    }, 60_000)
  }
})

describe('flush with Redis unavailable', () => {
  test('a failure to take the lease is a failed flush: logged, counted, backed off', async () => {
    const { openRedis } = await import('../src/db/redis.ts')
    const { config, db, deps } = await testApp()
    const { proxy, url } = proxyFor(config.redisUrl, 6379)
    const redis = await openRedis(url, silentLogger)
    const logs: string[] = []
    const flusher = new Flusher(
      { redis, pool: db.pool, keys: deps.keys, log: { ...silentLogger, error: (msg: string) => logs.push(msg) } },
      { intervalMs: 60_000, ttlSeconds: 604_800 },
    )
    try {
      proxy.close()
      await waitFor(() => !redis.isReady, { what: 'the client to see Redis gone' })
      await expect(flusher.flush()).rejects.toThrow(/^flush failed: /)
      expect(flusher.getStats().consecutiveFailures).toBe(1)
      expect(logs).toEqual(['flush failed; counts stay in Redis and are retried'])
    } finally {
      proxy.close()
      redis.destroy()
    }
  })
})
