import { describe, expect, test } from 'bun:test'
import { parseCsv, toCsv } from '../src/csv.ts'

describe('CSV', () => {
  test('round-trips names with commas, quotes and line breaks', () => {
    const rows: (string | number)[][] = [
      ['/pricing', 12],
      ['a,b', 3],
      ['say "hi"', 2],
      ['two\nlines', 1],
      ['(direct)', 0],
    ]
    const text = toCsv(['name', 'count'], rows)
    expect(text.startsWith('name,count\r\n/pricing,12\r\n"a,b",3\r\n"say ""hi""",2\r\n')).toBe(true)
    expect(parseCsv(text)).toEqual([['name', 'count'], ...rows.map((r) => r.map(String))])
  })

  test('reads LF line ends and a last line without one', () => {
    expect(parseCsv('name,count\n/a,1\n/b,2')).toEqual([
      ['name', 'count'],
      ['/a', '1'],
      ['/b', '2'],
    ])
    expect(parseCsv('')).toEqual([])
  })
})
