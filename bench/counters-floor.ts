/**
 * The least any endpoint pays here that stores what ours stores, before answering: a bare
 * Bun.serve that reads the POST body and the two headers a visitor is told apart by (User-Agent
 * and X-Forwarded-For), looks up the counters that request adds (worked out once at start, for
 * each request of the load, by the service's own functions: the same keys and fields), merges
 * them with those of every request that arrives while Redis is busy, stores them and the visitor
 * hashes in one script call per batch (the service's own script, with no cap to decide: as after
 * a warm-up), and answers 202 once its batch is stored.
 *
 * No validation, no User-Agent or country lookup, no visitor hashing, no CORS: strictly less work
 * than `POST /e` for the same counters. What it cannot avoid is storing them: about 2.3 distinct
 * counters a request under the browser-like load, each a HINCRBY in the script. So its requests/s
 * bound what any implementation of these counters, with the same guarantee, reaches here.
 */
import { APPLY_BATCH } from '../src/counters/apply.lua.ts'
import { batchScript } from '../src/counters/batcher.ts'
import { createCalendar } from '../src/counters/calendar.ts'
import { countEvent, countRecentVisitors, countVisitors } from '../src/counters/increments.ts'
import { createKeys } from '../src/counters/keys.ts'
import { MergedOps } from '../src/counters/merge.ts'
import { Names } from '../src/counters/names.ts'
import { openRedis } from '../src/db/redis.ts'
import { runScript } from '../src/db/script.ts'
import { clientInfo } from '../src/events/client.ts'
import type { CountedEvent } from '../src/events/types.ts'
import { validateEvents } from '../src/events/validate.ts'
import { pageHost, visitOf } from '../src/events/visit.ts'
import { openCountryLookup } from '../src/geo/country.ts'
import { silentLogger } from '../src/log.ts'
import { FloorCommit, serveOnE } from './lib.ts'
import { beaconMix } from './mix.ts'

const redis = await openRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', silentLogger)
const keys = createKeys(process.env.REDIS_PREFIX ?? 'analytics')
const shard = keys.shards[0]!
const calendar = createCalendar('UTC')
const names = new Names()
const country = openCountryLookup(undefined)

/**
 * Each request of the load, by body, User-Agent and address: its events as ours counts them (their
 * time is the start's: a run lasts seconds, and the day and hour are today's).
 */
const known = new Map<string, Map<string, Map<string, CountedEvent[]>>>()
for (const r of beaconMix()) {
  const userAgent = r.headers['User-Agent']!
  const address = r.headers['X-Forwarded-For']!
  const { events } = validateEvents(JSON.parse(r.body), { source: 'browser', now: Date.now() })
  const client = clientInfo(userAgent)
  // the floor counts no visits (they are decided in the group commit's script); the lookup is kept
  visitOf(events, {
    host: pageHost(new Headers(r.headers)),
    visitor: { browser: client.browser, os: client.os, device: client.device, country: country(address) },
  })
  let byAgent = known.get(r.body)
  if (!byAgent) {
    byAgent = new Map()
    known.set(r.body, byAgent)
  }
  let byAddress = byAgent.get(userAgent)
  if (!byAddress) {
    byAddress = new Map()
    byAgent.set(userAgent, byAddress)
  }
  byAddress.set(address, events)
}

/** A batch: the counters of its events, and its visitors (all of this instant's day and minute). */
const commit = new FloorCommit(
  () => ({ merged: new MergedOps(), visitors: new Set<string>(), at: Date.now() }),
  ({ merged, visitors, at }) => {
    countVisitors(merged, shard, keys, calendar.day(at), visitors)
    countRecentVisitors(merged, keys, Math.floor(at / 60_000), visitors)
    const script = batchScript(merged, { ttl: 604_800, dimCap: 1000 })
    return runScript(redis, APPLY_BATCH, script.keys, script.args)
  },
)

const ctx = { keys: shard, calendar, names }

serveOnE(
  async (request) => {
    const body = await request.text()
    const userAgent = request.headers.get('user-agent') ?? ''
    const address = request.headers.get('x-forwarded-for') ?? ''
    const events = known.get(body)?.get(userAgent)?.get(address)
    if (!events) return new Response(null, { status: 400 })
    const batch = commit.join()
    for (const event of events) countEvent(event, ctx, 1, batch.state.merged)
    // the visitor: a 64-bit hash of the address and User-Agent, as ours (without a salt)
    batch.state.visitors.add(Bun.hash.wyhash(`${address}\n${userAgent}`).toString(16))
    try {
      await batch.done
    } catch {
      return new Response(null, { status: 503 })
    }
    return new Response(null, { status: 202 })
  },
  () => redis.close(),
)
