/**
 * An app wired to the test's own Redis prefix and database, plus request helpers.
 */
import { createApp } from '../src/app.ts'
import type { Config } from '../src/config.ts'
import { createDeps, type Deps } from '../src/deps.ts'
import { VISIT } from '../src/events/types.ts'
import { silentLogger } from '../src/log.ts'
import { keyPatterns, testContext } from './services.ts'

export const BROWSER_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'

/** `now`: the clock events are counted and days read by (a test can freeze or move it). */
export async function testApp(overrides: Partial<Config> = {}, options: { now?: () => number } = {}) {
  const ctx = await testContext(overrides)
  const deps: Deps = createDeps({
    config: ctx.config,
    redis: ctx.redis,
    pool: ctx.db.pool,
    log: silentLogger,
    now: options.now,
  })
  const app = createApp(deps)
  return { ...ctx, deps, app }
}

type App = Awaited<ReturnType<typeof testApp>>['app']

/**
 * A request to `path` (a JSON body when given; a string is sent as it is) and its answer: the
 * status, the media type, and the body parsed when it is JSON, else its text.
 */
export async function apiCall(app: App, method: string, path: string, body: unknown, headers: Record<string, string>) {
  const res = await app.handle(
    new Request(`http://localhost${path}`, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    }),
  )
  const text = await res.text()
  const type = res.headers.get('content-type') ?? ''
  return { status: res.status, type, body: text && type.includes('json') ? JSON.parse(text) : text }
}

export function beaconRequest(
  body: unknown,
  init: { headers?: Record<string, string>; raw?: boolean; ip?: string } = {},
): Request {
  return new Request('http://localhost/e', {
    method: 'POST',
    headers: {
      'content-type': 'text/plain;charset=UTF-8',
      'user-agent': BROWSER_UA,
      'x-forwarded-for': init.ip ?? '203.0.113.7',
      ...init.headers,
    },
    body: init.raw ? (body as string) : JSON.stringify(body),
  })
}

export function ingestRequest(
  body: unknown,
  init: { token?: string | null; headers?: Record<string, string>; raw?: boolean } = {},
): Request {
  const token = init.token === undefined ? 'test-ingest-token-0123456789' : init.token
  return new Request('http://localhost/analytics/events', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...init.headers,
    },
    body: init.raw ? (body as string) : JSON.stringify(body),
  })
}

/** A Redis hash as numbers. */
export async function hash(deps: Deps, key: string): Promise<Record<string, number>> {
  const raw = await deps.redis.hGetAll(key)
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]))
}

/** Every key under the test's prefix, in every shard. */
export async function allKeys(deps: Deps): Promise<string[]> {
  const keys: string[] = []
  for (const match of keyPatterns(deps.keys.tag.slice(1, -1))) {
    for await (const batch of deps.redis.scanIterator({ MATCH: match, COUNT: 1000 })) keys.push(...batch)
  }
  return keys.sort()
}

/** Sum of all pending daily counts of events (not visits), over every shard: counted and not yet flushed. */
export async function pendingTotal(deps: Deps): Promise<number> {
  let total = 0
  for (const shard of deps.keys.shards) {
    for (const [field, n] of Object.entries(await hash(deps, shard.pending('d')))) {
      if (!field.endsWith(`|${VISIT}`)) total += n
    }
  }
  return total
}
