/**
 * Upgrading to sites: a database and Redis filled by the code before sites were keyed into the
 * counters (OLD, migrations up to sql/012) are taken over by this code. The old code runs from its
 * own commit: its server counts beacons and server events, flushes some, an old flusher dies after
 * its commit and before its Redis cleanup, more events stay pending, and the server is SIGKILLed.
 * This code then migrates the same database, starts on the same key prefix, and must answer every
 * read exactly as the old server did, before and after its first flush; every stored row is the
 * default site's, every counter's total what was sent, nothing is left pending, and the visitors
 * and visits in progress go on as the same ones.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Pool } from '@neondatabase/serverless'
import { $ } from 'bun'
import { openDatabase } from '../src/db/pool.ts'
import { closeRedis, openRedis, type Redis } from '../src/db/redis.ts'
import { silentLogger } from '../src/log.ts'
import { BROWSER_UA } from './app.ts'
import { readLine } from './flush-child.ts'
import { AGGREGATES_OFF } from './log-rows.ts'
import { type ServerProcess, startServerProcess } from './server-process.ts'
import { emptyDatabaseUrl, redisUrl, testPrefix } from './services.ts'

/** The last commit before sites were keyed into the counters (sql/013). */
const OLD = 'b40513f085521dc22fc71975fd5700e64a18b5ef'
const ROOT = join(import.meta.dir, '..')

/** The counter tables, whose keys sql/013 led with the site. */
const COUNTERS = [
  'analytics_daily',
  'analytics_quarters',
  'analytics_user_daily',
  'analytics_users',
  'analytics_feature_daily',
  'analytics_page_daily',
  'analytics_visitors_daily',
  'analytics_visitors_monthly',
  'analytics_dimension_daily',
  'analytics_dimension_monthly',
]

const ADMIN = { authorization: 'Bearer test-admin-token-0123456789' }
const INGEST = { authorization: 'Bearer test-ingest-token-0123456789', 'content-type': 'application/json' }
const DAY_MS = 86_400_000

/**
 * A zone whose clock is near noon now: every read's "today" and ranges stay the same while the
 * test runs, whenever it runs.
 */
function middayZone(now = Date.now()): string {
  const offset = Math.max(-12, Math.min(14, 12 - new Date(now).getUTCHours()))
  // Etc/GMT's signs are POSIX's: Etc/GMT-3 is three hours ahead of UTC
  return offset === 0 ? 'Etc/UTC' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`
}

/** A visitor: its forwarded address (public, so that its country is looked up) and its browser. */
interface Visitor {
  ip: string
  ua: string
}

const MOBILE_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1'

const visitor = (n: number, ua = BROWSER_UA.replace('131.0.0.0', `131.0.0.${n}`)): Visitor => ({
  ip: n % 2 === 1 ? `8.8.${n}.8` : `194.25.0.${n}`,
  ua,
})
const v1 = visitor(1)
const v2 = visitor(2)
const v3 = visitor(3, MOBILE_UA)
const v4 = visitor(4)
const v5 = visitor(5)
const v6 = visitor(6)

type Event = { event_type: string; properties?: Record<string, string>; user_id?: string; timestamp?: string }

const view = (path: string, more: Record<string, string> = {}): Event => ({
  event_type: 'page_view',
  properties: { path, ...more },
})

/** What was sent and accepted: the counters' totals must come to it. */
const sent = {
  byType: {} as Record<string, number>,
  /** events with a user id, and the ids */
  userEvents: 0,
  users: new Set<string>(),
  features: 0,
  /** the visitors whose beacons began a visit (each visitor's beacons fall in one visit here) */
  visitors: new Set<string>(),
}

function count(events: readonly Event[], from?: Visitor) {
  for (const e of events) {
    sent.byType[e.event_type] = (sent.byType[e.event_type] ?? 0) + 1
    if (e.user_id !== undefined) {
      sent.userEvents++
      sent.users.add(e.user_id)
    }
    if (e.properties?.feature_name !== undefined) sent.features++
  }
  if (from) sent.visitors.add(from.ip)
}

/** What Postgres must hold once everything sent is flushed. */
function expected() {
  const events = Object.values(sent.byType).reduce((a, b) => a + b, 0)
  const visits = sent.visitors.size
  return {
    daily: sent.byType,
    quarters: events,
    visits,
    pages: sent.byType.page_view ?? 0,
    userEvents: sent.userEvents,
    users: sent.users.size,
    features: sent.features,
    sources: visits,
    sourcesMonthly: visits,
    // every visitor came today, each with an address and browser of its own
    visitors: visits,
    rows: events,
    began: visits,
    aggregatesOff: 0,
  }
}

async function stored(pool: Pool) {
  const r = await pool.query(`SELECT
      (SELECT json_object_agg(event_type, n) FROM (
        SELECT event_type, sum(count)::int AS n FROM analytics_daily WHERE event_type <> 'visit' GROUP BY 1) d) AS daily,
      (SELECT coalesce(sum(count), 0)::int FROM analytics_quarters WHERE event_type <> 'visit') AS quarters,
      (SELECT coalesce(sum(count), 0)::int FROM analytics_daily WHERE event_type = 'visit') AS visits,
      (SELECT coalesce(sum(count), 0)::int FROM analytics_page_daily) AS pages,
      (SELECT coalesce(sum(count), 0)::int FROM analytics_user_daily) AS "userEvents",
      (SELECT count(*)::int FROM analytics_users) AS users,
      (SELECT coalesce(sum(count), 0)::int FROM analytics_feature_daily) AS features,
      (SELECT coalesce(sum(count), 0)::int FROM analytics_dimension_daily WHERE dimension = 'source') AS sources,
      (SELECT coalesce(sum(count), 0)::int FROM analytics_dimension_monthly WHERE dimension = 'source')
        AS "sourcesMonthly",
      (SELECT coalesce(sum(visitors), 0)::int FROM analytics_visitors_daily) AS visitors,
      (SELECT count(*)::int FROM analytics_events) AS rows,
      (SELECT count(*)::int FROM analytics_visits WHERE began_at IS NOT NULL) AS began,
      (${AGGREGATES_OFF}) AS "aggregatesOff"`)
  return r.rows[0]
}

/** The default site's keys as the old code named them: nothing pending, no snapshot left. */
async function expectNothingPending(redis: Redis, tag: string) {
  const keys = async (match: string) => {
    const found: string[] = []
    for await (const batch of redis.scanIterator({ MATCH: match, COUNT: 1000 })) found.push(...batch)
    return found.sort()
  }
  expect(await keys(`${tag}:pend:*`)).toEqual([])
  expect(await keys(`${tag}:snap:*`)).toEqual([])
  expect(await redis.zCard(`${tag}:snaps`)).toBe(0)
  expect(await redis.hLen(`${tag}:held`)).toBe(0)
  // and no other site's keys: the upgrade made none
  expect(await keys(`${tag}:s[0-9]*`)).toEqual([])
}

async function beacon(server: ServerProcess, who: Visitor, events: Event[]) {
  const res = await fetch(`${server.url}/e`, {
    method: 'POST',
    headers: {
      'content-type': 'text/plain;charset=UTF-8',
      'user-agent': who.ua,
      'x-forwarded-for': who.ip,
      origin: 'https://shop.example.com',
    },
    body: JSON.stringify(events),
  })
  expect(res.status).toBe(202)
  count(events, who)
}

/** A server batch; `client` makes an event join that visitor's visit in progress. */
async function serverEvents(server: ServerProcess, events: (Event & { client?: Visitor })[]) {
  const body = events.map(({ client, ...event }) =>
    client ? { ...event, client_ip: client.ip, user_agent: client.ua } : event,
  )
  const res = await fetch(`${server.url}/analytics/events`, {
    method: 'POST',
    headers: INGEST,
    body: JSON.stringify(body),
  })
  expect({ status: res.status, body: await res.json() }).toEqual({ status: 202, body: { accepted: events.length } })
  count(events)
}

async function call(server: ServerProcess, method: string, path: string, body?: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: body === undefined ? ADMIN : { ...ADMIN, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  return {
    status: res.status,
    body: text && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text,
  }
}

/** Every read's status and answer, by path. */
async function readAll(server: ServerProcess, paths: readonly string[]) {
  const answers: Record<string, Awaited<ReturnType<typeof call>>> = {}
  for (const path of paths) answers[path] = await call(server, 'GET', path)
  return answers
}

const daysAgo = (n: number) => new Date(Date.now() - n * DAY_MS).toISOString()
const filters = (f: unknown) => encodeURIComponent(JSON.stringify(f))

let oldTree: string | undefined
const servers: ServerProcess[] = []

afterAll(async () => {
  for (const server of servers) await server.stop('SIGKILL').catch(() => {})
  if (oldTree) rmSync(oldTree, { recursive: true, force: true })
})

/** The old code's tree in a temporary directory, using this checkout's dependencies (unchanged since). */
async function checkOutOld(): Promise<string> {
  const known = await $`git -C ${ROOT} cat-file -e ${OLD}^{commit}`.quiet().nothrow()
  if (known.exitCode !== 0) throw new Error(`commit ${OLD} is not in this clone: the test needs the full history`)
  oldTree = mkdtempSync(join(tmpdir(), 'analytics-before-sites-'))
  await $`git -C ${ROOT} archive ${OLD} | tar -x -C ${oldTree}`.quiet()
  symlinkSync(join(ROOT, 'node_modules'), join(oldTree, 'node_modules'))
  return oldTree
}

describe('upgrading a database and Redis of the code before sites', () => {
  test('every read answers as before, the first flush writes everything once, all of it the default site’s', async () => {
    const old = await checkOutOld()
    const env = {
      DATABASE_URL: await emptyDatabaseUrl(),
      REDIS_PREFIX: testPrefix(),
      // no timer flush while the test runs: what is pending stays so until a flush is asked for
      FLUSH_INTERVAL_MS: String(DAY_MS),
      MIGRATE_ON_START: 'true',
      TRUST_PROXY: 'true',
      TIME_ZONE: middayZone(),
    }
    const redis = await openRedis(await redisUrl(), silentLogger)
    const db = await openDatabase(env.DATABASE_URL, { max: 2 })
    const tag = `{${env.REDIS_PREFIX}}`
    try {
      // ---- the old code: its own migrations, its server ----
      const before = await startServerProcess(env, { cwd: old })
      servers.push(before)
      const migrated = await db.pool.query('SELECT max(version) AS v FROM schema_migrations')
      expect(migrated.rows[0].v).toBe('012_sites')

      const pricing = await call(before, 'POST', '/analytics/goals', { name: 'Pricing', page: '/pricing' })
      expect(pricing.status).toBe(201)
      const funnel = await call(before, 'POST', '/analytics/funnels', {
        name: 'Signed up after pricing',
        steps: [pricing.body.id, 'user_signup'],
      })
      expect(funnel.status).toBe(201)

      // flushed by the old server: history in Postgres
      await beacon(before, v1, [view('/', { referrer: 'https://www.google.com/search?q=x' })])
      await beacon(before, v1, [
        view('/pricing'),
        { event_type: 'feature_used', properties: { feature_name: 'export' } },
      ])
      await beacon(before, v2, [
        view('/', {
          referrer: 'https://news.example/item',
          utm_source: 'newsletter',
          utm_medium: 'email',
          utm_campaign: 'launch',
        }),
      ])
      await beacon(before, v3, [view('/docs')])
      await serverEvents(before, [
        { event_type: 'user_signup', user_id: 'u1', client: v1 },
        { event_type: 'generation_started', user_id: 'u1' },
        { event_type: 'generation_completed', user_id: 'u1' },
        { event_type: 'generation_completed', user_id: 'u1' },
        { event_type: 'generation_completed', user_id: 'u2', timestamp: daysAgo(3) },
        { event_type: 'user_login', user_id: 'u2', timestamp: daysAgo(10) },
      ])
      const flushed = await call(before, 'POST', '/analytics/flush')
      expect(flushed.status).toBe(200)
      expect(flushed.body.flushed).toBeGreaterThan(0)

      // written to Postgres by an old flusher that dies after its commit, before its Redis
      // cleanup: its snapshot stays in Redis beside the rows it wrote
      await beacon(before, v1, [view('/docs')])
      await beacon(before, v4, [view('/', { referrer: 'https://www.google.com/' })])
      await serverEvents(before, [
        { event_type: 'generation_completed', user_id: 'u2' },
        { event_type: 'user_signup', user_id: 'u3', timestamp: daysAgo(2) },
      ])
      const flusher = Bun.spawn(['bun', 'test/fixtures/flush-child.ts'], {
        cwd: old,
        env: {
          ...process.env,
          MODE: 'crash',
          CRASH_AT: 'committed',
          REDIS_URL: await redisUrl(),
          DATABASE_URL: env.DATABASE_URL,
          REDIS_PREFIX: env.REDIS_PREFIX,
        },
        stdout: 'pipe',
        stderr: 'pipe',
      })
      try {
        expect(await readLine(flusher.stdout, /AT [a-z-]+/)).toBe('AT committed')
      } finally {
        flusher.kill('SIGKILL')
        await flusher.exited
      }

      // pending in Redis when the old server dies
      await beacon(before, v2, [view('/pricing'), { event_type: 'asset_downloaded' }])
      await beacon(before, v5, [view('/blog/post', { referrer: 'https://t.co/abc' })])
      await beacon(before, v3, [view('/')])
      await serverEvents(before, [
        { event_type: 'generation_completed', user_id: 'u3' },
        { event_type: 'user_signup', user_id: 'u5', client: v5 },
        { event_type: 'feature_used', user_id: 'u2', properties: { feature_name: 'export' } },
      ])

      const reads = [
        '/analytics/stats?metric=events',
        '/analytics/stats?metric=events&event_type=generation_completed',
        '/analytics/stats?metric=events&granularity=hour',
        '/analytics/stats?metric=events&granularity=month',
        '/analytics/stats?metric=visits',
        '/analytics/stats?metric=visitors',
        '/analytics/stats?metric=visitors&granularity=week',
        '/analytics/stats?metric=bounce_rate',
        '/analytics/stats?metric=views_per_visit',
        '/analytics/stats?metric=visit_duration',
        `/analytics/stats?metric=conversions&goal=${pricing.body.id}`,
        `/analytics/stats?metric=events&filters=${filters([['is', 'source', ['Google']]])}`,
        '/analytics/top?dimension=page',
        '/analytics/top?dimension=source',
        '/analytics/top?dimension=feature',
        '/analytics/top?dimension=country',
        '/analytics/top?dimension=device',
        '/analytics/top?dimension=utm_campaign',
        '/analytics/top?dimension=entry_page&metrics=bounce_rate,visit_duration',
        `/analytics/top?dimension=page&filters=${filters([['is', 'country', ['DE']]])}`,
        '/analytics/dashboard',
        `/analytics/dashboard?filters=${filters([['is', 'device', ['mobile']]])}`,
        '/analytics/users/u1',
        '/analytics/users/u2',
        '/analytics/users/u3',
        '/analytics/log/check',
        '/analytics/conversions',
        `/analytics/funnel?funnel=${funnel.body.id}`,
        '/analytics/goals',
        '/analytics/funnels',
      ]
      const answered = await readAll(before, reads)
      for (const [path, answer] of Object.entries(answered)) {
        expect({ path, status: answer.status }).toEqual({ path, status: 200 })
      }
      // the old server's answers are right: they are what the upgrade must keep
      const total = (path: string) => answered[path]?.body.total
      expect(total('/analytics/stats?metric=events')).toBe(expected().rows)
      expect(total('/analytics/stats?metric=visits')).toBe(expected().visits)
      expect(total('/analytics/stats?metric=visitors')).toBe(expected().visitors)
      expect(total('/analytics/top?dimension=page')).toBe(expected().pages)

      before.kill('SIGKILL')
      await before.exited()
      expect(before.proc.signalCode).toBe('SIGKILL')
      // the state the upgrade takes over: history, a snapshot written but not cleaned up, pending counts
      expect(await redis.zCard(`${tag}:snaps`)).toBe(1)
      expect(await redis.hLen(`${tag}:pend:d`)).toBeGreaterThan(0)
      expect(await redis.lLen(`${tag}:pend:r`)).toBeGreaterThan(0)
      // the dead flusher's lease would hold the first flush back until it expires (30 s)
      await redis.del(`${tag}:lease`)

      // ---- this code on the same database and Redis ----
      const after = await startServerProcess(env)
      servers.push(after)
      const latest = readdirSync(join(ROOT, 'sql'))
        .filter((f) => /^\d+_[\w-]+\.sql$/.test(f))
        .sort()
        .at(-1)!
      expect((await db.pool.query('SELECT max(version) AS v FROM schema_migrations')).rows[0].v).toBe(
        latest.replace(/\.sql$/, ''),
      )
      const ready = await fetch(`${after.url}/readyz`)
      expect(ready.status).toBe(200)
      expect(await ready.json()).toMatchObject({ status: 'ready', held_batches: 0, log_dropped_rows: 0 })
      expect(await readAll(after, reads)).toEqual(answered)
      // the one site's reads also answer when it is named
      expect(await call(after, 'GET', '/analytics/stats?metric=events&site=0')).toEqual(
        answered['/analytics/stats?metric=events']!,
      )

      const first = await call(after, 'POST', '/analytics/flush')
      expect(first.status).toBe(200)
      expect(first.body.flushed).toBeGreaterThan(0)
      expect(await readAll(after, reads)).toEqual(answered)
      expect(await stored(db.pool)).toEqual(expected())
      await expectNothingPending(redis, tag)
      // everything is the default site's
      const sites = await db.pool.query(
        `SELECT table_name FROM information_schema.columns
         WHERE table_schema = current_schema() AND column_name = 'site' ORDER BY 1`,
      )
      const tables = (sites.rows as { table_name: string }[]).map((r) => r.table_name)
      expect(tables).toEqual(expect.arrayContaining([...COUNTERS, 'analytics_events', 'analytics_visits']))
      for (const table of tables) {
        const r = await db.pool.query(
          `SELECT count(*)::int AS rows, count(*) FILTER (WHERE site <> 0)::int AS others FROM ${table}`,
        )
        const { rows, others } = r.rows[0] as { rows: number; others: number }
        // each counter table holds something, so that "all the default site's" says something
        expect({ table, others, filled: rows > 0 || !COUNTERS.includes(table) }).toEqual({
          table,
          others: 0,
          filled: true,
        })
      }
      // flushing again changes nothing
      expect((await call(after, 'POST', '/analytics/flush')).body).toEqual({ flushed: 0 })
      expect(await stored(db.pool)).toEqual(expected())

      // the visitors and visits in progress go on: the same salt, the same sessions
      const totalOf = async (path: string) => (await call(after, 'GET', path)).body.total as number
      const fromSource = (source: string) =>
        totalOf(`/analytics/stats?metric=events&filters=${filters([['is', 'source', [source]]])}`)
      const figures = async () => ({
        events: await totalOf('/analytics/stats?metric=events'),
        visits: await totalOf('/analytics/stats?metric=visits'),
        visitors: await totalOf('/analytics/stats?metric=visitors'),
        fromGoogle: await fromSource('Google'),
        fromNews: await fromSource('news.example'),
      })
      const upgraded = await figures()
      await beacon(after, v1, [view('/blog')])
      await beacon(after, v6, [view('/')])
      await serverEvents(after, [{ event_type: 'asset_shared', user_id: 'u2', client: v2 }])
      // one new visitor and visit; v1's view goes on in its Google visit, v2's server event joins
      // its newsletter visit
      const continued = {
        events: upgraded.events + 3,
        visits: upgraded.visits + 1,
        visitors: upgraded.visitors + 1,
        fromGoogle: upgraded.fromGoogle + 1,
        fromNews: upgraded.fromNews + 1,
      }
      expect(await figures()).toEqual(continued)
      expect((await call(after, 'POST', '/analytics/flush')).body.flushed).toBeGreaterThan(0)
      expect(await figures()).toEqual(continued)
      expect(await stored(db.pool)).toEqual(expected())
      await expectNothingPending(redis, tag)

      expect(await after.stop('SIGTERM')).toBe(0)
      expect(after.logs()).not.toContain('"level":"error"')
    } finally {
      await closeRedis(redis)
      await db.close()
    }
  }, 60_000)
})
