import { describe, expect, test } from 'bun:test'
import { canonicalTimeZone, FORMATTER_CACHE_SIZE, formatterCount, localDay } from '../src/time.ts'
import { prng } from './prng.ts'

/** `name` with each letter's case drawn at random. */
function spelling(name: string, r: ReturnType<typeof prng>): string {
  return [...name].map((c) => (r.next() < 0.5 ? c.toLowerCase() : c.toUpperCase())).join('')
}

describe('time zones', () => {
  test('any spelling resolves to the canonical name', () => {
    expect(canonicalTimeZone('europe/berlin')).toBe('Europe/Berlin')
    expect(canonicalTimeZone('EUROPE/BERLIN')).toBe('Europe/Berlin')
    expect(canonicalTimeZone('utc')).toBe('UTC')
    expect(canonicalTimeZone('Mars/Olympus')).toBeUndefined()
    expect(canonicalTimeZone('')).toBeUndefined()
    expect(localDay(Date.parse('2026-11-28T23:30:00Z'), 'Europe/Berlin')).toBe('2026-11-29')
  })

  test('6,000 spellings of one zone add one formatter; every zone known leaves the cache bounded', () => {
    const r = prng(7)
    canonicalTimeZone('UTC')
    const before = formatterCount()
    const spellings = new Set<string>()
    while (spellings.size < 6000) spellings.add(spelling('Australia/Lord_Howe', r))
    const names = new Set([...spellings].map(canonicalTimeZone))
    expect(formatterCount()).toBeLessThanOrEqual(Math.min(before + 1, FORMATTER_CACHE_SIZE))
    expect([...names]).toEqual(['Australia/Lord_Howe'])

    for (const tz of Intl.supportedValuesOf('timeZone')) canonicalTimeZone(spelling(tz, r))
    expect(formatterCount()).toBe(FORMATTER_CACHE_SIZE)
  })
})
