/**
 * The beacon at the edges of HTTP, on the listening server: bodies that trickle in, clients that
 * go away mid-body, pipelined requests, refused origins. Raw sockets, so the test controls every
 * byte and every pause.
 */
import { describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { Socket } from 'bun'
import { decodeField } from '../src/counters/fields.ts'
import { createKeys } from '../src/counters/keys.ts'
import { BROWSER_UA } from './app.ts'
import { startServerProcess } from './server-process.ts'
import { testContext, testPrefix } from './services.ts'
import { waitFor } from './wait.ts'

setDefaultTimeout(30_000)

const ADMIN = { authorization: 'Bearer test-admin-token-0123456789' }
const INGEST = { authorization: 'Bearer test-ingest-token-0123456789' }
const EVENT = JSON.stringify({ event_type: 'page_view', properties: { path: '/edge' } })

/** A raw HTTP/1.1 client socket that records what it receives and when it closes. */
async function rawSocket(port: number) {
  let received = ''
  let closed = false
  const socket: Socket<undefined> = await Bun.connect({
    hostname: '127.0.0.1',
    port,
    socket: {
      data(_s, chunk) {
        received += new TextDecoder().decode(chunk)
      },
      close() {
        closed = true
      },
      error() {
        closed = true
      },
    },
  })
  return {
    socket,
    received: () => received,
    closed: () => closed,
    write: (text: string) => socket.write(text),
  }
}

const head = (length: number, extra = '') =>
  `POST /e HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nUser-Agent: ${BROWSER_UA}\r\n${extra}` +
  `Content-Length: ${length}\r\n\r\n`

async function pendingPageViews(prefix: string): Promise<number> {
  const { redis } = await testContext()
  const counts = await redis.hGetAll(createKeys(prefix).shards[0]!.pending('d'))
  return Object.entries(counts)
    .filter(([field]) => decodeField('d', field).type === 'page_view')
    .reduce((a, [, n]) => a + Number(n), 0)
}

async function beacon(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/e`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', 'user-agent': BROWSER_UA, ...headers },
    body: EVENT,
  })
}

describe('the beacon at the edges of HTTP', () => {
  test('slow bodies get their sockets closed at the deadline; they never starve server batches or later beacons', async () => {
    const prefix = testPrefix()
    const server = await startServerProcess({ REDIS_PREFIX: prefix, MAX_IN_FLIGHT: '5', BODY_TIMEOUT_MS: '1000' })
    const slow: Awaited<ReturnType<typeof rawSocket>>[] = []
    const drips: Timer[] = []
    try {
      // five sockets, each declaring 1000 bytes and sending one every 300 ms: never idle
      for (let i = 0; i < 5; i++) {
        const s = await rawSocket(server.port)
        s.write(`${head(1000)}x`)
        drips.push(setInterval(() => s.closed() || s.write('x'), 300))
        slow.push(s)
      }
      // a server batch is served meanwhile: it has budgets of its own
      const batch = await fetch(`${server.url}/analytics/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...INGEST },
        body: JSON.stringify([{ event_type: 'user_login' }]),
      })
      expect(batch.status).toBe(202)
      // every slow body has its connection closed by the socket's timer: 1 s, which Bun's 4 s
      // timer ticks round up
      await waitFor(() => slow.every((s) => s.closed()), { what: 'slow sockets closed', timeoutMs: 9000 })
      for (const s of slow) expect(s.received()).toBe('')
      // and the budget is free again
      expect((await beacon(server.url)).status).toBe(202)
      expect(await pendingPageViews(prefix)).toBe(1)
      const metrics = await (await fetch(`${server.url}/metrics`, { headers: ADMIN })).text()
      expect(metrics).toContain('analytics_events_rejected_total{reason="timeout"} 5')
    } finally {
      for (const d of drips) clearInterval(d)
      for (const s of slow) s.socket.end()
      await server.stop()
    }
  })

  test('a client that goes away mid-body is counted as aborted, not as a server error', async () => {
    const prefix = testPrefix()
    const server = await startServerProcess({ REDIS_PREFIX: prefix })
    try {
      const s = await rawSocket(server.port)
      s.write(`${head(EVENT.length + 10)}${EVENT.slice(0, 10)}`)
      // the server has the headers and part of the body; then the client is gone
      await waitFor(
        async () => (await fetch(`${server.url}/metrics`, { headers: ADMIN }).then((r) => r.text())).length > 0,
        { what: 'metrics' },
      )
      s.socket.terminate()
      await waitFor(
        async () =>
          (await fetch(`${server.url}/metrics`, { headers: ADMIN }).then((r) => r.text())).includes(
            'analytics_events_rejected_total{reason="aborted"} 1',
          ),
        { what: 'the abort counted', timeoutMs: 5000 },
      )
      const metrics = await (await fetch(`${server.url}/metrics`, { headers: ADMIN })).text()
      expect(metrics).not.toContain('reason="too_large"')
      expect(server.logs()).not.toContain('unhandled error')
      expect(server.logs()).not.toContain('"level":"error"')
      expect(await pendingPageViews(prefix)).toBe(0)
    } finally {
      await server.stop()
    }
  })

  test('two pipelined beacons: exactly the answered ones are counted (a retry never counts twice)', async () => {
    const prefix = testPrefix()
    const server = await startServerProcess({ REDIS_PREFIX: prefix })
    try {
      for (let round = 1; round <= 3; round++) {
        const before = await pendingPageViews(prefix)
        const s = await rawSocket(server.port)
        s.write(`${head(EVENT.length)}${EVENT}${head(EVENT.length)}${EVENT}`)
        const answers = () => s.received().split('HTTP/1.1 202').length - 1
        await waitFor(() => s.closed() || answers() === 2, { what: 'both answers or a closed connection' })
        const answered = answers()
        s.socket.end()
        // a beacon on a connection of its own, answered once stored: the batches before it are done
        expect((await beacon(server.url)).status).toBe(202)
        const counted = (await pendingPageViews(prefix)) - before - 1
        expect({ round, counted }).toEqual({ round, counted: answered })
      }
      expect(server.logs()).not.toContain('unhandled error')
    } finally {
      await server.stop()
    }
  })

  test('ALLOWED_ORIGINS: a refused origin is never echoed, by POST, GET or a preflight', async () => {
    const server = await startServerProcess({ ALLOWED_ORIGINS: 'https://a.example' })
    try {
      const evil = { origin: 'https://evil.example' }
      const post = await beacon(server.url, evil)
      expect(post.status).toBe(403)
      expect(post.headers.get('access-control-allow-origin')).toBeNull()
      expect(post.headers.get('x-content-type-options')).toBe('nosniff')
      const pixel = await fetch(`${server.url}/e?path=/x`, { headers: { ...evil, 'user-agent': BROWSER_UA } })
      expect(pixel.status).toBe(403)
      expect(pixel.headers.get('access-control-allow-origin')).toBeNull()
      const preflight = await fetch(`${server.url}/e`, {
        method: 'OPTIONS',
        headers: { ...evil, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      })
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull()
      expect(preflight.status).toBe(403)
      // the listed origin gets the header on all three
      const ok = { origin: 'https://a.example' }
      expect((await beacon(server.url, ok)).headers.get('access-control-allow-origin')).toBe('https://a.example')
      const allowedPreflight = await fetch(`${server.url}/e`, {
        method: 'OPTIONS',
        headers: { ...ok, 'access-control-request-method': 'POST' },
      })
      expect(allowedPreflight.status).toBe(204)
      expect(allowedPreflight.headers.get('access-control-allow-origin')).toBe('https://a.example')
      expect(allowedPreflight.headers.get('access-control-allow-methods')).toContain('POST')
    } finally {
      await server.stop()
    }
  })
})
