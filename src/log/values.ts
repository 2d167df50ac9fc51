/**
 * The event log's dictionary, `analytics_values` (sql/009_log_layout.sql): each string a row
 * stores (path, host, feature, a visit's values) once, under an integer id the rows keep instead.
 *
 * New strings are added by the flush before its transaction, in statements of their own, so that
 * an id is only ever remembered here once it is committed: an id learned inside a transaction
 * that then rolls back would name nothing. Ids are never deleted or reused, so a committed id
 * stays right for as long as this process runs. What is remembered is bounded (BoundedMap).
 *
 * A string Postgres refuses (a NUL) fails the insert with its SQLSTATE of class 22, so the flush
 * sets the batch aside (invariant I7), as it did when the string was a column of the row.
 *
 * @example
 * const values = new LogValues(pool)
 * const ids = await values.ids(pool, ['/pricing', 'Google']) // Map { '/pricing' => 1, 'Google' => 2 }
 */
import type { Pool, PoolClient } from '@neondatabase/serverless'
import { BoundedMap } from '../memo.ts'

/** Ids remembered at most: a day's capped values of every dimension fit many times over. */
export const REMEMBERED_IDS = 200_000

const SELECT_IDS = 'SELECT id, value FROM analytics_values WHERE value = ANY($1::text[])'
/**
 * Sorted, so two flushes adding the same strings take their index entries' locks in one order
 * and never deadlock. The ids of strings another flush added meanwhile are read afterwards.
 */
const INSERT_IDS = `INSERT INTO analytics_values (value) SELECT v FROM unnest($1::text[]) AS v ORDER BY v COLLATE "C"
  ON CONFLICT (value) DO NOTHING RETURNING id, value`

type Queryable = Pick<Pool, 'query'> | Pick<PoolClient, 'query'>

export class LogValues {
  private readonly known: BoundedMap<string, number>

  constructor(limit = REMEMBERED_IDS) {
    this.known = new BoundedMap(limit)
  }

  /**
   * The ids of `strings`, adding those not in the dictionary yet. On the pool (autocommit) what
   * is learned is remembered; inside a transaction (`remember` false) an id added there is not.
   */
  async ids(db: Queryable, strings: Iterable<string>, remember = true): Promise<Map<string, number>> {
    const out = new Map<string, number>()
    const missing: string[] = []
    for (const s of strings) {
      if (out.has(s)) continue
      const id = this.known.get(s)
      if (id === undefined) missing.push(s)
      else out.set(s, id)
    }
    if (missing.length === 0) return out
    const take = (rows: { id: number; value: string }[], committed: boolean) => {
      for (const r of rows) {
        out.set(r.value, r.id)
        if (committed) this.known.set(r.value, r.id)
      }
    }
    // most strings of a batch were seen before, by this process or another: read before adding,
    // so that an insert's conflicts do not spend ids of the identity
    take((await db.query(SELECT_IDS, [missing])).rows, remember)
    let left = missing.filter((s) => !out.has(s))
    if (left.length === 0) return out
    take((await db.query(INSERT_IDS, [left])).rows, remember)
    left = left.filter((s) => !out.has(s))
    // added by another flush between the two statements
    if (left.length > 0) take((await db.query(SELECT_IDS, [left])).rows, remember)
    const lost = left.find((s) => !out.has(s))
    if (lost !== undefined) throw new Error(`no id for ${JSON.stringify(lost.slice(0, 100))} in analytics_values`)
    return out
  }
}
