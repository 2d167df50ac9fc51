/**
 * `GET /analytics/live`: today's hourly counters as Server-Sent Events, for admins (bearer token,
 * or `?token=` since an `EventSource` cannot set headers). `?types=a,b` narrows the feed.
 * `GET /live`: the wall-screen page that shows it (public/live.html and .css, and live.js, built
 * from src/live-screen by `bun run build:dashboard`); `/live/` redirects there.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Elysia } from 'elysia'
import Type from 'typebox'
import type { Deps } from '../deps.ts'
import { HttpError } from '../errors.ts'
import { EVENT_TYPES } from '../events/types.ts'
import { parseTypes } from '../live/state.ts'
import { SiteParam } from '../read/query.ts'
import { requireAccess } from './auth.ts'
import { errors, operation, parameters, SECURITY } from './openapi.ts'
import { PAGE_HEADERS } from './page-headers.ts'
import { readSite, siteTokens } from './site-param.ts'

/** Seconds a refused client should wait; EventSource ignores it, the live page honours it. */
export const LIVE_RETRY_AFTER_SECONDS = 5

const PUBLIC_DIR = join(import.meta.dir, '..', '..', 'public')

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  // no-transform: a compressing proxy would hold events back to fill its buffers
  'cache-control': 'no-cache, no-transform',
  // nginx buffers responses unless told not to
  'x-accel-buffering': 'no',
  connection: 'keep-alive',
}

const PAGE_FILE = join(PUBLIC_DIR, 'live.html')

/** The feed's query, as the route reads it (`types` through `parseTypes`). */
const LiveQuery = Type.Object({
  site: Type.Optional(SiteParam),
  types: Type.Optional(
    Type.String({
      description: `event types to count, comma-separated, each one of ${EVENT_TYPES.join(', ')}; all when absent`,
    }),
  ),
  token: Type.Optional(Type.String({ description: 'the admin or viewer token, for an EventSource (no headers)' })),
})

const hide = { detail: { hide: true } }

/** the live screen's script, built from src/live-screen */
export const LIVE_JS = join(PUBLIC_DIR, 'live.js')

const FILES: Record<string, { file: string; type: string }> = {
  '/live.js': { file: 'live.js', type: 'text/javascript; charset=utf-8' },
  '/live.css': { file: 'live.css', type: 'text/css; charset=utf-8' },
}

const serve = (asset: { file: string; type: string }) =>
  new Response(Bun.file(join(PUBLIC_DIR, asset.file)), { headers: { ...PAGE_HEADERS, 'content-type': asset.type } })

export const live = (deps: Pick<Deps, 'config' | 'liveHubs' | 'sites' | 'contexts'>) => {
  const { liveHubs } = deps
  const tokens = siteTokens(deps)
  const page = readFileSync(PAGE_FILE, 'utf8')
  const app = new Elysia({ name: 'live' }).get(
    '/analytics/live',
    ({ request, server }) => {
      const query = new URL(request.url).searchParams
      const access = requireAccess(request, tokens, 'read', query.get('token'))
      const { types, unknown } = parseTypes(query.get('types'))
      if (unknown.length > 0) {
        throw new HttpError(400, `unknown event type in types: ${unknown.join(', ')}`, { expected: EVENT_TYPES })
      }
      const client = liveHubs.subscribe(readSite(deps, query.get('site'), access), types)
      if (!client) {
        const reason = liveHubs.closing
          ? 'this instance is shutting down'
          : 'this instance has as many live clients as it takes'
        throw new HttpError(503, `${reason}; retry later`, undefined, {
          'retry-after': String(LIVE_RETRY_AFTER_SECONDS),
        })
      }
      // Bun cancels the body when the peer goes away; the abort signal is a second path to the
      // same idempotent release, so a client is never left in the hub.
      request.signal.addEventListener('abort', () => client.end('disconnected'), { once: true })
      // A dropped client's socket is usually full, and Bun would hold it (and its buffers) until
      // the 10 s idle timeout; a short timeout lets it go as soon as it stops moving.
      void client.done.then((reason) => {
        if (reason === 'too_slow') server?.timeout(request, 1)
      })
      return new Response(client.stream, { headers: SSE_HEADERS })
    },
    operation({
      summary: 'Live counters of today of one site, as Server-Sent Events',
      description: 'A snapshot event, then counts events as they change; a comment line as a heartbeat.',
      tags: ['reads'],
      security: SECURITY.read,
      parameters: parameters('query', LiveQuery),
      responses: {
        200: { description: 'the event stream', content: { 'text/event-stream': { schema: Type.String() } } },
        ...errors(400, 401, 404, 422, 503),
      },
    }),
  )
  app.get(
    '/live',
    ({ request }) => {
      // Elysia routes `/live/` here too, where the page's relative URLs (live.js, the feed) would
      // resolve under `/live/` and 404. The redirect is relative like them, so it lands right
      // behind a proxy that mounts the service under a path.
      const url = new URL(request.url)
      if (url.pathname.endsWith('/'))
        return new Response(null, { status: 308, headers: { location: `../live${url.search}` } })
      return new Response(page, { headers: { ...PAGE_HEADERS, 'content-type': 'text/html; charset=utf-8' } })
    },
    hide,
  )
  for (const [path, asset] of Object.entries(FILES)) app.get(path, () => serve(asset), hide)
  return app
}
