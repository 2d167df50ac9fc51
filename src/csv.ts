/**
 * CSV as `format=csv` answers it and the dashboard's panels download it, written as OWASP
 * advises against CSV injection: every field in double quotes (inner quotes doubled), so no
 * spreadsheet splits a value on a `;` or a tab it finds in it; CRLF line ends; a header row.
 * A text that a spreadsheet could run as a formula starts with `'`, which spreadsheets show as
 * text: values such as campaign names come from anyone's browser. Counts are written as numbers.
 *
 * @example
 * toCsv(['name', 'count'], [['/pricing', 12], ['=1+1', 3]]) // '"name","count"\r\n"/pricing","12"\r\n"\'=1+1","3"\r\n'
 * parseCsv('"name","count"\r\n"a,b","3"\r\n') // [['name', 'count'], ['a,b', '3']]
 */

/**
 * What may come before a formula's first sign and still leave it a formula: white space (the
 * no-break and ideographic spaces too) and characters that show nothing (zero-width spaces and
 * joiners, the word joiner, the byte order mark, bidi marks, soft hyphens, controls).
 */
const UNSEEN = '[\\p{White_Space}\\p{Cc}\\p{Cf}\\p{Default_Ignorable_Code_Point}]*'
/**
 * A formula's first sign: `=`, `+`, `-`, `@`, their fullwidth and small forms, and the minus
 * sign, any of which a spreadsheet may read as the ASCII one.
 */
const SIGN = '[=+\\-@\\uFF1D\\uFF0B\\uFF0D\\uFF20\\uFE66\\uFE62\\uFE63\\uFE6B\\u2212]'
/** A sign after whatever is unseen, or a tab or carriage return among it. */
const FORMULA = new RegExp(`^(?:${UNSEEN}${SIGN}|${UNSEEN}[\\t\\r])`, 'u')

/** True when a spreadsheet could take `text` for a formula; such a text is written after a `'`. */
export const looksLikeFormula = (text: string): boolean => FORMULA.test(text)

const field = (v: string | number): string => {
  const s = typeof v === 'number' ? String(v) : looksLikeFormula(v) ? `'${v}` : v
  return `"${s.replaceAll('"', '""')}"`
}

export function toCsv(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  return [header, ...rows].map((row) => `${row.map(field).join(',')}\r\n`).join('')
}

/**
 * The name of a CSV download, the same from the API (its Content-Disposition) and from the
 * dashboard: `edge-analytics-<what>-<from>-<to>.csv`, each part of `what` kept to letters,
 * digits, `_`, `.` and `-` (a `prop:plan` dimension becomes `prop-plan`), so that the name is
 * safe in a header and on any file system.
 *
 * @example
 * csvFileName(['top', 'prop:plan'], '2026-11-01', '2026-11-29') // 'edge-analytics-top-prop-plan-2026-11-01-2026-11-29.csv'
 */
export function csvFileName(what: readonly string[], from: string, to: string): string {
  const parts = [...what, from, to].map((part) => part.replace(/[^A-Za-z0-9_.-]+/g, '-'))
  return `edge-analytics-${parts.join('-')}.csv`
}

/** A read's CSV answer with a header row, downloaded as `name` (see {@link csvFileName}). */
export function csvResponse(
  name: string,
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): Response {
  return new Response(toCsv(header, rows), {
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${name}"`,
      'x-content-type-options': 'nosniff',
    },
  })
}

/** Rows of a CSV text; a trailing line end makes no empty row. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"'
        i++
      } else if (c === '"') quoted = false
      else cell += c
    } else if (c === '"') quoted = true
    else if (c === ',') {
      row.push(cell)
      cell = ''
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++
      row.push(cell)
      rows.push(row)
      row = []
      cell = ''
    } else cell += c
  }
  if (cell !== '' || row.length > 0) rows.push([...row, cell])
  return rows
}
