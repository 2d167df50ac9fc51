/**
 * Case folding for `contains`, the same in JavaScript and in Postgres: a pending row and a
 * stored row with the same value must both match or both not.
 *
 * Postgres lowers with `lower()`: under the database's own collation when that lowers more than
 * ASCII (a libc UTF-8 locale; about 2.5 times cheaper per row than ICU), else under ICU's root
 * collation (`und-x-icu`). Each lowers every character on its own but for one rule: ICU (and
 * JavaScript's `toLowerCase`) turn a final capital sigma into `ς`, another into `σ`. So the
 * JavaScript fold writes every `ς` as `σ`, and the SQL test lets a `σ` of the needle match
 * either (where.ts); "ΟΔΟΣ" then holds "οσ" on both sides.
 *
 * What is left is how each side lowers each character: the database's locale or ICU version may
 * know cased letters Bun's ICU does not (or the other way round). {@link probeCaseFold} asks the
 * database how it lowers every character up to U+1FFFF, once, and the fold takes the database's
 * answer for each it disagrees on, so the two agree on every string.
 *
 * @example
 * const fold = await probeCaseFold(pool)
 * fold.fold('ΟΔΟΣ')            // 'οδοσ'
 * fold.lowerSql('path')        // lower((path) COLLATE "default")
 */

export interface CaseFold {
  /** `s` lowered as the database lowers it, every `ς` written `σ` */
  fold(s: string): string
  /** a SQL expression lowering the text expression `expr` (it may hold `ς` where fold has `σ`) */
  lowerSql(expr: string): string
}

/** Anything with a `query` like the Neon pool's. */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }>
}

const ICU = 'und-x-icu'
/** Past the BMP, cased letters sit only in plane 1 (Unicode 17). */
const LAST_PROBED = 0x1ffff

/** Writes each final sigma as the other: what `fold` gives never holds `ς`. */
export const sigma = (s: string): string => (s.includes('ς') ? s.replaceAll('ς', 'σ') : s)

/**
 * A fold: JavaScript's lowercasing, except for the characters of `overrides`, which fold to the
 * text given (the database's lowercase of them). `collation`: `default` (the database's) or a
 * collation's name.
 */
export function caseFold(collation: string, overrides: ReadonlyMap<string, string> = new Map()): CaseFold {
  const lowerSql = (expr: string) => `lower((${expr}) COLLATE "${collation}")`
  if (overrides.size === 0) return { fold: (s) => sigma(s.toLowerCase()), lowerSql }
  const escaped = [...overrides.keys()].map((c) => `\\u{${c.codePointAt(0)!.toString(16)}}`).join('')
  const special = new RegExp(`[${escaped}]`, 'u')
  const specials = new RegExp(`[${escaped}]`, 'gu')
  return {
    fold(s) {
      if (!special.test(s)) return sigma(s.toLowerCase())
      // each character lowers on its own (sigma aside): the runs between overrides lower as usual
      let out = ''
      let last = 0
      for (const m of s.matchAll(specials)) {
        out += s.slice(last, m.index).toLowerCase() + overrides.get(m[0])!
        last = m.index + m[0].length
      }
      return sigma(out + s.slice(last).toLowerCase())
    },
    lowerSql,
  }
}

/** The fold before any database is asked: ICU's, exact where Bun's Unicode and the database's agree. */
export const ICU_FOLD: CaseFold = caseFold(ICU)

/** Letters of four scripts in capitals, and what a Unicode-aware `lower()` makes of them. */
const UNICODE_PROBE = ['ÄΣЖǄ', 'äσжǆ']

/**
 * Asks the database how it lowers each character from U+0080 to U+1FFFF (one statement, about
 * 1,400 rows back) and returns the fold that agrees with it on every one; ASCII lowers the same
 * everywhere. Memoize it per pool: the answer changes only with the database's locale or ICU.
 * `collation` forces one (`default` or `icu`) instead of the cheapest that lowers Unicode.
 */
export async function probeCaseFold(
  pool: Queryable,
  options: { collation?: 'default' | 'icu' } = {},
): Promise<CaseFold> {
  let collation = options.collation === 'icu' ? ICU : 'default'
  if (options.collation === undefined) {
    const r = await pool.query(
      `SELECT lower($1::text COLLATE "default") = $2 AS unicode, EXISTS (SELECT 1 FROM pg_collation WHERE collname = $3) AS icu`,
      [...UNICODE_PROBE, ICU],
    )
    const { unicode, icu } = r.rows[0] as { unicode: boolean; icu: boolean }
    if (!unicode && icu) collation = ICU
  }
  const fold = caseFold(collation)
  const r = await pool.query(
    `SELECT cp, l FROM generate_series(128, ${LAST_PROBED}) AS cp, ${fold.lowerSql('chr(cp)')} AS l
     WHERE cp NOT BETWEEN 55296 AND 57343 AND l <> chr(cp)`,
  )
  const theirs = new Map<number, string>()
  for (const row of r.rows as { cp: number; l: string }[]) theirs.set(Number(row.cp), sigma(row.l))
  const overrides = new Map<string, string>()
  for (let cp = 128; cp <= LAST_PROBED; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue
    const c = String.fromCodePoint(cp)
    const db = theirs.get(cp) ?? sigma(c)
    if (fold.fold(c) !== db) overrides.set(c, db)
  }
  return caseFold(collation, overrides)
}
