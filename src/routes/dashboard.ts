/**
 * `GET /dashboard`: the dashboard page (public/dashboard.html) and its built script and styles
 * (public/dashboard.js, .css, from src/dashboard by `bun run build:dashboard`), read once at
 * start. `GET /` and `/dashboard/` redirect to it. The page is public; what it reads takes a token.
 *
 * The page is told, in `<meta>` tags, the zone whose days the breakdowns count and the counted
 * properties, so that every read it makes can go out at once.
 *
 * @example
 * new Elysia().use(dashboard({ countedProperties: ['plan'], timeZone: 'Europe/Berlin' }))
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Elysia } from 'elysia'
import { errorMessage } from '../log.ts'
import { PAGE_HEADERS } from './page-headers.ts'
import { acceptsGzip, matchesEtag } from './tracker.ts'

const PUBLIC_DIR = join(import.meta.dir, '..', '..', 'public')

export const DASHBOARD_HTML = join(PUBLIC_DIR, 'dashboard.html')
export const DASHBOARD_JS = join(PUBLIC_DIR, 'dashboard.js')
export const DASHBOARD_CSS = join(PUBLIC_DIR, 'dashboard.css')

export interface DashboardOptions {
  /** the zone of the deployment's days (TIME_ZONE); UTC when the server has none */
  timeZone?: string
  countedProperties: readonly string[]
  /** where the built files are (tests) */
  files?: { html: string; js: string; css: string }
}

interface Asset {
  body: Uint8Array<ArrayBuffer>
  gzipped: Uint8Array<ArrayBuffer>
  etag: string
  type: string
}

function asset(body: Uint8Array<ArrayBuffer>, type: string): Asset {
  // weak: the gzipped and plain bodies are the same file, so one validator serves both
  const etag = `W/"${new Bun.CryptoHasher('sha256').update(body).digest('base64url').slice(0, 27)}"`
  return { body, gzipped: Bun.gzipSync(body, { level: 9 }), etag, type }
}

function read(file: string): Uint8Array<ArrayBuffer> {
  try {
    return new Uint8Array(readFileSync(file))
  } catch (err) {
    throw new Error(`cannot read the dashboard's ${file}: ${errorMessage(err)}. Run bun run build:dashboard.`)
  }
}

/** The page with the server's facts in it, HTML-escaped. */
export function dashboardPage(template: string, options: Pick<DashboardOptions, 'timeZone' | 'countedProperties'>) {
  return template
    .replace('{{TIME_ZONE}}', Bun.escapeHTML(options.timeZone ?? 'UTC'))
    .replace('{{COUNTED_PROPERTIES}}', Bun.escapeHTML(options.countedProperties.join(',')))
}

function serve(request: Request, file: Asset): Response {
  const headers: Record<string, string> = { ...PAGE_HEADERS, etag: file.etag, vary: 'Accept-Encoding' }
  if (matchesEtag(request.headers.get('if-none-match'), file.etag)) return new Response(null, { status: 304, headers })
  headers['content-type'] = file.type
  if (!acceptsGzip(request.headers.get('accept-encoding'))) return new Response(file.body, { headers })
  headers['content-encoding'] = 'gzip'
  return new Response(file.gzipped, { headers })
}

export const dashboard = (options: DashboardOptions) => {
  const files = options.files ?? { html: DASHBOARD_HTML, js: DASHBOARD_JS, css: DASHBOARD_CSS }
  const page = asset(
    new TextEncoder().encode(dashboardPage(new TextDecoder().decode(read(files.html)), options)),
    'text/html; charset=utf-8',
  )
  const script = asset(read(files.js), 'text/javascript; charset=utf-8')
  const styles = asset(read(files.css), 'text/css; charset=utf-8')
  const hide = { detail: { hide: true } }
  // Redirects are relative, like the page's own URLs, so they land right behind a proxy that
  // mounts the service under a path.
  const redirect = (location: string, status: number) => new Response(null, { status, headers: { location } })

  return new Elysia({ name: 'dashboard' })
    .get('/', () => redirect('dashboard', 302), hide)
    .get(
      '/dashboard',
      ({ request }) => {
        // Elysia routes `/dashboard/` here too, where the page's relative URLs would resolve under it
        const url = new URL(request.url)
        if (url.pathname.endsWith('/')) return redirect(`../dashboard${url.search}`, 308)
        return serve(request, page)
      },
      hide,
    )
    .get('/dashboard.js', ({ request }) => serve(request, script), hide)
    .get('/dashboard.css', ({ request }) => serve(request, styles), hide)
}
