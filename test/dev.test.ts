import { describe, expect, test } from 'bun:test'
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ADMIN_TOKEN_FILE, devAdminToken } from '../src/admin-token.ts'
import { type DevProcess, startDev } from './dev-process.ts'
import { startServerProcess } from './server-process.ts'
import { waitFor } from './wait.ts'

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
      expect(await readdir(dataDir)).toEqual([ADMIN_TOKEN_FILE])
    } finally {
      await dev?.stop()
      await rm(parent, { recursive: true, force: true })
    }
  }, 60_000)

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
      expect(await readdir(dataDir)).toEqual([])
      expect((await fetch(`${dev.url}/analytics/stats`, bearer(token))).status).toBe(200)
    } finally {
      await dev.stop()
      await rm(dataDir, { recursive: true, force: true })
    }
  }, 30_000)

  test('bun run start without ADMIN_TOKEN refuses admin routes and has no /demo, even with a kept dev token', async () => {
    const dataDir = await tempDir()
    const { token } = await devAdminToken(dataDir)
    const server = await startServerProcess({ ADMIN_TOKEN: '', DATA_DIR: dataDir })
    try {
      const stats = await fetch(`${server.url}/analytics/stats`, bearer(token))
      expect(stats.status).toBe(401)
      expect(await stats.json()).toEqual({
        error: 'this route is disabled until ADMIN_TOKEN or VIEWER_TOKEN is configured',
      })
      expect((await fetch(`${server.url}/analytics/live?token=${token}`)).status).toBe(401)
      expect((await fetch(`${server.url}/metrics`, bearer(token))).status).toBe(401)
      expect((await fetch(`${server.url}/demo`)).status).toBe(404)
      expect(await readdir(dataDir)).toEqual([ADMIN_TOKEN_FILE])
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
