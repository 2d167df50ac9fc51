/**
 * Numbered SQL parameters built as the text is written, so no one counts placeholders by hand:
 * each value is added where it is used and gets the next `$n`.
 *
 * @example
 * const p = new SqlParams()
 * const sql = `SELECT * FROM t WHERE a = ${p.add(1)} AND b = ANY(${p.add(['x'])}::text[])`
 * await pool.query(sql, p.values) // $1, $2
 */
export class SqlParams {
  readonly values: unknown[] = []

  /** Adds a value and returns its placeholder. */
  add(value: unknown): string {
    this.values.push(value)
    return `$${this.values.length}`
  }
}
