/**
 * What a counted value may be (src/events/values.ts), and that every sender's values are scrubbed
 * of e-mail addresses and tokens on the server, not only by the tracker.
 */
import { describe, expect, test } from 'bun:test'
import { dayOf } from '../src/counters/keys.ts'
import { normalizePath } from '../src/events/path.ts'
import { bounded, hostname, MAX_VALUE_BYTES, scrubEmails, scrubPath } from '../src/events/values.ts'
import { originHost, pageHost } from '../src/events/visit.ts'
import { scrub } from '../src/tracker/page.ts'
import { BROWSER_UA, beaconRequest, hash, ingestRequest, testApp } from './app.ts'
import { prng } from './prng.ts'

const bytes = (s: string) => Buffer.byteLength(s)

describe('bounded', () => {
  test('cuts to the characters and the bytes, never inside a character', () => {
    expect(bounded('abc', 2)).toBe('ab')
    expect(bounded('a😀', 2)).toBe('a')
    expect(bounded('€'.repeat(600), 512)).toBe('€'.repeat(341))
    expect(bytes(bounded('€'.repeat(600), 512))).toBeLessThanOrEqual(MAX_VALUE_BYTES)
    expect(bounded('😀'.repeat(600), 2000)).toBe('😀'.repeat(256))
    expect(bounded('x'.repeat(2000), 5000)).toHaveLength(MAX_VALUE_BYTES)
  })
  test('a lone surrogate becomes U+FFFD, as it would on its way to Redis', () => {
    expect(bounded('a\ud800b', 10)).toBe('a\ufffdb')
    expect(bounded('a\udc00', 10)).toBe('a\ufffd')
  })
  test('random text of any length: at most the characters and MAX_VALUE_BYTES bytes, well formed', () => {
    const r = prng(11)
    for (let i = 0; i < 500; i++) {
      const s = Array.from({ length: r.int(3000) }, () => String.fromCharCode(r.int(0x10000))).join('')
      const max = 1 + r.int(2000)
      const out = bounded(s, max)
      expect(out.length).toBeLessThanOrEqual(max)
      expect(bytes(out)).toBeLessThanOrEqual(MAX_VALUE_BYTES)
      expect(out.isWellFormed()).toBe(true)
    }
  })
})

describe('hostname', () => {
  test.each([
    ['Shop.Example.COM', 'shop.example.com'],
    ['shop.example.com.', 'shop.example.com'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['_dmarc.example.com', '_dmarc.example.com'],
    ['127.0.0.1', '127.0.0.1'],
    ['[::1]', '[::1]'],
    ['[2001:DB8::1]', '[2001:db8::1]'],
    ['localhost', 'localhost'],
  ])('%s is %s', (raw, want) => expect(hostname(raw)).toBe(want))
  test.each([
    [''],
    ['.'],
    ['a..b'],
    ['-a.example'],
    ['a.-b.example'],
    [`${'a'.repeat(64)}.example`],
    [`${'a.'.repeat(127)}com`],
    ['a b.example'],
    ['a\tb.example'],
    ['a\u007fb.example'],
    ['<b>x</b>.example'],
    ['bücher.example'],
    ['[::1'],
    ['[zz]'],
  ])('%j is not a host name', (raw) => expect(hostname(raw)).toBeUndefined())

  test('Origin and Referer: a host, nothing, or (invalid), never what was sent', () => {
    expect(originHost('https://Shop.Example.com:8443')).toBe('shop.example.com')
    expect(originHost('http://[::1]:3000')).toBe('[::1]')
    expect(originHost(`https://${'x'.repeat(4000)}.example`)).toBe('(invalid)')
    expect(originHost('https://a\tb<script>.example')).toBe('(invalid)')
    expect(originHost('https://[::1')).toBe('(invalid)')
    expect(originHost('null')).toBe('')
    expect(pageHost(new Headers({ referer: `https://${'y'.repeat(300)}.example/a` }))).toBe('(invalid)')
    expect(pageHost(new Headers({ referer: 'https://shop.example/a' }))).toBe('shop.example')
    expect(pageHost(new Headers({ referer: 'not a url' }))).toBe('')
  })
})

describe('scrubbing', () => {
  test('paths lose e-mail addresses and tokens, and keep slugs', () => {
    expect(scrubPath('/account/carol@example.com/reset/77aa88bb99cc00dd11ee22ff')).toBe('/account/:x/reset/:x')
    expect(scrubPath('/u/carol%40example.com')).toBe('/u/:x')
    expect(scrubPath('/blog/2024-annual-report')).toBe('/blog/2024-annual-report')
    expect(scrubPath('/docs/getting_started_guide')).toBe('/docs/getting_started_guide')
    expect(scrubPath('/t/eyJhbGciOiJIUzI1NiJ9x')).toBe('/t/:x')
    expect(normalizePath('https://shop.example/a/bob@example.org/?token=abc')).toBe('/a/:x')
  })
  test("the server's linear scrub answers as the tracker's scrub, on random paths", () => {
    const r = prng(5)
    const parts = [
      '/',
      '?',
      '&',
      '=',
      '@',
      '%40',
      'a',
      'Z',
      '0',
      '9',
      '_',
      '-',
      '.',
      'é',
      'abcdefghijklmnop',
      '1234567890abcdef',
    ]
    for (let i = 0; i < 5000; i++) {
      const s = Array.from({ length: r.int(30) }, () => r.pick(parts)).join('')
      expect({ s, out: scrubPath(s) }).toEqual({ s, out: scrub(s) })
    }
  })
  test('a crafted long path is scrubbed in linear time', () => {
    const crafted = `/${'a'.repeat(2047)}`
    const started = performance.now()
    for (let i = 0; i < 100; i++) scrubPath(crafted)
    // a quadratic scan of 2,048 characters takes milliseconds each; this is generous
    expect(performance.now() - started).toBeLessThan(1000)
  })
  test('other values lose e-mail addresses only', () => {
    expect(scrubEmails('dave@example.com')).toBe(':x')
    expect(scrubEmails('mail dave%40example.com now')).toBe('mail :x now')
    expect(scrubEmails('spring_sale_2026_newsletter')).toBe('spring_sale_2026_newsletter')
    expect(scrubEmails('meet @ home')).toBe('meet @ home')
    expect(scrubEmails('@handle')).toBe('@handle')
  })

  test('every sender: the pixel, a beacon and a server batch store no e-mail address or token', async () => {
    const { app, deps } = await testApp({ countedProperties: ['plan'] })
    const shard = deps.keys.shards[0]!
    const day = dayOf(Date.now())
    const pixel = await app.handle(
      new Request('http://localhost/e', {
        headers: {
          'user-agent': BROWSER_UA,
          referer: 'https://shop.example/account/carol@example.com/reset/77aa88bb99cc00dd11ee',
        },
      }),
    )
    expect(pixel.status).toBe(200)
    const beacon = await app.handle(
      beaconRequest(
        {
          event_type: 'page_view',
          properties: {
            path: '/invite/erin@example.com',
            referrer: '',
            utm_campaign: 'dave@example.com',
            plan: 'frank@example.com',
          },
          // another visitor than the pixel's, so that this view begins a visit with its campaign
        },
        { headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0' } },
      ),
    )
    expect(beacon.status).toBe(202)
    const batch = await app.handle(
      ingestRequest([
        { event_type: 'feature_used', properties: { feature_name: 'export for grace@example.com' } },
        { event_type: 'page_view', properties: { path: '/reset?t=1&x=2/0123456789abcdef0123' } },
      ]),
    )
    expect(batch.status).toBe(202)
    const stored = JSON.stringify([
      await hash(deps, shard.pending('p')),
      await hash(deps, shard.pending('x')),
      await hash(deps, shard.pending('f')),
    ])
    expect(stored).not.toContain('@')
    expect(stored).not.toContain('77aa88bb')
    expect(stored).not.toContain('0123456789abcdef')
    expect(await hash(deps, shard.pending('p'))).toMatchObject({
      [`${day}|/account/:x/reset/:x`]: 1,
      [`${day}|/invite/:x`]: 1,
    })
    expect(await hash(deps, shard.pending('x'))).toMatchObject({
      [`${day}|visit|utm_campaign|:x`]: 1,
      [`${day}|page_view|prop:plan|:x`]: 1,
    })
    expect(await hash(deps, shard.pending('f'))).toMatchObject({ [`${day}|feature_used|export for :x`]: 1 })
  })

  test('a beacon from an Origin that is no host name counts its visit under (invalid)', async () => {
    const { app, deps } = await testApp()
    const day = dayOf(Date.now())
    const res = await app.handle(
      beaconRequest(
        { event_type: 'page_view', properties: { path: '/', referrer: '' } },
        { headers: { origin: `https://${'q'.repeat(4000)}.example` } },
      ),
    )
    expect(res.status).toBe(202)
    const x = await hash(deps, deps.keys.shards[0]!.pending('x'))
    expect(x[`${day}|visit|hostname|(invalid)`]).toBe(1)
    expect(Object.keys(x).every((f) => f.length < 200)).toBe(true)
  })
})
