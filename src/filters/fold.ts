/**
 * Case folding for `contains`, the same in JavaScript and in Postgres: a pending row and a
 * stored row with the same value must both match or both not.
 *
 * Postgres lowers with ICU's root collation (`und-x-icu`), whatever the database's own locale
 * (a `C` database would lower ASCII only); JavaScript's `toLowerCase` is ICU's root lowercasing
 * too. Both map each character alone except one: a final capital sigma becomes `ς`, another `σ`.
 * Both sides then write `ς` as `σ`, so "ΟΔΟΣ" holds "οσ" and every character folds on its own.
 *
 * What is left is the Unicode version: Bun's ICU may know cased letters the database's does not
 * (or the other way round), and would lower them where Postgres does not. {@link probeCaseFold}
 * asks the database how it lowers every character that either side changes, once, and the fold
 * takes the database's answer for those it disagrees on. A database without ICU is asked about
 * its own `lower()` instead (libc lowers each character alone, so the same holds).
 *
 * @example
 * const fold = await probeCaseFold(pool)
 * fold.fold('ΟΔΟΣ')            // 'οδοσ'
 * fold.sql('path')             // translate(lower((path) COLLATE "und-x-icu"), 'ς', 'σ')
 */

export interface CaseFold {
  /** `s` folded as the database folds it */
  fold(s: string): string
  /** a SQL expression folding the text expression `expr` */
  sql(expr: string): string
}

/** Anything with a `query` like the Neon pool's. */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }>
}

const ICU = 'und-x-icu'
/** Past the BMP, cased letters sit only in plane 1 (Unicode 17). */
const LAST_PROBED = 0x1ffff

const sigma = (s: string): string => (s.includes('ς') ? s.replaceAll('ς', 'σ') : s)

/**
 * A fold: JavaScript's lowercasing, except for the characters of `overrides`, which fold to the
 * text given (the database's lowercase of them, with `ς` as `σ`). `collation` null: the
 * database's default.
 */
export function caseFold(collation: string | null, overrides: ReadonlyMap<string, string> = new Map()): CaseFold {
  const collate = collation === null ? '' : ` COLLATE "${collation}"`
  const sql = (expr: string) => `translate(lower((${expr})${collate}), 'ς', 'σ')`
  if (overrides.size === 0) return { fold: (s) => sigma(s.toLowerCase()), sql }
  const escaped = [...overrides.keys()].map((c) => `\\u{${c.codePointAt(0)!.toString(16)}}`).join('')
  const special = new RegExp(`[${escaped}]`, 'u')
  const specials = new RegExp(`[${escaped}]`, 'gu')
  return {
    fold(s) {
      if (!special.test(s)) return sigma(s.toLowerCase())
      // each character folds on its own (sigma aside): the runs between overrides fold as usual
      let out = ''
      let last = 0
      for (const m of s.matchAll(specials)) {
        out += s.slice(last, m.index).toLowerCase() + overrides.get(m[0])!
        last = m.index + m[0].length
      }
      return sigma(out + s.slice(last).toLowerCase())
    },
    sql,
  }
}

/** The fold with no database asked: exact where Bun's Unicode and the database's agree. */
export const ICU_FOLD: CaseFold = caseFold(ICU)

/**
 * Asks the database how it lowers each character from U+0080 to U+1FFFF (one statement, about
 * 1,400 rows back) and returns the fold that agrees with it on every one. ASCII lowers the same
 * everywhere. Memoize the result per pool: the answer changes only with the database's ICU.
 * `icu: false` folds with the database's default collation even when ICU is there.
 */
export async function probeCaseFold(pool: Queryable, options: { icu?: boolean } = {}): Promise<CaseFold> {
  const icu =
    options.icu === false ? { rows: [] } : await pool.query('SELECT 1 FROM pg_collation WHERE collname = $1', [ICU])
  const collation = icu.rows.length > 0 ? ICU : null
  const fold = caseFold(collation)
  const r = await pool.query(
    `SELECT cp, l FROM generate_series(128, ${LAST_PROBED}) AS cp, ${fold.sql('chr(cp)')} AS l
     WHERE cp NOT BETWEEN 55296 AND 57343 AND l <> chr(cp)`,
  )
  const theirs = new Map<number, string>()
  for (const row of r.rows as { cp: number; l: string }[]) theirs.set(Number(row.cp), row.l)
  const overrides = new Map<string, string>()
  for (let cp = 128; cp <= LAST_PROBED; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue
    const c = String.fromCodePoint(cp)
    const db = theirs.get(cp) ?? c
    if (fold.fold(c) !== db) overrides.set(c, db)
  }
  return caseFold(collation, overrides)
}
