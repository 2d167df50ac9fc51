/**
 * The dashboard's follower: a round of reads per change the live feed reports, at most one every
 * gap, never while reads are out.
 */
import { expect, test } from 'bun:test'
import { followChanges, todayKey } from '../src/dashboard/follow.ts'
import { waitFor } from './wait.ts'

test('changes in a burst make one round; the next waits out the gap and the reads still out', async () => {
  const rounds: number[] = []
  let release: (() => void) | undefined
  let busy = false
  const follower = followChanges({
    gapMs: 200,
    idle: () => (busy ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve()),
    reread: () => rounds.push(Date.now()),
  })
  for (let i = 0; i < 5; i++) follower.changed()
  await waitFor(() => rounds.length === 1, { what: 'the first round' })

  // reads are out: the round waits for them, however long after the gap
  busy = true
  follower.changed()
  follower.changed()
  await waitFor(() => release !== undefined, { what: 'the round to wait for the reads' })
  expect(rounds).toHaveLength(1)
  busy = false
  release!()
  await waitFor(() => rounds.length === 2, { what: 'the second round' })
  expect(rounds[1]! - rounds[0]!).toBeGreaterThanOrEqual(195)

  follower.stop()
  follower.changed()
  expect(rounds).toHaveLength(2)
})

test('visitors now falling is no change; a count, a visitor or a new day is', () => {
  const base = { day: '2026-11-28', visitors: 3, visitorsNow: 2, totals: { page_view: 5 } }
  expect(todayKey({ ...base, visitorsNow: 1 })).toBe(todayKey(base))
  expect(todayKey({ ...base, totals: { page_view: 5, feature_used: 0 } })).toBe(todayKey(base))
  expect(todayKey({ ...base, totals: { page_view: 6 } })).not.toBe(todayKey(base))
  expect(todayKey({ ...base, visitors: 4 })).not.toBe(todayKey(base))
  expect(todayKey({ ...base, day: '2026-11-29' })).not.toBe(todayKey(base))
})
