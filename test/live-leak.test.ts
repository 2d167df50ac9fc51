import { heapStats } from 'bun:jsc'
import { describe, expect, test } from 'bun:test'
import { createApp } from '../src/app.ts'
import { EVENT_TYPES } from '../src/events/types.ts'
import { LiveHub } from '../src/live/hub.ts'
import { testApp } from './app.ts'
import { countsOf, openFeed, snapshotOf } from './live-feed.ts'
import { waitFor } from './wait.ts'

const CLIENTS = 200
const ROUNDS = 3

function measure() {
  Bun.gc(true)
  const heap = heapStats()
  return {
    heapBytes: heap.heapSize + heap.extraMemorySize,
    streams: heap.objectTypeCounts.ReadableStream ?? 0,
    rssBytes: process.memoryUsage().rss,
  }
}

/**
 * The app listens in this process, so the hub, Bun's in-flight request count and the heap can be
 * read directly; the clients still go through real sockets.
 */
async function listening(hub?: (t: Awaited<ReturnType<typeof testApp>>) => LiveHub) {
  const t = await testApp()
  if (hub) {
    t.deps.live = hub(t)
    t.app = createApp(t.deps)
  }
  t.app.listen({ port: 0, hostname: '127.0.0.1' })
  const server = t.app.server!
  return { ...t, server, url: `http://127.0.0.1:${server.port}` }
}

/** Every hour of every type changes on every read: about 2 KB per client per tick. */
function churningSource() {
  let n = 0
  return async () => {
    n++
    const fields: Record<string, string> = {}
    for (const type of EVENT_TYPES)
      for (let h = 0; h < 24; h++) fields[`${type}|${String(h).padStart(2, '0')}`] = String(n)
    return { fields, visitors: n, visitorsNow: n }
  }
}

describe('live feed lifecycles', () => {
  test(`${CLIENTS} clients connect and disconnect ${ROUNDS} times: handles and memory return`, async () => {
    const { app, deps, server, url } = await listening()
    try {
      const round = async () => {
        const feeds = await Promise.all(
          Array.from({ length: CLIENTS }, (_, i) => openFeed(url, { query: i % 2 ? '?types=page_view' : '' })),
        )
        for (const feed of feeds) snapshotOf(await feed.nextEvent())
        expect(deps.live.stats()).toMatchObject({ clients: CLIENTS, polling: true, heartbeating: true })
        expect(server.pendingRequests).toBeGreaterThanOrEqual(CLIENTS)
        await Promise.all(feeds.map((f) => f.close()))
        await waitFor(() => deps.live.size === 0 && server.pendingRequests === 0, {
          what: 'every client to be released',
        })
      }
      // the first round pays for one-off allocations (JIT, pools), so it is the baseline
      await round()
      const base = measure()
      for (let i = 0; i < ROUNDS; i++) await round()
      const after = measure()

      expect(deps.live.stats()).toMatchObject({ clients: 0, polling: false, heartbeating: false })
      // a leak would keep one stream per client per round: 600 here
      expect(after.streams - base.streams).toBeLessThan(CLIENTS / 4)
      expect(after.heapBytes - base.heapBytes).toBeLessThan(8 * 2 ** 20)
      expect(after.rssBytes - base.rssBytes).toBeLessThan(64 * 2 ** 20)

      // With nobody watching, Redis is not read any more. A watched hub with the same tick, started
      // now, reads a second time one tick from now: after any read the idle hub still had due.
      const polls = deps.live.stats().polls
      const watched = new LiveHub(churningSource(), { maxClients: 1 })
      watched.subscribe()
      await waitFor(() => watched.stats().polls >= 2, { what: 'a watched hub to read twice' })
      watched.close()
      expect(deps.live.stats().polls).toBe(polls)
    } finally {
      deps.live.close()
      await app.stop(true)
    }
  }, 60_000)

  test('a client that stops reading is disconnected and its socket let go; the others keep up', async () => {
    const { app, deps, server, url } = await listening(
      () => new LiveHub(churningSource(), { maxClients: 10, tickMs: 2, maxQueueBytes: 16 * 1024 }),
    )
    const stalled = await Bun.connect({
      hostname: '127.0.0.1',
      port: Number(server.port),
      socket: {
        open: (s) => s.pause(),
        data: () => {},
      },
    })
    try {
      stalled.write(
        `GET /analytics/live HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${deps.config.adminToken}\r\n\r\n`,
      )
      const reader = await openFeed(url)
      snapshotOf(await reader.nextEvent())
      // the reader keeps reading throughout (or it would become a slow client too)
      let last = 0
      const readUntil = async (done: () => boolean) => {
        while (!done()) {
          const counts = countsOf(await reader.nextEvent(2000))
          expect(counts.visitors).toBeGreaterThan(last)
          last = counts.visitors!
        }
      }
      // the stalled socket fills up (kernel and Bun buffers first), then its queue, then it is dropped
      await readUntil(() => deps.live.stats().dropped === 1)
      expect(deps.live.size).toBe(1)
      const deadline = Date.now() + 8000
      await readUntil(() => server.pendingRequests === 1 || Date.now() > deadline)
      expect(server.pendingRequests).toBe(1)
      // the reader was never held back
      const before = last
      await readUntil(() => last > before)
      await reader.close()
    } finally {
      stalled.terminate()
      deps.live.close()
      await app.stop(true)
    }
  }, 30_000)

  test('shutdown: closing the hub ends open streams, so the HTTP server can stop gracefully', async () => {
    const { app, deps, server, url } = await listening()
    const feeds = await Promise.all(Array.from({ length: 20 }, () => openFeed(url)))
    for (const feed of feeds) snapshotOf(await feed.nextEvent())
    deps.live.close()
    // a graceful stop waits for every open response: without the close above it never returns
    await app.stop()
    for (const feed of feeds) {
      await expect(feed.nextEvent()).rejects.toThrow('the stream ended')
    }
    expect(server.pendingRequests).toBe(0)
    expect(deps.live.stats()).toMatchObject({ clients: 0, polling: false, heartbeating: false })
  })
})
