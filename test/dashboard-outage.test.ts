/**
 * The outage watch (src/dashboard/outage.ts): what begins an outage and what ends it. A round of
 * reads mixes reads that need Postgres with reads Redis answers alone (today's visitors); an
 * answer of the second kind, whenever it comes, must not end an outage of Postgres, or the page
 * reads the whole view again, fails again, and loops.
 */
import { describe, expect, test } from 'bun:test'
import { ApiError } from '../src/dashboard/api.ts'
import { type Outage, watchOutage } from '../src/dashboard/outage.ts'

const down = (url: string, sentAt: number) => ({
  url,
  sentAt,
  error: new ApiError(503, 'Postgres does not answer', { service: 'postgres', retryAfterMs: 5_000 }),
})

function watched() {
  const changes: (Outage | undefined)[] = []
  let backs = 0
  const watch = watchOutage({
    probe: () => new Promise(() => {}),
    onChange: (o) => changes.push(o),
    onBack: () => backs++,
  })
  return { watch, changes, backs: () => backs }
}

describe('an outage', () => {
  test('begins at the first read refused for a service that is down', () => {
    const { watch } = watched()
    watch.saw({ url: '/analytics/top?a', sentAt: 100 })
    expect(watch.current()).toBeUndefined()
    watch.saw(down('/analytics/top?b', 200))
    expect(watch.current()).toMatchObject({ service: 'postgres', since: 200 })
    watch.stop()
  })

  test('is not ended by a read of the same round that Redis answers alone, sent with it or after', () => {
    const { watch, backs } = watched()
    watch.saw(down('/analytics/stats?metric=visits', 200))
    // sent in the same millisecond, answered after the refusal
    watch.saw({ url: '/analytics/stats?metric=visitors', sentAt: 200 })
    // sent later, never refused
    watch.saw({ url: '/analytics/stats?metric=visitors&today', sentAt: 900 })
    expect(watch.current()).toBeDefined()
    expect(backs()).toBe(0)
    watch.stop()
  })

  test('ends when a read it refused is answered, sent again after it began', () => {
    const { watch, backs, changes } = watched()
    watch.saw(down('/analytics/top?dimension=page', 200))
    watch.saw(down('/analytics/goals', 210))
    // an answer to the same read sent before the outage began (a stale request) proves nothing
    watch.saw({ url: '/analytics/goals', sentAt: 150 })
    expect(backs()).toBe(0)
    // the viewer's own read of one of them, answered: Postgres is back
    watch.saw({ url: '/analytics/goals', sentAt: 5_000 })
    expect(backs()).toBe(1)
    expect(watch.current()).toBeUndefined()
    expect(changes.at(-1)).toBeUndefined()
    // a later outage starts afresh: the reads refused in the last one are forgotten
    watch.saw(down('/analytics/stats?metric=visits', 6_000))
    watch.saw({ url: '/analytics/goals', sentAt: 6_500 })
    expect(backs()).toBe(1)
    expect(watch.current()).toMatchObject({ since: 6_000 })
    watch.stop()
  })
})
