import { describe, expect, test } from 'bun:test'
import { capPrefix, decodeField, encodeField, type FieldKind, type FieldParts } from '../src/counters/fields.ts'

/** A small seeded generator, so a failure names a reproducible case. */
function random(seed: number) {
  let s = seed >>> 0
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!
  // values are what ingest lets through: any printable text, '|' and non-ASCII included
  const alphabet = ['a', 'Z', '0', '|', '/', ' ', '-', '?', '#', 'é', '字', '😀', '(other)']
  const value = () => Array.from({ length: 1 + Math.floor(next() * 12) }, () => pick(alphabet)).join('')
  const day = () => `20${10 + Math.floor(next() * 80)}-${pick(['01', '06', '12'])}-${pick(['01', '15', '31'])}`
  const hh = () => String(Math.floor(next() * 24)).padStart(2, '0')
  const type = () => pick(['page_view', 'feature_used', 'generation_completed', 'user_signup'])
  return { value, day, hh, type }
}

const SEED = Number(process.env.FUZZ_SEED ?? 20261129)

describe('counter field codec', () => {
  test('every kind decodes what it encodes, for random parts (values may hold "|")', () => {
    const r = random(SEED)
    const cases: { [K in FieldKind]: () => FieldParts[K] } = {
      live: () => ({ type: r.type(), hour: r.hh() }),
      ld: () => ({ type: r.type() }),
      lh: () => ({ type: r.type(), hour: r.hh() }),
      d: () => ({ day: r.day(), type: r.type() }),
      h: () => ({ quarter: `${r.day()}T${r.hh()}:${['00', '15', '30', '45'][Number(r.hh()) % 4]}`, type: r.type() }),
      u: () => ({ day: r.day(), type: r.type(), value: r.value() }),
      f: () => ({ day: r.day(), type: r.type(), value: r.value() }),
      p: () => ({ day: r.day(), value: r.value() }),
      x: () => ({ day: r.day(), type: r.type(), dimension: `prop:${r.type()}`, value: r.value() }),
      v: () => ({ day: r.day() }),
    }
    for (const kind of Object.keys(cases) as FieldKind[]) {
      for (let i = 0; i < 2000; i++) {
        const parts = cases[kind]()
        const field = encodeField(kind, parts as never)
        expect({ kind, field, parts: decodeField(kind, field) }).toEqual({ kind, field, parts })
      }
    }
  })

  test('a capped kind is its prefix plus the value (what the Lua script appends)', () => {
    const r = random(SEED + 1)
    for (let i = 0; i < 500; i++) {
      const day = r.day()
      const type = r.type()
      const value = r.value()
      expect(capPrefix('u', { day, type }) + value).toBe(encodeField('u', { day, type, value }))
      expect(capPrefix('f', { day, type }) + value).toBe(encodeField('f', { day, type, value }))
      expect(capPrefix('p', { day }) + value).toBe(encodeField('p', { day, value }))
      const dimension = 'utm_campaign'
      expect(capPrefix('x', { day, type, dimension }) + value).toBe(encodeField('x', { day, type, dimension, value }))
    }
  })

  test('the layouts the flush and the live feed rely on', () => {
    expect(encodeField('u', { day: '2026-11-28', type: 'feature_used', value: 'a|b' })).toBe(
      '2026-11-28|feature_used|a|b',
    )
    expect(encodeField('h', { quarter: '2026-11-28T09:45', type: 'page_view' })).toBe('2026-11-28T09:45|page_view')
    // a field of an hour, written before quarters, is read as the hour's first quarter
    expect(decodeField('h', '2026-11-28T09|page_view')).toEqual({ quarter: '2026-11-28T09:00', type: 'page_view' })
    expect(encodeField('live', { type: 'page_view', hour: '09' })).toBe('page_view|09')
    expect(decodeField('p', '2026-11-28|/a|b')).toEqual({ day: '2026-11-28', value: '/a|b' })
  })
})
