/**
 * A flush batch that Postgres refuses for its data is set aside, never in front of the others
 * (invariant I7): it stays in Redis and in every read, is named by /readyz, /metrics and the log,
 * and an admin can list it, look at it, retry it, or export and remove it. Poisoned values are put
 * into Redis by hand, as a version before the limits on counted values could have left them.
 */
import { describe, expect, test } from 'bun:test'
import { dayOf } from '../src/counters/keys.ts'
import type { HeldBatch, HeldExport } from '../src/flush/flusher.ts'
import { beaconRequest, testApp } from './app.ts'
import { prng } from './prng.ts'

const ADMIN = { authorization: 'Bearer test-admin-token-0123456789' }

type Ctx = Awaited<ReturnType<typeof testApp>>

const call = async ({ app }: Ctx, method: string, path: string) => {
  const res = await app.handle(new Request(`http://localhost${path}`, { method, headers: ADMIN }))
  return { status: res.status, body: await res.json() }
}
const pageViews = async (ctx: Ctx, n: number) => {
  for (let i = 0; i < n; i++) {
    const res = await ctx.app.handle(beaconRequest({ event_type: 'page_view', properties: { path: '/p' } }))
    expect(res.status).toBe(202)
  }
}
/** Today's page views as `GET /analytics/stats` reads them: Postgres, snapshots and pending. */
const statsTotal = async (ctx: Ctx) => (await call(ctx, 'GET', '/analytics/stats?event_type=page_view')).body.total
const storedTotal = async ({ db }: Ctx) =>
  Number(
    (await db.pool.query(`SELECT coalesce(sum(count), 0) AS n FROM analytics_daily WHERE event_type = 'page_view'`))
      .rows[0].n,
  )
/** Random text that compresses badly: Postgres cannot fit it into an index entry. */
const random = (n: number) => {
  const r = prng(7)
  return Array.from({ length: n }, () => String.fromCharCode(97 + r.int(26))).join('')
}

describe('held flush batches', () => {
  test('a batch Postgres refuses is set aside; later batches flush; reads stay exact; export removes it', async () => {
    const ctx = await testApp()
    const { deps } = ctx
    const shard = deps.keys.shards[0]!
    const today = dayOf(Date.now())
    await pageViews(ctx, 3)
    // a hostname no index entry can hold, as counted before values were bounded
    await deps.redis.hSet(shard.pending('x'), `${today}|visit|hostname|${random(4000)}.example`, '1')

    // the flush succeeds: the batch is held, not retried in front of everything forever
    expect(await call(ctx, 'POST', '/analytics/flush')).toEqual({ status: 200, body: { flushed: 0 } })
    const { body: list } = await call(ctx, 'GET', '/analytics/flush/held')
    expect(list.held).toHaveLength(1)
    const held: HeldBatch = list.held[0]
    // the day's page views, their quarter-hour, page and visitor day, and the poisoned value; the
    // visitor's visit (its day, quarter-hour and 7 dimensions); and the three views' log rows
    expect(held).toMatchObject({ code: '54000', counters: 14, events: 3 })
    expect(held.error).toContain('index row size')
    expect(await statsTotal(ctx)).toBe(3)

    // later events flush past it, and reads count both exactly
    await pageViews(ctx, 2)
    expect((await call(ctx, 'POST', '/analytics/flush')).status).toBe(200)
    expect(await storedTotal(ctx)).toBe(2)
    expect(await statsTotal(ctx)).toBe(5)

    // it is visible to operators
    const ready = await ctx.app.handle(new Request('http://localhost/readyz'))
    expect(await ready.json()).toMatchObject({ status: 'ready', held_batches: 1 })
    const metrics = await (await ctx.app.handle(new Request('http://localhost/metrics', { headers: ADMIN }))).text()
    expect(metrics).toMatch(/^analytics_flush_held_batches 1$/m)
    expect(metrics).toMatch(/^analytics_flush_held_total 1$/m)
    expect(metrics).toMatch(/^analytics_flush_waiting_batches 0$/m)

    // a look changes nothing
    const look = await call(ctx, 'GET', `/analytics/flush/held/${held.batch_id}`)
    expect(look.status).toBe(200)
    expect((look.body as HeldExport).hashes.d).toEqual({ [`${today}|page_view`]: '3', [`${today}|visit`]: '1' })
    expect((look.body as HeldExport).rows).toHaveLength(3)
    expect(Object.keys((look.body as HeldExport).hashes.x ?? {}).some((f) => f.includes('.example'))).toBe(true)

    // a retry meets the same refusal and holds it again
    const retry = await call(ctx, 'POST', `/analytics/flush/held/${held.batch_id}/retry`)
    expect(retry).toMatchObject({ status: 200, body: { batch_id: held.batch_id, written: false, code: '54000' } })
    expect(await statsTotal(ctx)).toBe(5)

    // export and remove: the answer holds its counts, which leave Redis and every read
    const taken = await call(ctx, 'DELETE', `/analytics/flush/held/${held.batch_id}`)
    expect(taken.status).toBe(200)
    expect((taken.body as HeldExport).hashes.d).toEqual({ [`${today}|page_view`]: '3', [`${today}|visit`]: '1' })
    expect((taken.body as HeldExport).rows).toHaveLength(3)
    expect(await call(ctx, 'GET', '/analytics/flush/held')).toEqual({ status: 200, body: { held: [] } })
    expect(await statsTotal(ctx)).toBe(2)
    expect(await deps.redis.zCard(shard.snapshots)).toBe(0)
    expect(await deps.redis.keys(`${shard.tag}:snap:*`)).toEqual([])
    expect((await call(ctx, 'DELETE', `/analytics/flush/held/${held.batch_id}`)).status).toBe(404)
  })

  test('a held batch fixed by hand is written by its retry, exactly once', async () => {
    const ctx = await testApp()
    const { deps } = ctx
    const shard = deps.keys.shards[0]!
    await pageViews(ctx, 4)
    // a day Postgres cannot read (22008): the whole batch is refused
    await deps.redis.hSet(shard.pending('d'), '2026-13-45|page_view', '1')
    expect((await call(ctx, 'POST', '/analytics/flush')).status).toBe(200)
    const [held] = (await call(ctx, 'GET', '/analytics/flush/held')).body.held as HeldBatch[]
    expect(held!.code.slice(0, 2)).toBe('22')
    expect(await storedTotal(ctx)).toBe(0)

    await deps.redis.hDel(shard.snapshot(held!.batch_id, 'd'), '2026-13-45|page_view')
    const retry = await call(ctx, 'POST', `/analytics/flush/held/${held!.batch_id}/retry`)
    expect(retry).toEqual({ status: 200, body: { batch_id: held!.batch_id, written: true } })
    expect(await storedTotal(ctx)).toBe(4)
    expect(await statsTotal(ctx)).toBe(4)
    expect((await call(ctx, 'POST', '/analytics/flush')).status).toBe(200)
    expect(await storedTotal(ctx)).toBe(4)
    expect((await call(ctx, 'GET', '/analytics/flush/held')).body.held).toEqual([])
  })

  test('held routes: admin only, a clear 404 and 422', async () => {
    const ctx = await testApp()
    const anon = await ctx.app.handle(new Request('http://localhost/analytics/flush/held'))
    expect(anon.status).toBe(401)
    expect((await call(ctx, 'GET', '/analytics/flush/held/nope')).status).toBe(404)
    const bad = await call(ctx, 'POST', `/analytics/flush/held/${'%3Cx%3E'}/retry`)
    expect(bad.status).toBe(422)
    expect(bad.body.error).toContain('batch')
  })
})
