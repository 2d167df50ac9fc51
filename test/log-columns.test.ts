import { describe, expect, test } from 'bun:test'
import { EVENT_TYPES, type EventType, VISIT_DIMENSIONS } from '../src/events/types.ts'
import { dataRefusal } from '../src/flush/flusher.ts'
import {
  CHUNK_BYTES,
  CHUNK_ROWS,
  chunks as chunksOf,
  LogRowRefused,
  logStrings,
  rowBound,
  type ValueIds,
  rowValues as valuesOf,
  visitChunks,
  visitorNumber,
  visitRows,
  WITHOUT_VISITOR,
} from '../src/log/columns.ts'
import type { LogRow } from '../src/log/row.ts'
import { logRow, visitOf, widestRow } from './log-rows.ts'

/** Ids as the dictionary would give them: each string its own number, the largest an int can be. */
function idsOf(rows: readonly LogRow[]): ValueIds {
  const ids = new Map<string, number>()
  for (const s of logStrings(rows)) ids.set(s, 2_147_483_647 - ids.size)
  return ids
}
const chunks = (rows: readonly LogRow[]) => chunksOf(rows, idsOf(rows))
const rowValues = (row: LogRow) => valuesOf(row, idsOf([row]))

/** One value as an element of an array literal, the way Postgres reads it back: quoted, `"` and `\` escaped. */
const element = (v: string | null): string => (v === null ? 'NULL' : `"${v.replace(/[\\"]/g, '\\$&')}"`)

describe('event log columns', () => {
  test('a chunk of the widest rows stays under CHUNK_BYTES, and is cut only when the next row would not fit', () => {
    // values of quotes: each takes 4 bytes once escaped as JSON and then as an array element
    const props = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`"${i}\\`, '"'.repeat(1000)]))
    const rows = Array.from({ length: 120 }, (_, i) =>
      widestRow({ at: Date.parse('2026-12-06T00:00:00Z') + i, ...(i % 2 ? { props } : {}) }),
    )
    const parts = [...chunks(rows)]
    expect(parts.length).toBeGreaterThan(1)
    expect(parts.reduce((n, p) => n + p.rows, 0)).toBe(rows.length)
    let from = 0
    for (const part of parts) {
      // each parameter goes with a 4-byte length
      expect(part.params.reduce((sum, p) => sum + 4 + Buffer.byteLength(p), 0)).toBeLessThanOrEqual(CHUNK_BYTES)
      const bounds = rows.slice(from, from + part.rows).map((r) => rowBound(rowValues(r)))
      const next = rows[from + part.rows]
      if (next) expect(bounds.reduce((a, b) => a + b, 0) + rowBound(rowValues(next))).toBeGreaterThan(CHUNK_BYTES)
      from += part.rows
    }
  })

  test("a row's bound holds what its values take as array elements, whatever the characters", () => {
    const odd = ['"', '\\', 'é', '€', '😀', '\ud800', ',', '{}', 'NULL', ' ', '']
    const rows = [
      widestRow(),
      ...odd.map((c) => logRow({ path: c.repeat(512), userId: c, props: { [c]: c.repeat(1000) } })),
    ]
    for (const row of rows) {
      const values = rowValues(row)
      const bytes = values.reduce((sum, v) => sum + Buffer.byteLength(element(v)) + 1, 0)
      expect(bytes).toBeLessThanOrEqual(rowBound(values))
    }
  })

  test("the widest row without properties is the comment's 695 bytes: a chunk ends at CHUNK_ROWS before its bytes", () => {
    const values = rowValues(
      widestRow({
        props: null,
        at: -62135596800000,
        visitId: '-9223372036854775808',
        site: -32768,
        // the longest signed 64-bit integer: -9223372036854775808
        visitor: '8000000000000000',
      }),
    )
    expect(rowBound(values)).toBe(695)
    expect(CHUNK_ROWS * 695).toBeLessThan(CHUNK_BYTES)
  })

  test("a visit's row per visit and UTC day of its rows, with when it began and what its rows add up to", () => {
    const day = Date.parse('2026-12-06T23:59:00Z')
    const rows = [
      logRow({ at: day, visitId: '1', began: true, type: 'page_view' }),
      logRow({ at: day + 1, visitId: '1', type: 'feature_used' }),
      logRow({ at: day + 120_000, visitId: '1', type: 'page_view' }), // the next day
      logRow({ at: day, visitId: '2', visit: null, type: 'page_view' }), // its values not known: a row without
      logRow({ at: day, visitId: null, visitor: null, visit: null }), // no visit: adds nothing
      logRow({ at: day + 5, visitId: '3', visit: visitOf({ utm_source: 'news' }), type: 'user_login' }),
      logRow({ at: day + 3, visitId: '3', visit: null, type: 'page_view' }),
      // a row whose visit's values were dropped past the log's bound: no visitor, so no type
      logRow({ at: day + 4, visitId: '3', visit: null, visitor: null, type: 'asset_shared' }),
    ]
    expect(visitRows(rows).map((v) => [v.visitId, v.day, v.beganAt, v.events, v.views, v.first, v.last])).toEqual([
      ['1', '2026-12-06', day, 2, 1, day, day + 1],
      ['1', '2026-12-07', null, 1, 1, day + 120_000, day + 120_000],
      ['2', '2026-12-06', null, 1, 1, day, day],
      ['3', '2026-12-06', null, 3, 1, day + 3, day + 5],
    ])
    const ids = idsOf(rows)
    const [chunk] = [...visitChunks(visitRows(rows), ids)]
    expect(chunk!.rows).toBe(4)
    // visit id, began_at, day, then the values' ids (NULL for none), site, events, views, first,
    // last, visitor, types (bit t: EVENT_TYPES[t])
    expect(chunk!.params[1]).toBe(`{${day},NULL,NULL,NULL}`)
    expect(chunk!.params[2]).toBe('{2026-12-06,2026-12-07,2026-12-06,2026-12-06}')
    const utm = chunk!.params[3 + VISIT_DIMENSIONS.indexOf('utm_source')]
    expect(utm).toBe(`{NULL,NULL,NULL,${ids.get('news')}}`)
    const source = chunk!.params[3 + VISIT_DIMENSIONS.indexOf('source')]
    expect(source).toBe(`{${ids.get('Google')},${ids.get('Google')},NULL,${ids.get('Google')}}`)
    const n = VISIT_DIMENSIONS.length
    const visitor = visitorNumber('0123456789abcdef')
    const bit = (t: EventType) => 1 << EVENT_TYPES.indexOf(t)
    expect(chunk!.params.slice(4 + n)).toEqual([
      '{2,1,1,3}',
      '{1,1,1,1}',
      `{${day},${day + 120_000},${day},${day + 3}}`,
      `{${day + 1},${day + 120_000},${day},${day + 5}}`,
      `{${visitor},${visitor},${visitor},${visitor}}`,
      `{${bit('page_view') | bit('feature_used')},${bit('page_view')},${bit('page_view')},${bit('page_view') | bit('user_login') | WITHOUT_VISITOR}}`,
    ])
  })

  test('ordinary rows go CHUNK_ROWS to a chunk, in order', () => {
    const rows = Array.from({ length: 2 * CHUNK_ROWS + 1 }, (_, i) => logRow({ at: 1_700_000_000_000 + i }))
    const parts = [...chunks(rows)]
    expect(parts.map((p) => p.rows)).toEqual([CHUNK_ROWS, CHUNK_ROWS, 1])
    // the first parameter is the epoch ms, written bare
    expect(parts.flatMap((p) => p.params[0]!.slice(1, -1).split(','))).toEqual(rows.map((r) => String(r.at)))
    expect([...chunks([])]).toEqual([])
  })

  test('values: the visitor as a signed 64-bit integer, no properties as NULL', () => {
    expect(visitorNumber('ffffffffffffffff')).toBe('-1')
    expect(visitorNumber('8000000000000000')).toBe('-9223372036854775808')
    expect(visitorNumber('7fffffffffffffff')).toBe('9223372036854775807')
    expect(visitorNumber('0000000000000001')).toBe('1')
    expect(rowValues(logRow({ props: {} })).at(-1)).toBeNull()
    expect(rowValues(logRow({ props: { a: 'b' } })).at(-1)).toBe('{"a":"b"}')
    const none = rowValues(logRow({ visitId: null, visitor: null, visit: null, path: null, hostname: null }))
    expect(none.slice(1, 5)).toEqual([null, null, null, null])
    // the strings as their ids, the type as its code
    const row = logRow({ type: 'page_view', feature: 'export' })
    const ids = idsOf([row])
    expect(valuesOf(row, ids).slice(3, 7)).toEqual([
      String(ids.get('/pricing')),
      String(ids.get('shop.example.com')),
      String(ids.get('export')),
      '8',
    ])
    expect(() => valuesOf(row, new Map())).toThrow(/no id/)
  })

  test('a value Postgres could not hold is refused for its data, so the flush sets its batch aside', () => {
    const refusal = (row: Parameters<typeof rowValues>[0]) => {
      try {
        rowValues(row)
      } catch (err) {
        expect(err).toBeInstanceOf(LogRowRefused)
        return dataRefusal(err)
      }
      throw new Error('expected a refusal')
    }
    expect(refusal(logRow({ visitor: 'not-hex-at-all!!' }))).toBe('22P02')
    expect(refusal(logRow({ visitor: 'abc' }))).toBe('22P02')
    expect(refusal(logRow({ at: Number.NaN }))).toBe('22008')
    expect(refusal(logRow({ at: 1.5 }))).toBe('22008')
    expect(refusal(logRow({ at: Date.parse('+010000-01-01T00:00:00Z') }))).toBe('22008')
  })
})
