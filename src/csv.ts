/**
 * CSV as `format=csv` answers it and the dashboard's panels download it: RFC 4180 rows (a field
 * with a comma, a quote or a line break is quoted, quotes doubled), CRLF line ends, a header row.
 * A text that a spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`, a tab or a
 * carriage return: values such as campaign names come from anyone's browser) starts with `'`
 * instead, which spreadsheets show as text.
 *
 * @example
 * toCsv(['name', 'count'], [['/pricing', 12], ['a,b', 3]]) // 'name,count\r\n/pricing,12\r\n"a,b",3\r\n'
 * parseCsv('name,count\r\n"a,b",3\r\n') // [['name', 'count'], ['a,b', '3']]
 */

const FORMULA = /^[=+\-@\t\r]/

const field = (v: string | number): string => {
  const s = typeof v === 'string' && FORMULA.test(v) ? `'${v}` : String(v)
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

export function toCsv(header: string[], rows: (string | number)[][]): string {
  return [header, ...rows].map((row) => `${row.map(field).join(',')}\r\n`).join('')
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
