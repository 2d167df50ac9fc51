/**
 * A peer's write path, as a comparator: what an event-row analytics service such as Umami does
 * with a beacon, reduced to its core. A bare Bun.serve on `/e` reads the body, parses the JSON,
 * and stores the event as one row of `website_event` (Umami's table, its main columns) with one
 * `INSERT` through the Neon driver's `Pool`, opened exactly as the service opens it
 * (src/db/pool.ts: for a Postgres that is not Neon, through the in-process WebSocket bridge), and
 * answers 202 once the row is committed (autocommit: the `INSERT` returns after its commit).
 *
 * Strictly less than Umami does per event: no session row, no bot check, no User-Agent parse, no
 * country lookup, and one index beside the primary key (`created_at`) where Umami keeps several.
 * The bench creates the table before each run of this target (`WEBSITE_EVENT` in bench/beacon.ts)
 * and counts its rows after it: 2xx answered = rows inserted.
 */
import { openDatabase } from '../src/db/pool.ts'
import { serveOnE } from './lib.ts'

/**
 * Connections in the pool: the service's own pool size (src/db/pool.ts opens it with 10). Tried
 * with 5, 10, 20 and 32 under the bench's load (64 connections, 2 shared cores, two 2-second runs
 * each): 5 was clearly slower, 10, 20 and 32 within each other's noise, so the service's 10 is
 * kept. UMAMI_POOL_MAX sets another.
 */
const POOL_MAX = Number(process.env.UMAMI_POOL_MAX ?? 10)

const WEBSITE_ID = '5d1b4c8e-3f0a-4e57-9a61-0c2f8b7d9e10'
const INSERT = `INSERT INTO website_event (event_id, website_id, session_id, visit_id, url_path, url_query,
  referrer_path, referrer_query, referrer_domain, utm_source, utm_medium, utm_campaign, hostname, event_type, event_name)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`

/** A UUID-shaped 128-bit hash of `text` (Umami derives its session and visit ids by hashing too). */
function uuidOf(text: string): string {
  const hex =
    Bun.hash.wyhash(text, 1n).toString(16).padStart(16, '0') + Bun.hash.wyhash(text, 2n).toString(16).padStart(16, '0')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

const text = (v: unknown, max: number): string | null => (typeof v === 'string' && v !== '' ? v.slice(0, max) : null)

/** The row's values for one event, or undefined when the body is not one event. */
function rowOf(body: unknown, request: Request): unknown[] | undefined {
  const event = Array.isArray(body) && body.length === 1 ? body[0] : body
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return undefined
  const { event_type: type, properties = {} } = event as { event_type?: unknown; properties?: Record<string, unknown> }
  if (typeof type !== 'string' || typeof properties !== 'object' || properties === null) return undefined
  const page = typeof properties.path === 'string' ? properties.path : '/'
  const q = page.indexOf('?')
  const referrer = typeof properties.referrer === 'string' ? URL.parse(properties.referrer) : null
  const ip = request.headers.get('x-forwarded-for') ?? ''
  const userAgent = request.headers.get('user-agent') ?? ''
  const session = uuidOf(`${WEBSITE_ID}\n${ip}\n${userAgent}`)
  const origin = request.headers.get('origin')
  return [
    crypto.randomUUID(),
    WEBSITE_ID,
    session,
    uuidOf(`${session}\n${new Date().toISOString().slice(0, 13)}`),
    (q < 0 ? page : page.slice(0, q)).slice(0, 500),
    q < 0 ? null : page.slice(q + 1, q + 501),
    referrer ? referrer.pathname.slice(0, 500) : null,
    referrer ? text(referrer.search.slice(1), 500) : null,
    referrer ? text(referrer.hostname, 500) : null,
    text(properties.utm_source, 255),
    text(properties.utm_medium, 255),
    text(properties.utm_campaign, 255),
    origin && URL.canParse(origin) ? new URL(origin).hostname.slice(0, 100) : null,
    // Umami's event types: 1 a page view, 2 a custom event (named)
    type === 'page_view' ? 1 : 2,
    type === 'page_view' ? null : (text(properties.feature_name, 50) ?? type.slice(0, 50)),
  ]
}

const db = await openDatabase(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', {
  max: POOL_MAX,
})

serveOnE(
  async (request) => {
    let row: unknown[] | undefined
    try {
      row = rowOf(JSON.parse(await request.text()), request)
    } catch {
      row = undefined
    }
    if (!row) return new Response(null, { status: 400 })
    try {
      await db.pool.query(INSERT, row)
    } catch {
      return new Response(null, { status: 503 })
    }
    return new Response(null, { status: 202 })
  },
  () => db.close(),
)
