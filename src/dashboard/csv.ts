/**
 * CSV as the panels download it: RFC 4180 rows (a field with a comma, a quote or a line break
 * is quoted, quotes doubled), CRLF line ends, a header row.
 *
 * @example
 * toCsv(['name', 'count'], [['/pricing', 12], ['a,b', 3]]) // 'name,count\r\n/pricing,12\r\n"a,b",3\r\n'
 * parseCsv('name,count\r\n"a,b",3\r\n') // [['name', 'count'], ['a,b', '3']]
 */

const field = (v: string | number): string => {
  const s = String(v)
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

/** Hands a text to the browser as a file download. */
export function saveFile(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }))
  const a = document.createElement('a')
  a.href = url
  a.download = name
  document.body.append(a)
  a.click()
  a.remove()
  // the download reads the blob after this task; a minute later it has long been read
  setTimeout(() => URL.revokeObjectURL(url), 60_000)
}
