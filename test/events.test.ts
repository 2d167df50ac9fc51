import { describe, expect, test } from 'bun:test'
import { createCalendar, utcCalendar } from '../src/counters/calendar.ts'
import { createKeys } from '../src/counters/keys.ts'
import { normalizePath } from '../src/events/path.ts'
import { fastAccept, schemaAccepts, validateEvents } from '../src/events/validate.ts'
import { opsFor, visitorOps } from './ops.ts'

const NOW = Date.parse('2026-11-28T13:45:00Z')

describe('normalizePath', () => {
  test.each([
    ['/pricing/', '/pricing'],
    ['/', '/'],
    ['/a/b?utm_source=x&y=2#top', '/a/b'],
    ['https://shop.example.com/cart/?id=1', '/cart'],
    ['no-slash', '/no-slash'],
    ['//double//slashes/', '/double/slashes'],
    ['/#/hash-route', '/#/hash-route'],
    ['/app/#!/settings', '/app#!/settings'],
    ['/docs#section-2', '/docs'],
  ])('%s → %s', (raw, want) => expect(normalizePath(raw)).toBe(want))

  test('keeps only allow-listed query parameters, in allow-list order', () => {
    expect(normalizePath('/a/?x=1&ref=hn&utm_source=mail', ['utm_source', 'ref'])).toBe('/a?utm_source=mail&ref=hn')
    expect(normalizePath('/a?x=1', ['ref'])).toBe('/a')
  })

  test('caps the length at 512', () => {
    expect(normalizePath(`/${'x'.repeat(2000)}`)).toHaveLength(512)
  })
})

describe('validateEvents', () => {
  const browser = { source: 'browser' as const, now: NOW }
  const server = { source: 'server' as const, now: NOW }

  test('a single browser event, counted at receive time', () => {
    const { events, errors } = validateEvents(
      { event_type: 'page_view', properties: { path: '/x/', extra: 1 }, timestamp: '2000-01-01T00:00:00Z' },
      browser,
    )
    expect(errors).toEqual([])
    // a property of no meaning of its own is kept for the event log only
    expect(events).toEqual([{ type: 'page_view', at: NOW, path: '/x', logProps: ['extra', '1'] }])
  })

  test('paths count for page views only; ids may be integers', () => {
    const { events } = validateEvents(
      [{ event_type: 'generation_completed', user_id: 42, properties: { path: '/x', feature_name: 'upscale' } }],
      server,
    )
    expect(events).toEqual([{ type: 'generation_completed', at: NOW, userId: '42', feature: 'upscale' }])
  })

  test('server-only types are refused on the browser route', () => {
    const { errors } = validateEvents({ event_type: 'user_signup' }, browser)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatchObject({ index: 0, field: 'event_type' })
    expect(errors[0]!.reason).toContain('server-only')
  })

  test('each problem is reported with its index and field; nothing passes', () => {
    const { events, errors } = validateEvents(
      [
        { event_type: 'page_view' },
        { event_type: 'nope' },
        { event_type: 'feature_used', user_id: '' },
        { event_type: 'feature_used', properties: { feature_name: 'x'.repeat(101) } },
        { event_type: 'feature_used', eventType: 'x' },
        'not an object',
        { event_type: 'page_view', properties: { path: '/a\u0000b' } },
        { event_type: 'page_view', properties: { nested: { a: 1 } } },
      ],
      server,
    )
    expect(events).toEqual([])
    expect(errors.map((e) => `${e.index}:${e.field}`)).toEqual([
      '1:event_type',
      '2:user_id',
      '3:properties.feature_name',
      '4:eventType',
      '5:(event)',
      '6:properties.path',
      '7:properties.nested',
    ])
    expect(errors[2]!.reason).toBe('must not have more than 100 characters')
    expect(errors[3]!.reason).toBe('is not a known field')
    expect(errors[5]!.reason).toBe('must not contain control characters')
  })

  test('timestamps: ISO-8601 or epoch ms, at most 30 days old, at most 5 minutes ahead', () => {
    const day = 86_400_000
    const ok = validateEvents(
      [
        { event_type: 'user_login', timestamp: '2026-11-26T08:00:00Z' },
        { event_type: 'user_login', timestamp: NOW - 29 * day },
        { event_type: 'user_login', timestamp: '2026-11-28T14:48:00+01:00' },
      ],
      server,
    )
    expect(ok.errors).toEqual([])
    expect(ok.events.map((e) => e.at)).toEqual([Date.parse('2026-11-26T08:00:00Z'), NOW - 29 * day, NOW + 3 * 60_000])
    const bad = validateEvents(
      [
        { event_type: 'user_login', timestamp: NOW - 31 * day },
        { event_type: 'user_login', timestamp: NOW + 10 * 60_000 },
        { event_type: 'user_login', timestamp: 'yesterday' },
        { event_type: 'user_login', timestamp: 1.5 },
        { event_type: 'user_login', timestamp: true },
      ],
      server,
    )
    expect(bad.errors.map((e) => `${e.index}:${e.field}:${e.reason}`)).toEqual([
      '0:timestamp:is more than 30 days old',
      '1:timestamp:is more than 5 minutes in the future',
      '2:timestamp:must be an ISO-8601 date-time like 2026-01-31T12:00:00Z',
      '3:timestamp:epoch milliseconds must be a positive integer',
      '4:timestamp:must be an ISO-8601 string or epoch milliseconds',
    ])
  })

  test('a server event’s client_ip and user_agent come back beside the events, never in them', () => {
    const ua = 'Mozilla/5.0 (X11; Linux x86_64)'
    const { events, errors, senders } = validateEvents(
      [
        { event_type: 'user_signup', client_ip: '203.0.113.9', user_agent: ua },
        { event_type: 'user_login' },
        { event_type: 'user_login', client_ip: '2001:db8::9', user_agent: '' },
      ],
      server,
    )
    expect(errors).toEqual([])
    expect(senders).toEqual([{ ip: '203.0.113.9', userAgent: ua }, undefined, { ip: '2001:db8::9', userAgent: '' }])
    expect(JSON.stringify(events)).not.toContain('203.0.113.9')
    expect(JSON.stringify(events)).not.toContain(ua)
    // without them: no senders at all, the batch as it always was
    expect(validateEvents([{ event_type: 'user_login' }], server).senders).toBeUndefined()
    // a browser may not send them
    expect(
      validateEvents({ event_type: 'page_view', client_ip: '203.0.113.9', user_agent: ua }, browser).errors.map(
        (e) => e.field,
      ),
    ).toEqual(['client_ip', 'user_agent'])
  })

  test('batch size limits', () => {
    const many = (n: number) => Array.from({ length: n }, () => ({ event_type: 'page_view' }))
    expect(validateEvents(many(50), browser).events).toHaveLength(50)
    expect(validateEvents(many(51), browser).errors[0]!.reason).toBe('has 51 events; at most 50 per request')
    expect(validateEvents(many(1000), server).events).toHaveLength(1000)
    expect(validateEvents(many(1001), server).errors[0]!.reason).toBe('has 1001 events; at most 1000 per request')
    expect(validateEvents([], server).errors[0]!.reason).toBe('has no events')
    expect(validateEvents({ event_type: 'page_view' }, server).errors[0]!.reason).toBe('must be a JSON array of events')
  })
})

describe('opsFor', () => {
  const global = createKeys('p')
  const keys = global.shards[0]!

  test('a server event touches live hourly and daily, daily, hourly, user and feature counters', () => {
    expect(
      opsFor({ type: 'feature_used', at: NOW, userId: 'u1', feature: 'export' }, { keys, calendar: utcCalendar }),
    ).toEqual([
      { op: 'incr', key: '{p}:live:h:2026-11-28', field: 'feature_used|13', by: 1 },
      { op: 'incr', key: '{p}:live:d:2026-11-28', field: 'feature_used', by: 1 },
      { op: 'incr', key: '{p}:live:d:2026-11-28', field: 'feature_used|13', by: 1 },
      { op: 'incr', key: '{p}:pend:d', field: '2026-11-28|feature_used', by: 1 },
      { op: 'incr', key: '{p}:pend:h', field: '2026-11-28T13:45|feature_used', by: 1 },
      { op: 'incr', key: '{p}:pend:u', field: '2026-11-28|feature_used|u1', by: 1 },
      { op: 'incr', key: '{p}:pend:f', field: '2026-11-28|feature_used|export', by: 1 },
    ])
  })

  test('a browser page view is capped per dimension; n identical events are one op with by = n', () => {
    const ops = opsFor(
      { type: 'page_view', at: NOW, path: '/a' },
      { keys, caps: { users: 5, features: 5, paths: 7, dimensions: 1000 }, calendar: utcCalendar },
      3,
    )
    expect(ops).toEqual([
      { op: 'incr', key: '{p}:live:h:2026-11-28', field: 'page_view|13', by: 3 },
      { op: 'incr', key: '{p}:live:d:2026-11-28', field: 'page_view', by: 3 },
      { op: 'incr', key: '{p}:live:d:2026-11-28', field: 'page_view|13', by: 3 },
      { op: 'incr', key: '{p}:pend:d', field: '2026-11-28|page_view', by: 3 },
      { op: 'incr', key: '{p}:pend:h', field: '2026-11-28T13:45|page_view', by: 3 },
      {
        op: 'capped',
        seen: '{p}:seen:p:2026-11-28',
        cap: 7,
        member: '/a',
        key: '{p}:pend:p',
        prefix: '2026-11-28|',
        by: 3,
      },
    ])
  })

  test('the live hours are of the UTC day, the live day total and its hours of TIME_ZONE’s', () => {
    const la = createCalendar('America/Los_Angeles')
    const ops = opsFor({ type: 'page_view', at: Date.parse('2026-11-29T03:00:00Z') }, { keys, calendar: la })
    expect(ops.slice(0, 3)).toEqual([
      { op: 'incr', key: '{p}:live:h:2026-11-29', field: 'page_view|03', by: 1 },
      { op: 'incr', key: '{p}:live:d:2026-11-28', field: 'page_view', by: 1 },
      { op: 'incr', key: '{p}:live:d:2026-11-28', field: 'page_view|19', by: 1 },
    ])
    // India's hours start at :30 UTC
    const india = createCalendar('Asia/Kolkata')
    const at = (iso: string) => opsFor({ type: 'page_view', at: Date.parse(iso) }, { keys, calendar: india })[2]
    expect(at('2026-11-29T03:29:59Z')).toMatchObject({ key: '{p}:live:d:2026-11-29', field: 'page_view|08' })
    expect(at('2026-11-29T03:30:00Z')).toMatchObject({ key: '{p}:live:d:2026-11-29', field: 'page_view|09' })
  })

  test('visitor hashes go to the day’s HyperLogLog and mark the day for the flusher', () => {
    expect(visitorOps(keys, global, '2026-11-28', ['abc', 'def'])).toEqual([
      { op: 'incr', key: '{p}:pend:v', field: '2026-11-28', by: 1 },
      { op: 'pfadd', key: '{p}:hll:2026-11-28', element: 'abc' },
      { op: 'pfadd', key: '{p}:hll:2026-11-28', element: 'def' },
    ])
  })
})

describe('keys', () => {
  test('one shard uses the prefix as its tag; several get their own, global keys stay global', () => {
    expect(createKeys('a').shards.map((s) => s.pending('d'))).toEqual(['{a}:pend:d'])
    const sharded = createKeys('a', 3)
    expect(sharded.shards.map((s) => s.liveHourly('2026-11-28'))).toEqual([
      '{a:0}:live:h:2026-11-28',
      '{a:1}:live:h:2026-11-28',
      '{a:2}:live:h:2026-11-28',
    ])
    expect([sharded.visitors('2026-11-28'), sharded.salt('2026-11-28'), sharded.lease]).toEqual([
      '{a}:hll:2026-11-28',
      '{a}:salt:2026-11-28',
      '{a}:lease',
    ])
  })
})

describe('snapshot rows', () => {
  test('fields split only at their fixed separators; values may hold "|"', async () => {
    const { toRows } = await import('../src/flush/rows.ts')
    const rows = toRows({
      d: { '2026-11-28|page_view': '3' },
      h: { '2026-11-28T09|page_view': '3' },
      u: { '2026-11-28|user_login|id|with|bars': '1' },
      f: { '2026-11-27|feature_used|x': '2' },
      p: { '2026-11-28|/a|b': '4' },
      v: { '2026-11-28': '9' },
    })
    expect(rows.daily).toEqual({ type: ['page_view'], day: ['2026-11-28'], count: [3] })
    // a field written before quarters holds its hour, as that hour's first quarter
    expect(rows.quarters).toEqual({ type: ['page_view'], at: ['2026-11-28T09:00:00Z'], count: [3] })
    expect(rows.user).toEqual({ user: ['id|with|bars'], type: ['user_login'], day: ['2026-11-28'], count: [1] })
    expect(rows.feature).toEqual({ type: ['feature_used'], feature: ['x'], day: ['2026-11-27'], count: [2] })
    expect(rows.page).toEqual({ path: ['/a|b'], day: ['2026-11-28'], count: [4] })
    expect(rows.visitorDays).toEqual(['2026-11-28'])
    expect(rows.counters).toBe(6)
  })
  test("one users row per user, sorted by id, with the snapshot's earliest day for them", async () => {
    const { toRows } = await import('../src/flush/rows.ts')
    const rows = toRows({
      u: {
        '2026-11-28|user_login|b': '1',
        '2026-11-27|feature_used|b': '1',
        '2026-11-28|feature_used|__proto__': '1',
        '2026-11-26|user_login|a': '1',
        '2026-11-28|user_login|a': '1',
      },
    })
    expect(rows.users).toEqual({ user: ['__proto__', 'a', 'b'], firstSeen: ['2026-11-28', '2026-11-26', '2026-11-27'] })
    expect(rows.user.user).toHaveLength(5)
  })
})

describe('the validation fast path', () => {
  test('accepts the common beacon shapes', () => {
    for (const event of [
      { event_type: 'page_view' },
      { event_type: 'page_view', properties: { path: '/pricing' } },
      { event_type: 'feature_used', user_id: 'u-1', properties: { feature_name: 'export' } },
      { event_type: 'feature_used', user_id: 42, properties: { feature_name: 'export', path: '/app' } },
      { event_type: 'page_view', properties: {} },
      { event_type: 'page_view', properties: { path: '/', referrer: '', utm_source: 'x', utm_campaign: '' } },
      { event_type: 'page_view', properties: { path: '/', referrer: 'https://www.google.com/' } },
    ]) {
      expect(fastAccept(event)).toBe(true)
    }
  })

  test('accepts nothing the schema refuses (random events)', () => {
    let seed = 20261128
    const next = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return seed / 2 ** 32
    }
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!
    const strings = ['', 'x', '/a', 'a'.repeat(100), 'a'.repeat(101), 'a'.repeat(128), 'a'.repeat(129)]
    strings.push('a'.repeat(2048), 'a'.repeat(2049), '\u0000', 'tab\there', 'del\u007f', 'ü🙂', '🙂'.repeat(60))
    strings.push('a'.repeat(1000), 'a'.repeat(1001), 'https://www.google.com/search?q=x', 'Docs.Example.com')
    const values: unknown[] = [...strings, null, true, 0, -1, -0, 1.5, 2 ** 53, Number.NaN, [], {}, ['x']]
    // as JSON.parse builds objects: own properties, even one named "__proto__"
    const put = (o: Record<string, unknown>, key: string, value: unknown) =>
      Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true })
    const properties = (): unknown => {
      if (next() < 0.1) return pick(values)
      const p: Record<string, unknown> = {}
      for (const key of [
        'path',
        'feature_name',
        'referrer',
        'utm_source',
        'utm_campaign',
        'hostname',
        'extra',
        '__proto__',
      ]) {
        if (next() < (key === 'path' || key === 'feature_name' || key === 'referrer' ? 0.6 : 0.15))
          put(p, key, pick(values))
      }
      return p
    }
    const object = (): Record<string, unknown> => {
      const o: Record<string, unknown> = {}
      if (next() < 0.9) put(o, 'event_type', next() < 0.9 ? 'page_view' : pick(values))
      if (next() < 0.4) put(o, 'user_id', pick(values))
      if (next() < 0.8) put(o, 'properties', properties())
      for (const key of ['timestamp', 'extra', '__proto__']) if (next() < 0.05) put(o, key, pick(values))
      return o
    }
    let fast = 0
    for (let i = 0; i < 20_000; i++) {
      const event = next() < 0.05 ? pick(values) : object()
      if (fastAccept(event)) {
        fast++
        if (!schemaAccepts(event))
          throw new Error(`fast path accepted what the schema refuses: ${JSON.stringify(event)}`)
      }
    }
    // the fast path was exercised, not just refused everything
    expect(fast).toBeGreaterThan(1000)
  })
})
