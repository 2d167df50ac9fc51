/**
 * What visits add to Redis: the same page views stored twice through the real group commit,
 * once as plain page views and once each as a visit with a realistic spread of values (sources,
 * campaigns, entry pages, browsers, countries), and the difference in memory of every key of the
 * two prefixes, per visit and per counter field.
 */
import { GroupCommit } from '../src/counters/batcher.ts'
import { createKeys, type Keys } from '../src/counters/keys.ts'
import { openRedis, type Redis } from '../src/db/redis.ts'
import type { CountedEvent, Visit } from '../src/events/types.ts'
import { silentLogger } from '../src/log.ts'
import type { BenchServices } from './lib.ts'

const CAPS = { users: 100_000, features: 1000, paths: 10_000, dimensions: 1000 }

/** Bytes held by every key of `keys`' prefix (counters, cap sets, HyperLogLogs). */
async function bytesOf(redis: Redis, keys: Keys): Promise<{ bytes: number; fields: number }> {
  let bytes = 0
  let fields = 0
  const tag = keys.tag.slice(1, -1)
  for await (const batch of redis.scanIterator({ MATCH: `{${tag}}:*`, COUNT: 1000 })) {
    for (const key of batch) {
      bytes += Number(await redis.sendCommand(['MEMORY', 'USAGE', key, 'SAMPLES', '0']))
      if ((await redis.type(key)) === 'hash') fields += await redis.hLen(key)
    }
  }
  return { bytes, fields }
}

/**
 * Redis bytes per pending event log row: `events` page views from a third as many visitors
 * (three or four views a visit, the visit's values on its first row only), the pending list's
 * MEMORY USAGE over its length; and the visitors' current-visit keys, per visitor.
 */
async function pendingRowBytes(redis: Redis, prefix: string, views: { event: CountedEvent; visit?: Visit }[]) {
  const keys = createKeys(prefix)
  const batcher = new GroupCommit(redis, keys, { ttlSeconds: 604_800 })
  const visitors = Math.ceil(views.length / 3.3)
  await Promise.all(
    views.map(({ event, visit }, i) =>
      batcher.add({
        events: [event],
        caps: CAPS,
        visitor: (i % visitors).toString(16).padStart(16, '0'),
        visit,
      }),
    ),
  )
  const list = keys.shards[0]!.pending('r')
  const rows = await redis.lLen(list)
  const bytes = Number(await redis.sendCommand(['MEMORY', 'USAGE', list, 'SAMPLES', '0']))
  let sessionBytes = 0
  for await (const batch of redis.scanIterator({ MATCH: `${keys.tag}:visit:*`, COUNT: 1000 })) {
    for (const key of batch) sessionBytes += Number(await redis.sendCommand(['MEMORY', 'USAGE', key, 'SAMPLES', '0']))
  }
  return { rows, visitors, bytesPerRow: bytes / rows, bytesPerVisitor: sessionBytes / visitors }
}

export async function visitsMemoryScenario(services: BenchServices, visits = 10_000) {
  const redis = await openRedis(services.redisUrl, silentLogger)
  try {
    const at = Date.now()
    const pick = (n: number, i: number, salt: number) => (i * 7919 + salt * 104_729) % n
    // one visitor a view, each view a visit of its own
    const views = (withVisits: boolean): { event: CountedEvent; visit?: Visit }[] =>
      Array.from({ length: visits }, (_, i) => {
        const path = `/page/${pick(500, i, 1)}`
        const event: CountedEvent = { type: 'page_view', at, path }
        if (!withVisits) return { event }
        return {
          event,
          visit: {
            source: i % 5 === 0 ? '(direct)' : `site-${pick(300, i, 2)}.example`,
            utm_source: i % 4 === 0 ? `newsletter-${pick(20, i, 3)}` : undefined,
            utm_campaign: i % 4 === 0 ? `campaign-${pick(50, i, 4)}` : undefined,
            entry_page: path,
            browser: ['Chrome', 'Safari', 'Firefox', 'Edge', 'Samsung Internet'][pick(5, i, 5)]!,
            os: ['Windows', 'macOS', 'iOS', 'Android', 'Linux', 'ChromeOS'][pick(6, i, 6)]!,
            device: ['desktop', 'mobile', 'tablet'][pick(3, i, 7)]!,
            country: `C${pick(120, i, 8)}`,
            hostname: 'shop.example.com',
          },
        }
      })
    const store = async (withVisits: boolean) => {
      const keys = createKeys(services.newPrefix())
      const batcher = new GroupCommit(redis, keys, { ttlSeconds: 604_800 })
      const writes = views(withVisits).map(({ event, visit }, i) =>
        batcher.add({ events: [event], caps: CAPS, visitor: visit && i.toString(16).padStart(16, '0'), visit }),
      )
      await Promise.all(writes)
      return bytesOf(redis, keys)
    }
    const plain = await store(false)
    const withVisits = await store(true)
    const added = withVisits.bytes - plain.bytes
    const fields = withVisits.fields - plain.fields
    return {
      visits,
      bytesAdded: added,
      bytesPerVisit: added / visits,
      fieldsAdded: fields,
      bytesPerField: added / fields,
      pendingRows: await pendingRowBytes(redis, services.newPrefix(), views(true)),
    }
  } finally {
    await redis.close()
  }
}
