import { describe, expect, test } from 'bun:test'
import { createApp } from '../src/app.ts'
import { Slots, TokenBuckets } from '../src/routes/limits.ts'
import { BROWSER_UA, beaconRequest, pendingTotal, testApp } from './app.ts'
import { waitFor } from './wait.ts'

describe('TokenBuckets', () => {
  test('allows a burst, then one request per refill, per key', () => {
    let now = 1_000_000
    const b = new TokenBuckets({ perSecond: 2, burst: 3, now: () => now })
    expect([b.take('a'), b.take('a'), b.take('a')]).toEqual([0, 0, 0])
    expect(b.take('a')).toBe(1)
    expect(b.take('b')).toBe(0)
    now += 500 // one token back
    expect(b.take('a')).toBe(0)
    expect(b.take('a')).toBe(1)
    now += 10_000
    expect([b.take('a'), b.take('a'), b.take('a'), b.take('a')]).toEqual([0, 0, 0, 1])
  })

  test('disabled with perSecond 0; memory stays bounded', () => {
    expect(new TokenBuckets({ perSecond: 0, burst: 1 }).take('a')).toBe(0)
    let now = 0
    const b = new TokenBuckets({ perSecond: 1, burst: 5, maxTracked: 100, now: () => now })
    for (let i = 0; i < 1000; i++) b.take(`ip-${i}`)
    expect(b.size).toBeLessThanOrEqual(100)
    now += 60_000
    b.take('late') // a sweep forgets buckets that are full again
    expect(b.size).toBe(1)
  })

  test('Slots refuse beyond their cap with a 503 and are released when their scope ends, however it ends', async () => {
    const slots = new Slots(2)
    const gates = [Promise.withResolvers<void>(), Promise.withResolvers<void>()]
    const hold = async (gate: Promise<void>) => {
      using _slot = slots.take()
      await gate
    }
    const held = gates.map((g) => hold(g.promise))
    expect(slots.count).toBe(2)
    let refused: { status?: number; label?: string } = {}
    try {
      using _slot = slots.take()
    } catch (err) {
      refused = err as typeof refused
    }
    expect(refused).toMatchObject({ status: 503, label: 'overloaded' })
    expect(slots.count).toBe(2)
    gates[0]!.resolve()
    gates[1]!.reject(new Error('failed'))
    await held[0]
    expect(await held[1]!.catch((err: Error) => err.message)).toBe('failed')
    expect(slots.count).toBe(0)
    // a scope that throws before it awaits anything releases its slot too
    try {
      using _slot = slots.take()
      throw new Error('at once')
    } catch {}
    expect(slots.count).toBe(0)
    const unlimited = new Slots(0)
    const many = Array.from({ length: 10 }, () => unlimited.take())
    expect(unlimited.count).toBe(10)
    for (const slot of many) slot[Symbol.dispose]()
    expect(unlimited.count).toBe(0)
  })
})

describe('abuse limits on /e', () => {
  test('a client over its rate gets 429 with Retry-After, others are unaffected, and it recovers', async () => {
    const ctx = await testApp({ trustProxy: { hops: 1 }, rateLimit: { perSecond: 4, burst: 3 } })
    let now = Date.now()
    const deps = { ...ctx.deps, rateLimitClock: () => now }
    const app = createApp(deps)
    const send = (ip: string) => app.handle(beaconRequest({ event_type: 'page_view' }, { ip }))
    const statuses = []
    for (let i = 0; i < 5; i++) statuses.push((await send('198.51.100.1')).status)
    expect(statuses).toEqual([202, 202, 202, 429, 429])
    const limited = await send('198.51.100.1')
    expect(limited.headers.get('retry-after')).toBe('1')
    expect(await limited.json()).toEqual({ error: 'too many events from this address; slow down', retry_after: 1 })
    expect((await send('198.51.100.2')).status).toBe(202)
    now += 600 // two tokens back at 4 per second
    expect((await send('198.51.100.1')).status).toBe(202)
    expect(await pendingTotal(deps)).toBe(5)
    const rejected = await deps.metrics.rejected.get()
    expect(rejected.values.find((v) => v.labels.reason === 'rate_limited')?.value).toBe(3)
  })

  test('beyond the in-flight cap the server sheds load with 503', async () => {
    const { app, deps } = await testApp({ maxInFlight: 1 })
    // a request whose body never finishes holds the only slot for bodies being read
    let release!: () => void
    const held = new Promise<void>((r) => {
      release = r
    })
    let reading = false
    const body = new ReadableStream({
      async pull(controller) {
        reading = true
        controller.enqueue(new TextEncoder().encode('{"event_type":"page_view"}'))
        await held
        controller.close()
      },
    })
    const slow = app.handle(
      new Request('http://localhost/e', {
        method: 'POST',
        headers: { 'content-type': 'text/plain', 'user-agent': BROWSER_UA },
        body,
      }),
    )
    await waitFor(() => reading, { what: 'the slow request to hold the only slot' })
    const shed = await app.handle(beaconRequest({ event_type: 'page_view' }))
    expect(shed.status).toBe(503)
    expect(shed.headers.get('retry-after')).toBe('1')
    expect((await shed.json()).error).toBe('the server is overloaded; retry later')
    release()
    expect((await slow).status).toBe(202)
    expect((await app.handle(beaconRequest({ event_type: 'page_view' }))).status).toBe(202)
    expect(await pendingTotal(deps)).toBe(2)
  })
})
