import { describe, expect, test } from 'bun:test'
import { csvFileName, parseCsv, toCsv } from '../src/csv.ts'

/** Values a browser can send that a spreadsheet would split or run; each with what its cell must hold. */
const HOSTILE: [name: string, value: string, cell: string][] = [
  ['a formula', '=1+1', "'=1+1"],
  ['plus, minus and at', '+1+1', "'+1+1"],
  ['a minus', '-1+1', "'-1+1"],
  ['an at', '@SUM(A1)', "'@SUM(A1)"],
  ['a tab', '\t=1+1', "'\t=1+1"],
  ['a carriage return', '\r=1+1', "'\r=1+1"],
  ['a tab alone', '\tx', "'\tx"],
  ['a space first', ' =1+1', "' =1+1"],
  ['spaces and a tab first', '  \t+1', "'  \t+1"],
  ['a no-break space first', '\u00a0=1+1', "'\u00a0=1+1"],
  ['an ideographic space first', '\u3000=1+1', "'\u3000=1+1"],
  ['a zero-width space first', '\u200b=1+1', "'\u200b=1+1"],
  ['a zero-width non-joiner first', '\u200c=1+1', "'\u200c=1+1"],
  ['a zero-width joiner first', '\u200d=1+1', "'\u200d=1+1"],
  ['a word joiner first', '\u2060=1+1', "'\u2060=1+1"],
  ['a byte order mark first', '\ufeff=1+1', "'\ufeff=1+1"],
  ['a soft hyphen first', '\u00ad=1+1', "'\u00ad=1+1"],
  ['a left-to-right mark first', '\u200e=1+1', "'\u200e=1+1"],
  ['several invisible characters first', ' \u200b\u00a0\ufeff@x', "' \u200b\u00a0\ufeff@x"],
  ['a fullwidth equals sign', '\uff1d1+1', "'\uff1d1+1"],
  ['a fullwidth plus sign', '\uff0b1+1', "'\uff0b1+1"],
  ['a fullwidth hyphen-minus', '\uff0d1+1', "'\uff0d1+1"],
  ['a fullwidth at', '\uff20SUM(A1)', "'\uff20SUM(A1)"],
  ['a minus sign', '\u22121+1', "'\u22121+1"],
  ['a space and a fullwidth equals sign', ' \uff1d1+1', "' \uff1d1+1"],
  ['a quote in a formula', '=HYPERLINK("x")', `'=HYPERLINK("x")`],
]

describe('CSV', () => {
  test('every field is quoted, inner quotes doubled, the header too', () => {
    expect(
      toCsv(
        ['name', 'count'],
        [
          ['/pricing', 12],
          ['say "hi"', 2],
        ],
      ),
    ).toBe('"name","count"\r\n"/pricing","12"\r\n"say ""hi""","2"\r\n')
  })

  test('a separator inside a value stays inside its quotes: x;=1+1 is one cell in any spreadsheet', () => {
    for (const value of ['x;=1+1', 'x,=1+1', 'x\t=1+1', 'x\n=1+1', 'x|=1+1'])
      expect(toCsv(['name'], [[value]])).toBe(`"name"\r\n"${value}"\r\n`)
  })

  for (const [name, value, cell] of HOSTILE) {
    test(`${name} (${JSON.stringify(value)}) is quoted and starts with '`, () => {
      expect(toCsv(['name', 'count'], [[value, 1]])).toBe(`"name","count"\r\n"${cell.replaceAll('"', '""')}","1"\r\n`)
      expect(parseCsv(toCsv(['name', 'count'], [[value, 1]]))).toEqual([
        ['name', 'count'],
        [cell, '1'],
      ])
    })
  }

  test('plain text and counts are written as they are', () => {
    const rows: (string | number)[][] = [
      ['/pricing', 12],
      ['2026-11-01T13:00', 0],
      ['x-=1', 3],
      ['a @ b', 4],
      ['(direct)', 5],
      ['東京', 6],
    ]
    expect(parseCsv(toCsv(['name', 'count'], rows))).toEqual([['name', 'count'], ...rows.map((r) => r.map(String))])
  })

  test('round-trips names with commas, quotes and line breaks', () => {
    const rows: (string | number)[][] = [
      ['/pricing', 12],
      ['a,b', 3],
      ['say "hi"', 2],
      ['two\nlines', 1],
      ['(direct)', 0],
    ]
    const text = toCsv(['name', 'count'], rows)
    expect(text.startsWith('"name","count"\r\n"/pricing","12"\r\n"a,b","3"\r\n"say ""hi""","2"\r\n')).toBe(true)
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

  test('a download is named edge-analytics-<what>-<from>-<to>.csv, safe in a header and a file system', () => {
    expect(csvFileName(['top', 'prop:plan'], '2026-11-01', '2026-11-29')).toBe(
      'edge-analytics-top-prop-plan-2026-11-01-2026-11-29.csv',
    )
    expect(csvFileName(['stats', 'events', 'user_signup', 'hour'], '2026-11-01', '2026-11-01')).toBe(
      'edge-analytics-stats-events-user_signup-hour-2026-11-01-2026-11-01.csv',
    )
    expect(csvFileName(['top', 'a"b\r\n/c\\d'], '2026-11-01', '2026-11-29')).toBe(
      'edge-analytics-top-a-b-c-d-2026-11-01-2026-11-29.csv',
    )
  })
})
