/**
 * `contains` folds case the same in Postgres and in JavaScript: for every character up to
 * U+1FFFF, for strings where context matters (a final sigma, a dotted capital I), and for the
 * test as a whole (LIKE with its wildcards escaped against `includes`).
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import type { Pool } from '@neondatabase/serverless'
import { sigma } from '../src/filters/fold.ts'
import { type CaseFold, filterSql, matches, probeCaseFold } from '../src/filters/index.ts'
import type { LogRow } from '../src/log/row.ts'
import { LogValues } from '../src/log/values.ts'
import { SqlParams } from '../src/read/sql.ts'
import { prng } from './prng.ts'
import { testContext } from './services.ts'

let pool: Pool
const folds: [string, CaseFold][] = []

beforeAll(async () => {
  const { db } = await testContext()
  pool = db.pool
  folds.push(
    ['ICU', await probeCaseFold(pool, { collation: 'icu' })],
    ['default collation', await probeCaseFold(pool, { collation: 'default' })],
  )
})

/** Every character from U+0001 to U+1FFFF but the surrogates and control characters. */
const CHARACTERS: string[] = []
for (let cp = 0x20; cp <= 0x1ffff; cp++) {
  if ((cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x7f && cp < 0xa0)) continue
  CHARACTERS.push(String.fromCodePoint(cp))
}

const CONTEXT = [
  'ΟΔΟΣ',
  'ΟΔΟΣ ΑΣ Σ',
  'Σ',
  'ςσΣ',
  'İSTANBUL',
  'İ',
  'Straße STRASSE',
  'ǅǄǆ',
  'ＡＢＣ',
  '𐐀𐐨',
  'ΆΈΉ',
  'ÅÄÖ',
  'ԱԲԳ',
]

async function sqlFolds(fold: CaseFold, strings: string[]): Promise<string[]> {
  const r = await pool.query(
    `SELECT array_agg(${fold.lowerSql('s')} ORDER BY i) AS f FROM unnest($1::text[]) WITH ORDINALITY AS u(s, i)`,
    [strings],
  )
  return (r.rows[0] as { f: string[] }).f.map(sigma)
}

describe('case folding', () => {
  test('agrees with the database on every character and on strings where context matters', async () => {
    const r = prng(20261206)
    const pool1 = [...CONTEXT.join(''), 'a', 'Z', ' ']
    const random = Array.from({ length: 2000 }, () =>
      Array.from({ length: 1 + r.int(12) }, () => (r.next() < 0.7 ? r.pick(pool1) : r.pick(CHARACTERS))).join(''),
    )
    for (const [name, fold] of folds) {
      const strings = [...CHARACTERS, ...CONTEXT, ...random]
      const theirs = await sqlFolds(fold, strings)
      const differ = strings.filter((s, i) => fold.fold(s) !== theirs[i])
      expect({ name, differ: differ.slice(0, 10) }).toEqual({ name, differ: [] })
    }
    // the final sigma is written as any other
    expect(folds[0]![1].fold('ΟΔΟΣ')).toBe('οδοσ')
    // the default collation here lowers Unicode, so it is the one chosen
    expect((await probeCaseFold(pool)).lowerSql('x')).toBe('lower((x) COLLATE "default")')
  })

  test('contains holds in SQL exactly where it holds in JavaScript', async () => {
    const r = prng(7)
    const hay = [...CONTEXT, 'a%b', 'a_b', 'a\\b', '50% OFF', 'snake_case', '/Pricing', 'ıi', 'I']
    const needles = [
      '%',
      '_',
      '\\',
      'σ',
      'ς',
      'Σ',
      'ος',
      'Σ.*',
      '(?i)Σ',
      '[σ]',
      'οσ Α',
      '***:σ',
      'i',
      'İ',
      'ss',
      'ß',
      'a%',
      '%b',
      'A_B',
      'OFF',
      'ı',
      'ǆ',
      '𐐨',
    ]
    const values = [...hay, ...Array.from({ length: 300 }, () => r.pick(hay) + r.pick(needles) + r.pick(hay))]
    const rows = values.map((path) => ({ path }) as LogRow)
    // the log keeps a path as its id in the dictionary, where contains is tested
    const ids = await new LogValues().ids(pool, values)
    const pathIds = values.map((v) => ids.get(v)!)
    for (const [name, fold] of folds) {
      for (const op of ['contains', 'contains_not'] as const) {
        for (const needle of needles) {
          const f = { op, dimension: 'page' as const, values: [needle, r.pick(needles)] }
          const p = new SqlParams(0)
          const where = filterSql(f, p, fold)
          const q = await pool.query(
            `SELECT coalesce(array_agg(i ORDER BY i), '{}') AS hits FROM unnest(${p.add(pathIds)}::int[]) WITH ORDINALITY AS u(path, i) WHERE ${where}`,
            p.values,
          )
          const sql = (q.rows[0] as { hits: string[] }).hits.map(Number)
          const keep = matches([f], fold)
          const js = rows.flatMap((row, i) => (keep(row) ? [i + 1] : []))
          expect({ name, f, hits: sql }).toEqual({ name, f, hits: js })
        }
      }
    }
  })
})
