/**
 * `GET /t.js`: the browser tracker, `public/t.js` (built from `src/tracker`), read once at start.
 * Any site may load it, so it carries `Access-Control-Allow-Origin: *` and
 * `Cross-Origin-Resource-Policy: cross-origin` (pages with COEP need the latter). A short max-age
 * lets a new build reach browsers within minutes, and the ETag makes the revalidation a 304.
 * It is sent gzipped to clients that take it: that is the size every page view pays.
 *
 * @example
 * new Elysia().use(tracker()) // GET /t.js
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Elysia } from 'elysia'
import { errorMessage } from '../log.ts'

export const TRACKER_FILE = join(import.meta.dir, '..', '..', 'public', 't.js')
export const TRACKER_CACHE_CONTROL = 'public, max-age=300'

export interface TrackerOptions {
  /** the built script to serve */
  file?: string
}

/** True when an If-None-Match header names `etag` (compared weakly, as RFC 9110 asks) or is `*`. */
export function matchesEtag(header: string | null, etag: string): boolean {
  if (!header) return false
  const bare = (tag: string) => tag.trim().replace(/^W\//, '')
  return header.split(',').some((tag) => tag.trim() === '*' || bare(tag) === bare(etag))
}

/** True when Accept-Encoding allows gzip (`gzip;q=0` refuses it). */
export function acceptsGzip(header: string | null): boolean {
  return /(^|,)\s*(gzip|\*)\s*(,|;(?!\s*q=0(\.0*)?\s*(,|$))|$)/i.test(header ?? '')
}

export const tracker = ({ file = TRACKER_FILE }: TrackerOptions = {}) => {
  let script: Uint8Array<ArrayBuffer>
  try {
    script = new Uint8Array(readFileSync(file))
  } catch (err) {
    throw new Error(`cannot read the tracker script ${file}: ${errorMessage(err)}. Run bun run build:tracker.`)
  }
  const gzipped = Bun.gzipSync(script, { level: 9 })
  // Weak: the gzipped and plain bodies are the same script, so one validator serves both.
  const etag = `W/"${new Bun.CryptoHasher('sha256').update(script).digest('base64url').slice(0, 27)}"`

  return new Elysia({ name: 'tracker' }).get(
    '/t.js',
    ({ request, set }) => {
      const headers: Record<string, string> = {
        'cache-control': TRACKER_CACHE_CONTROL,
        etag,
        vary: 'Accept-Encoding',
        'access-control-allow-origin': '*',
        'cross-origin-resource-policy': 'cross-origin',
        'x-content-type-options': 'nosniff',
      }
      // The app-wide CORS plugin echoes the Origin and sets `Vary: Origin`, which would split the
      // cached script per embedding site; this route's own headers replace them.
      for (const name of Object.keys(headers)) delete set.headers[name]
      if (matchesEtag(request.headers.get('if-none-match'), etag)) return new Response(null, { status: 304, headers })
      headers['content-type'] = 'text/javascript; charset=utf-8'
      if (!acceptsGzip(request.headers.get('accept-encoding'))) return new Response(script, { headers })
      headers['content-encoding'] = 'gzip'
      return new Response(gzipped, { headers })
      // a script for pages to load, not an API: README's Tracker section describes it
    },
    { detail: { hide: true } },
  )
}
