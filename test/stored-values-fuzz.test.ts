/**
 * No browser- or sender-controlled value can stop the flush (invariant I7): the longest and the
 * most random value every stored dimension accepts, from every sender (beacon, pixel, server
 * batch) and every header that is counted (Origin, Referer), goes through a real flush into
 * Postgres, which must take all of it. What is stored is bounded: hosts are host names or
 * `(invalid)`, every text at most MAX_VALUE_BYTES bytes.
 */
import { describe, expect, test } from 'bun:test'
import {
  BEACON_MAX_BYTES,
  CONTROL_CHARACTERS,
  MAX_DIMENSION_VALUE_LENGTH,
  MAX_FEATURE_NAME_LENGTH,
  MAX_RAW_PATH_LENGTH,
} from '../src/events/limits.ts'
import { MAX_VALUE_BYTES } from '../src/events/values.ts'
import { beaconRequest, ingestRequest, pendingTotal, testApp } from './app.ts'
import { prng } from './prng.ts'

const SEED = Number(process.env.FUZZ_SEED ?? 20261206)
const ADMIN = { authorization: 'Bearer test-admin-token-0123456789' }

/** Code points of every width and kind: ASCII, Latin-1, 3-byte CJK, 4-byte emoji, marks, bidi, BOM. */
const RANGES: [number, number][] = [
  [0x20, 0x7e],
  [0xa0, 0xff],
  [0x300, 0x36f],
  [0x4e00, 0x9fff],
  [0x1f300, 0x1f64f],
  [0x202a, 0x202e],
  [0xfeff, 0xfeff],
  [0xffff, 0xffff],
]

function generator(seed: number) {
  const r = prng(seed)
  const codePoint = () => {
    const [lo, hi] = r.pick(RANGES)
    return lo + r.int(hi - lo + 1)
  }
  /** `n` UTF-16 units of random text; `lone` lets in unpaired surrogates. */
  const text = (n: number, lone = true): string => {
    let s = ''
    while (s.length < n) {
      if (lone && r.next() < 0.02) s += String.fromCharCode(0xd800 + r.int(0x800))
      else s += String.fromCodePoint(codePoint())
    }
    const cut = s.length > n ? s.slice(0, n) : s
    return lone ? cut : cut.toWellFormed()
  }
  /** What a header may carry: Latin-1 without controls (TAB and DEL included). */
  const headerText = (n: number): string =>
    Array.from({ length: n }, () =>
      String.fromCharCode(r.pick([0x09, 0x7f, 0x3c, 0x22, 0x2e, ...[0x20 + r.int(0x5f)], 0xa0 + r.int(0x60)])),
    ).join('')
  const long = (max: number) => (r.next() < 0.5 ? max : 1 + r.int(max))
  return { r, text, headerText, long }
}

describe('stored values', () => {
  test(`the longest and most random value of every stored dimension flushes into Postgres (seed ${SEED})`, async () => {
    const { app, deps, db } = await testApp({ countedProperties: ['plan'], trustProxy: { hops: 1 } })
    const { r, text, headerText, long } = generator(SEED)
    let acknowledged = 0
    /** Sends and expects it acknowledged (202, or the pixel's 200): anything else shows its reason. */
    const send = async (request: Request, events: number, status = 202) => {
      const res = await app.handle(request)
      const body = res.status === status ? '' : await res.text()
      expect({ status: res.status, body }).toEqual({ status, body: '' })
      acknowledged += events
    }
    /** A beacon body of one event with `value` as `field`, the value halved until the body fits. */
    const fitted = (event: string, field: string, value: string, more: Record<string, string> = {}) => {
      for (let v = value; ; v = v.slice(0, v.length >> 1)) {
        const body = JSON.stringify({ event_type: event, properties: { ...more, [field]: v } })
        if (Buffer.byteLength(body) <= BEACON_MAX_BYTES) return body
      }
    }
    const printable = (s: string) => s.replace(CONTROL_CHARACTERS, 'x')
    for (let i = 0; i < 40; i++) {
      const ip = `198.51.100.${i % 250}`
      const origin = r.pick([
        `https://${headerText(long(4000))}.example`,
        `https://[${headerText(300)}]`,
        `http://${'x'.repeat(300)}.example:8080`,
      ])
      const page: Record<string, string> =
        r.next() < 0.5 ? { origin } : { referer: `https://${headerText(long(4000))}.example/` }
      const referrer = r.pick([
        `https://${text(long(4000), false)}.example/${text(50)}`,
        `https://${'a'.repeat(63)}.${headerText(200).replace(/[^a-z]/gi, 'b')}.example/`,
        `android-app://${text(300)}`,
        text(long(4096)),
      ])
      const bodies = [
        fitted('page_view', 'path', `/${text(long(MAX_RAW_PATH_LENGTH - 1))}`, { referrer: '' }),
        fitted('page_view', 'referrer', printable(referrer)),
        ...['utm_source', 'utm_medium', 'utm_campaign', 'plan'].map((key) =>
          fitted('page_view', key, text(long(1000)), { referrer: '' }),
        ),
        fitted('feature_used', 'feature_name', printable(text(MAX_FEATURE_NAME_LENGTH, false)), { plan: text(1000) }),
        JSON.stringify({ event_type: 'feature_used', user_id: printable(text(128, false)) }),
      ]
      for (const body of bodies) await send(beaconRequest(body, { ip, raw: true, headers: page }), 1)
      // the pixel: its path from the Referer
      await send(
        new Request('http://localhost/e', {
          headers: {
            'user-agent': beaconRequest({}).headers.get('user-agent')!,
            'x-forwarded-for': ip,
            referer: `https://shop.example/${encodeURIComponent(text(200, false))}`,
          },
        }),
        1,
        200,
      )
    }
    // a back end's batch: any host name the schema takes, any value
    const hostChars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.:[]_-'
    const server = Array.from({ length: 120 }, () => ({
      event_type: r.pick(['page_view', 'feature_used', 'user_signup']),
      user_id: printable(text(128, false)),
      properties: {
        path: printable(`/${text(long(MAX_RAW_PATH_LENGTH - 1), false)}`),
        referrer: printable(`https://${text(long(4000), false)}.example/`),
        hostname: Array.from({ length: long(253) }, () => r.pick([...hostChars])).join(''),
        feature_name: printable(text(MAX_FEATURE_NAME_LENGTH, false)),
        utm_campaign: text(1000),
        plan: text(1000),
      },
    }))
    for (const batch of [server.slice(0, 60), server.slice(60)]) {
      const res = await app.handle(ingestRequest(batch))
      expect(res.status).toBe(202)
      acknowledged += batch.length
    }

    const flushed = await app.handle(
      new Request('http://localhost/analytics/flush', { method: 'POST', headers: ADMIN }),
    )
    expect({ status: flushed.status, body: await flushed.json() }).toMatchObject({ status: 200 })
    expect(await deps.flusher.held()).toEqual([])
    expect(await pendingTotal(deps)).toBe(0)

    const pg = async (sql: string) => (await db.pool.query(sql)).rows as Record<string, unknown>[]
    expect(
      await pg(`SELECT coalesce(sum(count), 0)::int AS n FROM analytics_daily WHERE event_type <> 'visit'`),
    ).toEqual([{ n: acknowledged }])
    // every text stored is bounded in bytes
    for (const [table, column] of [
      ['analytics_page_daily', 'path'],
      ['analytics_feature_daily', 'feature_name'],
      ['analytics_user_daily', 'user_id'],
      ['analytics_dimension_daily', 'value'],
    ]) {
      const [{ most }] = (await pg(`SELECT coalesce(max(octet_length(${column})), 0)::int AS most FROM ${table}`)) as [
        { most: number },
      ]
      expect({ table, most: most <= MAX_VALUE_BYTES }).toEqual({ table, most: true })
    }
    // hosts are host names, or say they were not one
    const hosts = await pg(
      `SELECT DISTINCT value FROM analytics_dimension_daily WHERE dimension IN ('hostname', 'source')`,
    )
    expect(hosts.length).toBeGreaterThan(1)
    for (const { value } of hosts as { value: string }[]) {
      expect(value).toMatch(
        /^(\(invalid\)|\(unknown\)|\(direct\)|[a-z0-9_.-]{1,253}|\[[0-9a-f:.]+\]|android-app:.+|[A-Z].*)$/,
      )
      expect(value.length).toBeLessThanOrEqual(253)
    }
    // dimension values keep their character limit too
    const [{ longest }] = (await pg(
      `SELECT max(char_length(value))::int AS longest FROM analytics_dimension_daily WHERE dimension LIKE 'utm_%' OR dimension LIKE 'prop:%'`,
    )) as [{ longest: number }]
    expect(longest).toBeLessThanOrEqual(MAX_DIMENSION_VALUE_LENGTH)
  }, 120_000)
})
