import { describe, expect, test } from 'bun:test'
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEV_TOKENS, devToken } from '../src/dev-token.ts'
import { type DevProcess, startDev } from './dev-process.ts'
import { startServerProcess } from './server-process.ts'
import { waitFor } from './wait.ts'

const ADMIN_TOKEN_FILE = DEV_TOKENS.admin.file
const INGEST_TOKEN_FILE = DEV_TOKENS.ingest.file
const mode = async (path: string) => (await stat(path)).mode & 0o777
const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } })

const CRAWLER_NOTE = 'beacon not counted: its User-Agent is a crawler'

/** A page view as curl sends it: answered 202 like any beacon, and not counted. */
const curlBeacon = (base: string) =>
  fetch(`${base}/e`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', 'user-agent': 'curl/8.5.0' },
    body: JSON.stringify({ event_type: 'page_view', properties: { path: '/' } }),
  })

/**
 * Sends the banner's `send events` line as curl would: its header, body and URL, read back from
 * the line, so that the test fails if the line stops being one that works.
 */
async function sendBannerExample(banner: string): Promise<Response> {
  const line = /^ {2}send events {2}(.*)$/m.exec(banner)?.[1] ?? ''
  const parts = /^curl -H "authorization: Bearer (\S+)" -H 'content-type: application\/json' -d '([^']+)' (\S+)$/.exec(
    line,
  )
  if (!parts) throw new Error(`the banner has no curl line to paste: ${banner}`)
  const [, token, body, url] = parts
  return fetch(url ?? '', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body,
  })
}

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'edge-analytics-dev-'))
}

/** The attributes of every `<script src>` of an HTML page, by src. */
async function scripts(html: string): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>()
  const rewriter = new HTMLRewriter().on('script[src]', {
    element(el) {
      found.set(
        el.getAttribute('src') ?? '',
        [...el.attributes].map(([name]) => name),
      )
    },
  })
  await rewriter.transform(new Response(html)).text()
  return found
}

describe('bun run dev for a newcomer', () => {
  test('without ADMIN_TOKEN: makes one, keeps it 0600 in DATA_DIR, prints a live link with it that admin reads take, and reuses it on the next start', async () => {
    const parent = await tempDir()
    const dataDir = join(parent, 'data')
    const file = join(dataDir, ADMIN_TOKEN_FILE)
    let dev: DevProcess | undefined
    try {
      dev = await startDev({ DATA_DIR: dataDir })
      const token = (await readFile(file, 'utf8')).trim()
      expect(token).toMatch(/^[A-Za-z0-9_-]{43,}$/)
      expect(await mode(file)).toBe(0o600)
      expect(await mode(dataDir)).toBe(0o700)

      expect(dev.linkToken).toBe(token)
      for (const shown of [
        `${dev.url}/t.js`,
        `POST ${dev.url}/e`,
        `${dev.url}/dashboard#token=${encodeURIComponent(token)}`,
        `${dev.url}/live#token=${encodeURIComponent(token)}`,
        `${dev.url}/demo`,
        `${dev.url}/readyz`,
        `kept in ${file}`,
      ]) {
        expect(dev.banner).toContain(shown)
      }

      expect((await fetch(`${dev.url}/analytics/stats`, bearer(token))).status).toBe(200)
      expect((await fetch(`${dev.url}/analytics/stats`, bearer(`${token}x`))).status).toBe(401)
      const live = await fetch(`${dev.url}/analytics/live`, bearer(token))
      expect(live.status).toBe(200)
      await live.body?.cancel()

      expect(await dev.stop()).toBe(0)
      expect(dev.logs()).toContain('"msg":"stopped"')
      expect(dev.logs()).not.toContain(token)

      dev = await startDev({ DATA_DIR: dataDir })
      expect(dev.linkToken).toBe(token)
      expect((await fetch(`${dev.url}/analytics/stats`, bearer(token))).status).toBe(200)
      expect((await readdir(dataDir)).sort()).toEqual([ADMIN_TOKEN_FILE, INGEST_TOKEN_FILE])
    } finally {
      await dev?.stop()
      await rm(parent, { recursive: true, force: true })
    }
  }, 60_000)

  test('without INGEST_TOKEN: makes one like the admin token, prints it with a curl line that POST /analytics/events takes, and reuses it', async () => {
    const parent = await tempDir()
    const dataDir = join(parent, 'data')
    const file = join(dataDir, INGEST_TOKEN_FILE)
    let dev: DevProcess | undefined
    try {
      dev = await startDev({ DATA_DIR: dataDir })
      const token = (await readFile(file, 'utf8')).trim()
      expect(token).toMatch(/^[A-Za-z0-9_-]{43,}$/)
      expect(token).not.toBe(dev.linkToken)
      expect(await mode(file)).toBe(0o600)
      expect(dev.banner).toContain(`  ingest token ${token}\n`)
      expect(dev.banner).toContain(`kept in ${file}; set INGEST_TOKEN to use another`)

      const sent = await sendBannerExample(dev.banner)
      expect(sent.status).toBe(202)
      expect(await sent.json()).toEqual({ accepted: 1 })
      const stats = await fetch(`${dev.url}/analytics/stats?event_type=user_signup`, bearer(dev.linkToken ?? ''))
      expect((await stats.json()).total).toBe(1)
      // the admin token is not the ingest token (ingest answers it 403), nor the other way round
      const wrong = await fetch(`${dev.url}/analytics/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${dev.linkToken}`, 'content-type': 'application/json' },
        body: '[{"event_type":"user_signup","user_id":"user-2"}]',
      })
      expect(wrong.status).toBe(403)
      expect((await fetch(`${dev.url}/analytics/stats`, bearer(token))).status).toBe(401)

      expect(await dev.stop()).toBe(0)
      expect(dev.logs()).not.toContain(token)
      dev = await startDev({ DATA_DIR: dataDir })
      expect(dev.banner).toContain(`  ingest token ${token}\n`)
      expect((await sendBannerExample(dev.banner)).status).toBe(202)
    } finally {
      await dev?.stop()
      await rm(parent, { recursive: true, force: true })
    }
  }, 60_000)

  test('with INGEST_TOKEN: that token is the one, nothing is made, and the curl line reads it from the shell', async () => {
    const dataDir = await tempDir()
    const token = 'my-dev-ingest-token-0123456789'
    const dev = await startDev({ DATA_DIR: dataDir, INGEST_TOKEN: token })
    try {
      expect(dev.banner).not.toContain(token)
      expect(dev.banner).toContain('  ingest token from INGEST_TOKEN (not shown)\n')
      expect(dev.banner).toContain(`curl -H "authorization: Bearer $INGEST_TOKEN" `)
      expect(await readdir(dataDir)).toEqual([ADMIN_TOKEN_FILE])
      const sent = await sendBannerExample(dev.banner.replace('$INGEST_TOKEN', token))
      expect(sent.status).toBe(202)
    } finally {
      await dev.stop()
      await rm(dataDir, { recursive: true, force: true })
    }
  }, 30_000)

  test('a kept ingest token equal to ADMIN_TOKEN stops the start with one line', async () => {
    const dataDir = await tempDir()
    try {
      const { token } = await devToken(dataDir, 'ingest')
      const failure = await startDev({ DATA_DIR: dataDir, ADMIN_TOKEN: token }).then(
        async (dev) => {
          await dev.stop()
          return 'it started'
        },
        (err: Error) => err.message,
      )
      expect(failure).toBe(
        'bun run dev exited with 1: edge-analytics: invalid configuration: INGEST_TOKEN: must differ from ADMIN_TOKEN\n',
      )
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  }, 30_000)

  test('/demo is the demo page, loading the same-origin tracker in data-allow-local mode', async () => {
    const dataDir = await tempDir()
    const dev = await startDev({ DATA_DIR: dataDir })
    try {
      const res = await fetch(`${dev.url}/demo`)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toStartWith('text/html')
      const html = await res.text()
      const attributes = (await scripts(html)).get('/t.js')
      expect(attributes).toContain('data-allow-local')
      expect(attributes).not.toContain('data-api')
      expect(html).toContain('href="/live"')
      expect((await fetch(`${dev.url}/t.js`)).status).toBe(200)

      // a newcomer trying the beacon with curl is told why nothing counts, once per User-Agent
      expect((await curlBeacon(dev.url)).status).toBe(202)
      expect((await curlBeacon(dev.url)).status).toBe(202)
      await waitFor(() => dev.logs().includes(CRAWLER_NOTE), { what: 'the crawler note in the log' })
      expect(dev.logs().split(CRAWLER_NOTE).length - 1).toBe(1)
      expect(dev.logs()).toContain('"userAgent":"curl/8.5.0"')
    } finally {
      await dev.stop()
      await rm(dataDir, { recursive: true, force: true })
    }
  }, 30_000)

  test('with ADMIN_TOKEN: that token is the one, and nothing is made or printed', async () => {
    const dataDir = await tempDir()
    const token = 'my-dev-admin-token-0123456789'
    const dev = await startDev({ DATA_DIR: dataDir, ADMIN_TOKEN: token })
    try {
      expect(dev.linkToken).toBeUndefined()
      expect(dev.banner).not.toContain(token)
      expect(dev.banner).toContain(`${dev.url}/live`)
      expect(dev.banner).toContain(`${dev.url}/dashboard`)
      expect(await readdir(dataDir)).toEqual([INGEST_TOKEN_FILE])
      expect((await fetch(`${dev.url}/analytics/stats`, bearer(token))).status).toBe(200)
    } finally {
      await dev.stop()
      await rm(dataDir, { recursive: true, force: true })
    }
  }, 30_000)

  test('bun run start without ADMIN_TOKEN or INGEST_TOKEN refuses their routes and has no /demo, even with kept dev tokens', async () => {
    const dataDir = await tempDir()
    const { token } = await devToken(dataDir, 'admin')
    const ingest = await devToken(dataDir, 'ingest')
    const server = await startServerProcess({ ADMIN_TOKEN: '', INGEST_TOKEN: '', DATA_DIR: dataDir })
    try {
      const stats = await fetch(`${server.url}/analytics/stats`, bearer(token))
      expect(stats.status).toBe(401)
      expect(await stats.json()).toEqual({
        error: 'this route is disabled until ADMIN_TOKEN or VIEWER_TOKEN is configured',
      })
      expect((await fetch(`${server.url}/analytics/live?token=${token}`)).status).toBe(401)
      expect((await fetch(`${server.url}/metrics`, bearer(token))).status).toBe(401)
      expect((await fetch(`${server.url}/demo`)).status).toBe(404)
      const events = await fetch(`${server.url}/analytics/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ingest.token}`, 'content-type': 'application/json' },
        body: '[{"event_type":"user_signup","user_id":"user-1"}]',
      })
      expect(events.status).toBe(401)
      expect((await readdir(dataDir)).sort()).toEqual([ADMIN_TOKEN_FILE, INGEST_TOKEN_FILE])
      // production logs no line per crawler beacon
      expect((await curlBeacon(server.url)).status).toBe(202)
      await server.stop()
      expect(server.logs()).toContain('"msg":"listening"')
      expect(server.logs()).not.toContain(CRAWLER_NOTE)
    } finally {
      await server.stop()
      await rm(dataDir, { recursive: true, force: true })
    }
  }, 30_000)
})
