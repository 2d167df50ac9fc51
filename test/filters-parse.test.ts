/** The `filters` parameter: what it accepts, and the 422 reason for each way it can be wrong. */
import { describe, expect, test } from 'bun:test'
import { FilterError, MAX_FILTER_VALUES, MAX_FILTERS, parseFilters } from '../src/filters/index.ts'

/** The error parseFilters throws for `raw`, as the route answers it. */
async function refused(raw: string): Promise<{ status: number; body: unknown }> {
  try {
    parseFilters(raw)
  } catch (err) {
    expect(err).toBeInstanceOf(FilterError)
    const res = (err as FilterError).toResponse()
    return { status: res.status, body: await res.json() }
  }
  throw new Error(`accepted ${raw}`)
}

const reason = async (raw: unknown) => {
  const { status, body } = await refused(typeof raw === 'string' ? raw : JSON.stringify(raw))
  expect(status).toBe(422)
  expect((body as { parameter: string }).parameter).toBe('filters')
  return (body as { error: string }).error
}

const DIMENSIONS =
  'source, utm_source, utm_medium, utm_campaign, entry_page, browser, os, device, country, hostname, page, feature, event_type, goal or prop:<key>'
const TYPES =
  'generation_started, generation_completed, generation_failed, user_signup, user_login, feature_used, asset_downloaded, asset_shared, page_view, subscription_started or subscription_canceled'

describe('parseFilters', () => {
  test('takes every operator, visit and event dimensions and any property key', () => {
    expect(parseFilters(undefined)).toEqual([])
    expect(parseFilters('[]')).toEqual([])
    expect(
      parseFilters(
        JSON.stringify([
          ['is', 'source', ['Google', 'Bing']],
          ['is_not', 'hostname', ['a.example']],
          ['contains', 'page', ['/Blog']],
          ['contains_not', 'prop:Ключ', ['x']],
          ['is', 'event_type', ['page_view']],
          ['contains', 'event_type', ['generation']],
        ]),
      ),
    ).toEqual([
      { op: 'is', dimension: 'source', values: ['Google', 'Bing'] },
      { op: 'is_not', dimension: 'hostname', values: ['a.example'] },
      { op: 'contains', dimension: 'page', values: ['/Blog'] },
      { op: 'contains_not', dimension: 'prop:Ключ', values: ['x'] },
      { op: 'is', dimension: 'event_type', values: ['page_view'] },
      { op: 'contains', dimension: 'event_type', values: ['generation'] },
    ])
  })

  test('takes values up to the longest stored value, in bytes', () => {
    const longest = 'é'.repeat(512) // 1024 bytes
    expect(parseFilters(JSON.stringify([['is', 'page', [longest]]]))[0]!.values).toEqual([longest])
  })

  test('refuses each bad input with a reason naming it', async () => {
    expect(await reason('source=Google')).toBe(
      'filters must be URL-encoded JSON such as [["is","source",["Google"]]] (got "source=Google")',
    )
    expect(await reason('')).toBe('filters must be URL-encoded JSON such as [["is","source",["Google"]]] (got "")')
    expect(await reason({ is: 'source' })).toBe(
      'filters must be a JSON array of [operator, dimension, [values…]] (got {"is":"source"})',
    )
    expect(await reason(['is', 'source', ['Google']])).toBe(
      'filters[0] must be [operator, dimension, [values…]] (got "is")',
    )
    expect(await reason([['is', 'source']])).toBe(
      'filters[0] must be [operator, dimension, [values…]] (got ["is","source"])',
    )
    expect(await reason([['is', 'source', 'Google']])).toBe(
      'filters[0] must be [operator, dimension, [values…]] (got ["is","source","Google"])',
    )
    expect(
      await reason([
        ['is', 'source', ['a']],
        ['like', 'page', ['x']],
      ]),
    ).toBe('filters[1] has the operator "like"; it must be is, is_not, contains or contains_not')
    expect(await reason([[1, 'page', ['x']]])).toBe(
      'filters[0] has the operator 1; it must be is, is_not, contains or contains_not',
    )
    expect(await reason([['is', 'referrer', ['x']]])).toBe(
      `filters[0] has the dimension "referrer"; it must be ${DIMENSIONS}`,
    )
    expect(await reason([['is', 'Source', ['x']]])).toBe(
      `filters[0] has the dimension "Source"; it must be ${DIMENSIONS}`,
    )
    expect(await reason([['is', 'source', []]])).toBe('filters[0] has no values; give at least one')
    expect(await reason(Array.from({ length: MAX_FILTERS + 1 }, () => ['is', 'os', ['Linux']]))).toBe(
      'filters has 11 filters; at most 10',
    )
    expect(await reason([['is', 'os', Array.from({ length: MAX_FILTER_VALUES + 1 }, (_, i) => `v${i}`)]])).toBe(
      'filters[0] has 51 values; at most 50',
    )
    expect(await reason([['is', 'os', ['Linux', 5]]])).toBe('filters[0] value 1 must be a string (got 5)')
    expect(await reason([['is', 'os', [null]]])).toBe('filters[0] value 0 must be a string (got null)')
    expect(await reason([['is', 'os', ['']]])).toBe('filters[0] value 0 is empty; a value has at least one character')
    expect(await reason([['is', 'page', ['é'.repeat(513)]]])).toBe(
      'filters[0] value 0 is 1026 bytes; at most 1024, as stored values are',
    )
    expect(await reason([['contains', 'page', ['a\u0000b']]])).toBe(
      'filters[0] value 0 holds a control character, which no stored value has',
    )
    expect(await reason('[["is","page",["\\ud800"]]]')).toBe(
      'filters[0] value 0 holds a lone surrogate, which is not text',
    )
    expect(await reason([['is', 'prop:', ['x']]])).toBe(
      'filters[0] has the dimension "prop:" with no key; write prop:<key>',
    )
    expect(await reason([['is', `prop:${'k'.repeat(129)}`, ['x']]])).toBe(
      'filters[0] names a property key of 129 characters; at most 128',
    )
    expect(await reason([['is', 'prop:a\tb', ['x']]])).toBe(
      'filters[0] names a property key with a control character or a lone surrogate',
    )
    expect(await reason([['is', 'event_type', ['page_view', 'pageview']]])).toBe(
      `filters[0] value 1 "pageview" is not an event type; event_type is ${TYPES}`,
    )
    expect(await reason([['is_not', 'event_type', ['visit']]])).toBe(
      `filters[0] value 0 "visit" is not an event type; event_type is ${TYPES}`,
    )
  })

  test('a reason shows at most 60 characters of what was sent', async () => {
    expect(await reason(`x${'y'.repeat(5000)}`)).toBe(
      `filters must be URL-encoded JSON such as [["is","source",["Google"]]] (got "x${'y'.repeat(58)}…)`,
    )
  })
})
