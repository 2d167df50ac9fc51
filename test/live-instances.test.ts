import { describe, expect, setDefaultTimeout, test } from 'bun:test'
import { countsOf, type Feed, openFeed, sendBeacons, snapshotOf } from './live-feed.ts'
import { startServerProcess } from './server-process.ts'
import { freshDatabaseUrl, testPrefix } from './services.ts'

// this file starts processes: bun's 5 s default is too short on a busy machine
setDefaultTimeout(30_000)

describe('live feed across instances', () => {
  test('events sent to A appear on a stream from B, and the other way round', async () => {
    const shared = { REDIS_PREFIX: testPrefix(), DATABASE_URL: await freshDatabaseUrl() }
    const [a, b] = await Promise.all([startServerProcess(shared), startServerProcess(shared)])
    const feeds: Feed[] = []
    try {
      const fromA = await openFeed(a.url, { query: '?types=page_view' })
      const fromB = await openFeed(b.url, { query: '?types=page_view' })
      feeds.push(fromA, fromB)
      const startA = snapshotOf(await fromA.nextEvent()).types.page_view!.total
      const startB = snapshotOf(await fromB.nextEvent()).types.page_view!.total
      expect(startA).toBe(startB)

      const sentToA = await sendBeacons(a.url, 'page_view', 5)
      const onB = await fromB.nextEvent(2500)
      expect(countsOf(onB).types.page_view!.total).toBe(startB + 5)
      expect(onB.at - sentToA).toBeLessThan(2000)

      await sendBeacons(b.url, 'page_view', 2)
      let seenOnA = startA
      while (seenOnA < startA + 7) seenOnA = countsOf(await fromA.nextEvent(2500)).types.page_view!.total
      expect(seenOnA).toBe(startA + 7)
    } finally {
      for (const f of feeds) await f.close()
      await Promise.all([a.stop('SIGKILL'), b.stop('SIGKILL')])
    }
  })
})
