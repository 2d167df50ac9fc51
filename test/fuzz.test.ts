import { describe, expect, test } from 'bun:test'
import { EVENT_TYPES } from '../src/events/types.ts'
import { beaconRequest, ingestRequest, pendingTotal, testApp } from './app.ts'
import { prng } from './prng.ts'

const SEED = Number(process.env.FUZZ_SEED ?? 20261128)

function generator(seed: number) {
  const r = prng(seed)
  const strings = ['', 'x', '/a/b?c=d#e', 'ü🙂', 'a'.repeat(129), 'a'.repeat(3000), '\u0000', '(other)', '|', '{tag}']
  const scalar = () => r.pick<unknown>([null, true, false, 0, -1, 1.5, 1e308, r.pick(strings), [], {}])
  const event = (browserOnly: boolean): Record<string, unknown> => {
    const e: Record<string, unknown> = {
      event_type:
        r.next() < 0.9 ? r.pick(browserOnly ? ['page_view', 'feature_used', 'asset_shared'] : EVENT_TYPES) : scalar(),
    }
    if (r.next() < 0.5) e.user_id = r.next() < 0.8 ? `u${r.int(20)}` : scalar()
    if (r.next() < 0.6) {
      const p: Record<string, unknown> = {}
      if (r.next() < 0.6) p.path = r.next() < 0.8 ? `/p${r.int(10)}/` : scalar()
      if (r.next() < 0.5) p.feature_name = r.next() < 0.8 ? `f${r.int(10)}` : scalar()
      if (r.next() < 0.2) p.extra = scalar()
      e.properties = r.next() < 0.9 ? p : scalar()
    }
    if (r.next() < 0.3) e.timestamp = r.next() < 0.7 ? Date.now() - r.int(40) * 86_400_000 : scalar()
    if (r.next() < 0.05) e[r.pick(['eventType', 'ts', 'props'])] = 1
    return e
  }
  const mutate = (text: string): string => {
    switch (r.int(6)) {
      case 0:
        return text.slice(0, r.int(text.length + 1))
      case 1: {
        const i = r.int(text.length)
        return text.slice(0, i) + r.pick(['"', '{', ']', ',', '\\', '\u0000', 'null']) + text.slice(i + 1)
      }
      case 2:
        return text.replace(/"[a-z_]+"/, '"zz"')
      case 3:
        return `[${text},${text}]`
      case 4:
        return '['.repeat(r.int(5000)) + text
      default:
        return text
    }
  }
  const body = (browser: boolean): string => {
    const n = r.pick([1, 1, 2, 5, 50, 51, 1000, 1001].filter((k) => !browser || k <= 60))
    const events = Array.from({ length: n }, () => event(browser))
    const json = browser && n === 1 && r.next() < 0.5 ? JSON.stringify(events[0]) : JSON.stringify(events)
    return r.next() < 0.4 ? mutate(json) : json
  }
  return { body, r }
}

/** How many events a body that was accepted carried. */
function eventCount(text: string): number {
  const v = JSON.parse(text)
  return Array.isArray(v) ? v.length : 1
}

describe('fuzz', () => {
  test(`1,200 random and mutated bodies (seed ${SEED}): no 5xx, exactly the valid ones counted`, async () => {
    const { app, deps } = await testApp()
    const { body, r } = generator(SEED)
    let expected = 0
    const statuses = new Map<number, number>()
    for (let i = 0; i < 1200; i++) {
      const browser = i % 2 === 0
      const text = body(browser)
      const contentType = r.next() < 0.9 ? (browser ? 'text/plain' : 'application/json') : 'application/xml'
      const request = browser
        ? beaconRequest(text, { raw: true, headers: { 'content-type': contentType } })
        : ingestRequest(text, { raw: true, headers: { 'content-type': contentType } })
      const res = await app.handle(request)
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
      if (res.status >= 500) throw new Error(`${res.status} for ${text.slice(0, 200)}: ${await res.text()}`)
      if (res.status === 202) expected += eventCount(text)
      else {
        const reason = await res.json()
        expect(typeof reason.error).toBe('string')
      }
    }
    // both outcomes were exercised in quantity
    expect(statuses.get(202) ?? 0).toBeGreaterThan(100)
    expect([...statuses.keys()].filter((s) => s >= 400).length).toBeGreaterThanOrEqual(4)
    expect(await pendingTotal(deps)).toBe(expected)
  }, 120_000)
})
