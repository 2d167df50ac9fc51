/**
 * Numbered SQL parameters built as the text is written, so no one counts placeholders by hand:
 * each value is added where it is used and gets the next `$n`.
 *
 * Every read is one site's: the parameters are made for it, and each table a read scans is
 * restricted to it with {@link SqlParams.site}, so no read can forget whose rows it reads.
 *
 * @example
 * const p = new SqlParams(0)
 * const sql = `SELECT * FROM t WHERE ${p.site()} AND b = ANY(${p.add(['x'])}::text[])`
 * await pool.query(sql, p.values) // site = $1, $2
 */
export class SqlParams {
  readonly values: unknown[] = []
  private siteParam: string | undefined

  /** `siteId`: the site whose rows the statement reads */
  constructor(readonly siteId: number) {}

  /** Adds a value and returns its placeholder. */
  add(value: unknown): string {
    this.values.push(value)
    return `$${this.values.length}`
  }

  /** The condition that a row is the site's: `site = $n` (of `table`, when given). */
  site(table?: string): string {
    this.siteParam ??= `${this.add(this.siteId)}::smallint`
    return `${table ? `${table}.` : ''}site = ${this.siteParam}`
  }
}
