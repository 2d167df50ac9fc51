import { describe, expect, test } from 'bun:test'
import { type ApiError, apiUrl, createApi } from '../src/dashboard/api.ts'
import { watchFilterRefusals } from '../src/dashboard/filter-refusals.ts'
import {
  type Filter,
  filterLabel,
  filtersParam,
  readFilters,
  sameFilters,
  withFilter,
  withoutFilter,
} from '../src/dashboard/filters.ts'
import { parseView, readView, type View, viewSearch } from '../src/dashboard/view.ts'

const google: Filter = ['is', 'source', ['Google']]
const mobile: Filter = ['is', 'device', ['mobile']]

describe('filters in the address', () => {
  test('round-trip with the rest of the view, as the same JSON the API takes', () => {
    for (const filters of [
      [google],
      [google, mobile],
      [
        ['contains', 'page', ['blog', 'docs']],
        ['is_not', 'prop:plan', ['pro']],
        ['contains_not', 'event_type', ['generation']],
      ],
      // what a URL holds specially, and what JSON escapes
      [['is', 'page', ['/a?b=1&c=2#x', '50% off', 'a+b', 'é "quoted" \\ ,:[]', '%2C']]],
    ] as Filter[][]) {
      const view = { period: '7d', compare: true, filters } as const
      const search = viewSearch(view)
      expect(parseView(search)).toEqual(view)
      expect(new URLSearchParams(search).get('filters')).toBe(JSON.stringify(filters))
      expect(readView(search, 'UTC').problems).toEqual([])
    }
  })

  test('are written readably, and not at all when there are none', () => {
    expect(viewSearch({ period: '7d', compare: false, filters: [google] })).toBe(
      '?period=7d&filters=[[%22is%22,%22source%22,[%22Google%22]]]',
    )
    expect(viewSearch({ period: '7d', compare: false, filters: [] })).toBe('?period=7d')
    expect(readFilters(null)).toEqual({ filters: [], problems: [] })
    expect(parseView('?period=7d&filters=')).toEqual({ period: '7d', compare: false })
    expect(parseView('?period=7d&filters=[]')).toEqual({ period: '7d', compare: false })
    // an address encoded the usual way reads the same
    const encoded = `?period=7d&filters=${encodeURIComponent(JSON.stringify([google]))}`
    expect(parseView(encoded).filters).toEqual([google])
  })

  test('text that is not a JSON list drops them all, and says so', () => {
    for (const text of ['[["is","source"', 'nope', '{"is":"source"}', '"Google"', '3']) {
      const { view, problems } = readView(`?period=7d&filters=${encodeURIComponent(text)}`, 'UTC')
      expect(view).toEqual({ period: '7d', compare: false })
      expect(problems).toEqual([
        `The filters ${JSON.stringify(text)} are not a JSON list of [operator, dimension, [values]]: they were dropped, showing all traffic.`,
      ])
    }
  })

  test('an entry that is not a filter is dropped with its reason; the others stay', () => {
    const entries = [
      google,
      ['equals', 'source', ['Google']],
      ['is', 'planet', ['Mars']],
      ['is', 'prop:', ['x']],
      ['is', 'device', []],
      ['is', 'device', 'mobile'],
      ['is', 'device', [1]],
      ['is', 'device', ['mobile', '']],
      ['is', 'device'],
      'is source Google',
      mobile,
    ]
    const { view, problems } = readView(`?filters=${encodeURIComponent(JSON.stringify(entries))}`, 'UTC')
    expect(view.filters).toEqual([google, mobile])
    expect(problems).toEqual([
      'The filter "[\\"equals\\",\\"source\\",[\\"Google\\"]]" was dropped: "equals" is not an operator ("is", "is_not", "contains", "contains_not").',
      'The filter "[\\"is\\",\\"planet\\",[\\"Mars\\"]]" was dropped: "planet" is not a dimension.',
      'The filter "[\\"is\\",\\"prop:\\",[\\"x\\"]]" was dropped: "prop:" is not a dimension.',
      'The filter "[\\"is\\",\\"device\\",[]]" was dropped: its values are not a list of one or more non-empty strings.',
      'The filter "[\\"is\\",\\"device\\",\\"mobile\\"]" was dropped: its values are not a list of one or more non-empty strings.',
      'The filter "[\\"is\\",\\"device\\",[1]]" was dropped: its values are not a list of one or more non-empty strings.',
      'The filter "[\\"is\\",\\"device\\",[\\"mobile\\",\\"\\"]]" was dropped: its values are not a list of one or more non-empty strings.',
      'The filter "[\\"is\\",\\"device\\"]" was dropped: not [operator, dimension, [values]].',
      'The filter "\\"is source Google\\"" was dropped: not [operator, dimension, [values]].',
    ])
    // the address it then gets holds the filters kept
    expect(new URLSearchParams(viewSearch(view)).get('filters')).toBe(JSON.stringify([google, mobile]))
  })

  test('a long bad value is cut short in the notice', () => {
    const text = `[${'x'.repeat(500)}`
    const [problem] = readView(`?filters=${encodeURIComponent(text)}`, 'UTC').problems
    expect(problem!.length).toBeLessThan(300)
    expect(problem).toContain('…')
  })
})

describe('adding and removing', () => {
  test('an `is` filter replaces the `is` filter on its dimension; others are added', () => {
    const bing: Filter = ['is', 'source', ['Bing']]
    expect(withFilter([google, mobile], bing)).toEqual([bing, mobile])
    expect(withFilter([google], mobile)).toEqual([google, mobile])
    // another operator on the same dimension is another filter
    const notGoogle: Filter = ['is_not', 'source', ['Google']]
    expect(withFilter([google], notGoogle)).toEqual([google, notGoogle])
    expect(withFilter([notGoogle], ['is_not', 'source', ['Google', 'Bing']])).toEqual([
      ['is_not', 'source', ['Google', 'Bing']],
    ])
    expect(withoutFilter([google, mobile], 0)).toEqual([mobile])
    expect(withoutFilter([google], 0)).toEqual([])
  })

  test('the reads’ parameter: the JSON, or nothing at all', () => {
    expect(filtersParam([google])).toBe('[["is","source",["Google"]]]')
    expect(filtersParam([])).toBeUndefined()
    expect(filtersParam(undefined)).toBeUndefined()
    expect(sameFilters(undefined, [])).toBe(true)
    expect(sameFilters([google], [['is', 'source', ['Google']]])).toBe(true)
    expect(sameFilters([google], [mobile])).toBe(false)
  })
})

describe('a filter in words', () => {
  test('dimension, operator and values OR’ed, as its chip says', () => {
    expect(filterLabel(google)).toBe('Source is Google')
    expect(filterLabel(['is', 'source', ['Google', 'Bing']])).toBe('Source is Google or Bing')
    expect(filterLabel(['contains', 'page', ['blog']])).toBe('Page contains blog')
    expect(filterLabel(['contains_not', 'utm_campaign', ['launch']])).toBe('UTM campaign does not contain launch')
    expect(filterLabel(['is_not', 'prop:plan', ['pro']])).toBe('Property plan is not pro')
    expect(filterLabel(['is', 'country', ['DE', 'FR']])).toBe('Country is Germany or France')
    expect(filterLabel(['is', 'event_type', ['user_signup']])).toBe('Event type is Sign-ups')
    expect(filterLabel(['is', 'os', ['(other)']])).toBe('Operating system is (other)')
  })
})

describe('filters the server refuses', () => {
  /** A server that answers 422 naming `filters` to a read with filters, and 200 to one without. */
  function refusing() {
    return Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch(req) {
        const url = new URL(req.url)
        if (!url.searchParams.has('filters')) return Response.json({ series: [], total: 0 })
        const body = url.searchParams.has('other')
          ? { error: 'other is wrong', parameter: 'other' }
          : { error: 'filters[0] has too many values.', parameter: 'filters' }
        return Response.json(body, { status: 422 })
      },
    })
  }

  test('are dropped once, with the server’s reason; a read of other filters, or another parameter, drops nothing', async () => {
    const server = refusing()
    try {
      const api = createApi({ token: () => 'token-0123456789abcdef', onRefused: () => {} })
      let view: View = { period: '7d', compare: false, filters: [google, mobile] }
      const said: [View, string][] = []
      const unwatch = watchFilterRefusals(
        api,
        () => view,
        (next, problem) => {
          view = next
          said.push([next, problem])
        },
      )
      const read = (params: Record<string, string | undefined>) =>
        api.get(apiUrl(`${server.url}analytics/stats`, params)).catch((e: ApiError) => e)
      // other filters than those shown (a suggestion's), and another parameter refused
      expect(await read({ filters: filtersParam([google]) })).toMatchObject({ status: 422, parameter: 'filters' })
      expect(await read({ filters: filtersParam([google, mobile]), other: '1' })).toMatchObject({ parameter: 'other' })
      expect(said).toEqual([])
      // the filters shown, refused by two reads at once
      await Promise.all([
        read({ filters: filtersParam([google, mobile]) }),
        read({ filters: filtersParam([google, mobile]), x: '1' }),
      ])
      expect(said).toEqual([
        [
          { period: '7d', compare: false },
          'The server could not use the filters (Source is Google; Device is mobile): filters[0] has too many values. They were dropped: showing all traffic.',
        ],
      ])
      unwatch()
      view = { period: '7d', compare: false, filters: [google] }
      await read({ filters: filtersParam([google]), again: '1' })
      expect(said).toHaveLength(1)
    } finally {
      server.stop(true)
    }
  })
})
