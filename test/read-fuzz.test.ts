/**
 * Read parameters, fuzzed: random and edge-case dates, zones, granularities, event types, limits
 * and dimensions sent to /analytics/stats and /analytics/top. Every answer is a 200 or a 422
 * naming the parameter, and comes within a second. The app runs in a worker (guarded-app.ts), so
 * a handler that never yields fails its request instead of hanging the run.
 */
import { describe, expect, test } from 'bun:test'
import { EVENT_TYPES } from '../src/events/types.ts'
import { type Answer, guardedApp } from './guarded-app.ts'
import { prng } from './prng.ts'
import { testContext } from './services.ts'

const SEED = Number(process.env.FUZZ_SEED ?? 20261205)
const ADMIN = { authorization: 'Bearer test-admin-token-0123456789' }
const DEADLINE_MS = 1000

/** The days every read accepts, whatever the zone (README, "Reads are exact"). */
const FIRST_DAY = '1970-01-01'
const LAST_DAY = '2999-12-31'

const DAY_MS = 86_400_000
/** `day` + n days; a string that is not a day stays as it is. */
function shift(day: string, n: number): string {
  const ms = Date.parse(`${day}T00:00:00Z`)
  return Number.isNaN(ms) ? day : new Date(ms + n * DAY_MS).toISOString().slice(0, 10)
}
const pad = (n: number, width: number) => String(n).padStart(width, '0')

/** Zones at both ends of the offsets: UTC+14, UTC-12, and the ±23:59 an offset zone may have. */
const EDGE_ZONES = ['Pacific/Kiritimati', 'Etc/GMT-14', 'Etc/GMT+12', '+14:00', '-12:00', '+23:59', '-23:59']

/**
 * Integers that `Number` reads and a plain decimal parser does not: hex, binary and octal,
 * exponents, signs, white space (URL-encoded or not, and Unicode's), fullwidth digits, a NUL.
 */
const NOT_DECIMAL = [
  '0x10',
  '0X1F',
  '0b11',
  '0o17',
  '1e1',
  '1E1',
  '+5',
  '-0',
  ' 10',
  '  10',
  '10 ',
  '\t10',
  '10\n',
  '\u00a010',
  '\u200b10',
  '\uff11\uff10',
  '1_0',
  '10.',
  '10.0',
  '5\u0000',
  'Infinity',
]

/** Each parameter's values: mostly ones a read answers, so that odd combinations of them are answered too. */
const VALUES = {
  tz: {
    valid: [
      'UTC',
      'utc',
      'Etc/UTC',
      'Europe/Berlin',
      'europe/berlin',
      'EUROPE/BERLIN',
      'America/St_Johns',
      'Asia/Kathmandu',
      'Pacific/Apia',
      'Australia/Lord_Howe',
      ...EDGE_ZONES,
    ],
    odd: [
      '+24:00',
      'UTC+1',
      'Mars/Olympus',
      '',
      '\u0000',
      'UTC\u0000',
      'Europe/Berlin/x',
      '../etc/passwd',
      'x'.repeat(300),
    ],
  },
  day: {
    odd: [
      '',
      'yesterday',
      '2026-02-30',
      '2026-13-01',
      '2026-1-1',
      '2026-01-01T00:00:00Z',
      ' 2026-01-01',
      '2026-01-01\u0000',
      '+010000-01-01',
      '10000-01-01',
      '-000001-01-01',
      '9'.repeat(400),
    ],
  },
  granularity: { valid: [undefined, 'day', 'hour'], odd: ['week', '', 'DAY'] },
  event_type: { valid: [undefined, ...EVENT_TYPES], odd: ['nope', '', 'page_view\u0000'] },
  limit: {
    valid: [undefined, '1', '10', '100', '007'],
    odd: ['0', '101', '-1', '1.5', 'abc', '', '9'.repeat(30), ...NOT_DECIMAL],
  },
  dimension: { valid: [undefined, 'feature', 'page'], odd: ['user', ''] },
}

type Params = Record<string, string | undefined>

function query(params: Params, duplicate?: string): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.append(k, v)
  if (duplicate && params[duplicate] !== undefined) q.append(duplicate, params[duplicate]!)
  const s = q.toString()
  return s ? `?${s}` : ''
}

function generator(seed: number) {
  const r = prng(seed)
  const today = new Date().toISOString().slice(0, 10)
  const either = <T>(values: { valid: readonly T[]; odd: readonly T[] }): T =>
    r.next() < 0.9 ? r.pick(values.valid) : r.pick(values.odd)
  const day = (): string | undefined => {
    const x = r.next()
    if (x < 0.6) return shift(r.pick([FIRST_DAY, shift(LAST_DAY, -40), shift(today, -40)]), r.int(41))
    if (x < 0.7) return `${pad(r.int(10_000), 4)}-${pad(1 + r.int(12), 2)}-${pad(1 + r.int(31), 2)}`
    if (x < 0.82) return shift(r.pick([FIRST_DAY, LAST_DAY, '0000-01-01', '9999-12-31']), r.int(9) - 4)
    if (x < 0.92) return r.pick(VALUES.day.odd)
    return undefined
  }
  const range = (): Params => {
    const from = day()
    // mostly a short range after from, so that the other parameters get answered too
    const to = from && r.next() < 0.7 ? shift(from, r.int(35) - 2) : day()
    return { from, to }
  }
  const duplicate = (keys: string[]) => (r.next() < 0.05 ? r.pick(keys) : undefined)
  const stats = (): string => {
    const params: Params = {
      ...range(),
      tz: r.next() < 0.7 ? either(VALUES.tz) : undefined,
      granularity: either(VALUES.granularity),
      event_type: either(VALUES.event_type),
    }
    return `/analytics/stats${query(params, duplicate(Object.keys(params)))}`
  }
  const top = (): string => {
    const params: Params = {
      ...range(),
      // only UTC days here: other zones are refused
      tz: r.next() < 0.2 ? either(VALUES.tz) : undefined,
      dimension: either(VALUES.dimension),
      limit: either(VALUES.limit),
    }
    return `/analytics/top${query(params, duplicate(Object.keys(params)))}`
  }
  return { stats, top }
}

const PARAMETERS: Record<string, string[]> = {
  stats: ['from', 'to', 'tz', 'granularity', 'event_type'],
  top: ['from', 'to', 'tz', 'dimension', 'limit'],
}

/** What every answer must be: 200, or 422 naming one of the route's parameters. */
function check(path: string, answer: Answer): { status: number; parameter?: string; error?: string } {
  const what = `GET ${path} answered ${answer.status} in ${answer.ms.toFixed(0)} ms: ${answer.body.slice(0, 300)}`
  if (answer.status !== 200 && answer.status !== 422) throw new Error(what)
  if (answer.ms >= DEADLINE_MS) throw new Error(what)
  const body = JSON.parse(answer.body)
  const route = path.slice('/analytics/'.length).split('?')[0]!
  if (answer.status === 422) {
    if (!PARAMETERS[route]!.includes(body.parameter) || !String(body.error).startsWith(body.parameter))
      throw new Error(what)
    return { status: 422, parameter: body.parameter, error: body.error }
  }
  if (route === 'stats') {
    const sum = body.series.reduce((a: number, p: { count: number }) => a + p.count, 0)
    if (body.from > body.to || body.total !== sum) throw new Error(what)
  } else if (!Array.isArray(body.items)) throw new Error(what)
  return { status: 200 }
}

describe('read parameters, fuzzed', () => {
  test(`the probe's cases, the bounds in every zone, and 450 random queries (seed ${SEED}): 200 or 422, within ${DEADLINE_MS} ms`, async () => {
    const app = await guardedApp((await testContext()).config, DEADLINE_MS)
    const get = async (path: string) => check(path, await app.get(path, ADMIN))
    try {
      // warm up: the first request compiles the routes and opens the pools
      await app.get('/analytics/stats', ADMIN)

      // the probe's cases: they spun the event loop (a string loop that never ended) or reached
      // Postgres with years it cannot take
      for (const path of [
        '/analytics/stats?from=9999-12-30&to=9999-12-31',
        '/analytics/stats?to=0000-01-15',
        '/analytics/stats?from=0000-01-01&to=0000-01-02',
        '/analytics/stats?to=9999-12-31',
        '/analytics/stats?from=9999-12-31&to=9999-12-31&granularity=hour&tz=Pacific/Kiritimati',
        '/analytics/top?from=9999-12-30&to=9999-12-31',
        '/analytics/top?to=0000-01-15',
      ]) {
        const a = await get(path)
        expect({ path, status: a.status }).toEqual({ path, status: 422 })
        expect(a.error).toContain(`from ${FIRST_DAY} to ${LAST_DAY}`)
      }

      // the first and last accepted days answer in every zone, by day and by hour
      for (const tz of ['UTC', ...EDGE_ZONES, 'Pacific/Apia', 'Asia/Kathmandu']) {
        for (const granularity of ['day', 'hour']) {
          for (const range of [
            `from=${FIRST_DAY}&to=${FIRST_DAY}`,
            `from=${LAST_DAY}&to=${LAST_DAY}`,
            'to=1970-01-03',
          ]) {
            const path = `/analytics/stats?${range}&tz=${encodeURIComponent(tz)}&granularity=${granularity}`
            expect({ path, status: (await get(path)).status }).toEqual({ path, status: 200 })
          }
        }
      }
      for (const range of [`from=${FIRST_DAY}&to=${FIRST_DAY}`, `from=${LAST_DAY}&to=${LAST_DAY}`, 'to=1970-01-03']) {
        const path = `/analytics/top?${range}&limit=100`
        expect({ path, status: (await get(path)).status }).toEqual({ path, status: 200 })
      }
      // and a day either side of them is refused, naming the parameter
      for (const [range, parameter] of [
        [`from=1969-12-31&to=${FIRST_DAY}`, 'from'],
        [`from=${LAST_DAY}&to=3000-01-01`, 'to'],
      ] as const) {
        for (const path of [`/analytics/stats?${range}&tz=-12:00`, `/analytics/top?${range}`]) {
          expect({ path, parameter: (await get(path)).parameter }).toEqual({ path, parameter })
        }
      }

      // integers only in plain decimal digits, for every integer parameter (limit is the only one)
      for (const raw of NOT_DECIMAL) {
        const path = `/analytics/top?limit=${encodeURIComponent(raw)}`
        const a = await get(path)
        expect({ path, status: a.status, parameter: a.parameter }).toEqual({ path, status: 422, parameter: 'limit' })
        expect(a.error).toBe(`limit must be an integer from 1 to 100 in decimal digits (got ${JSON.stringify(raw)})`)
      }
      expect(await get('/analytics/top?limit=%20%2010')).toMatchObject({ status: 422, parameter: 'limit' })

      const { stats, top } = generator(SEED)
      const statuses: Record<number, number> = {}
      for (let i = 0; i < 450; i++) {
        const a = await get(i % 3 === 2 ? top() : stats())
        statuses[a.status] = (statuses[a.status] ?? 0) + 1
      }
      // both outcomes were exercised in quantity
      expect(statuses[200]).toBeGreaterThan(100)
      expect(statuses[422]).toBeGreaterThan(100)
    } finally {
      await app.close()
    }
  }, 120_000)
})
