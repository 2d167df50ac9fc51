import { describe, expect, test } from 'bun:test'
import { dataRefusal } from '../src/flush/flusher.ts'
import {
  CHUNK_BYTES,
  CHUNK_ROWS,
  chunks,
  LogRowRefused,
  rowBound,
  rowValues,
  visitorNumber,
} from '../src/log/columns.ts'
import { logRow, widestRow } from './log-rows.ts'

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

  test("the widest row without properties is the comment's 7,634 bytes: 1,047 of them per chunk", () => {
    const values = rowValues(
      widestRow({
        props: null,
        visit: {
          ...widestRow().visit!,
          browser: 'b'.repeat(40),
          os: 'o'.repeat(40),
          device: 'd'.repeat(40),
          country: '(unknown)',
        },
        at: -62135596800000,
        visitId: '-9223372036854775808',
        site: -32768,
        began: false,
        hostname: 'h'.repeat(253),
        // the longest signed 64-bit integer: -9223372036854775808
        visitor: '8000000000000000',
      }),
    )
    // source is a host name at most 253 long; the helper's is 100
    values[10] = 's'.repeat(253)
    values[19] = 'v'.repeat(253)
    expect(rowBound(values)).toBe(7634)
    expect(Math.floor(CHUNK_BYTES / 7634)).toBe(1047)
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
    const none = rowValues(logRow({ visitId: null, visitor: null, visit: null }))
    expect(none.slice(1, 3)).toEqual([null, null])
    expect(none.slice(10, 20)).toEqual(Array(10).fill(null))
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
