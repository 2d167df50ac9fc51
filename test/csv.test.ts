/**
 * format=csv on /analytics/stats and /analytics/top: the same rows as the JSON answer, a header
 * row, every field quoted, and nothing a spreadsheet would split or run as a formula.
 */
import { describe, expect, test } from 'bun:test'
import { csvFileName, parseCsv } from '../src/csv.ts'
import { beaconRequest, ingestRequest, testApp } from './app.ts'

const ADMIN = { authorization: 'Bearer test-admin-token-0123456789' }

describe('format=csv', () => {
  test('stats and top answer text/csv with the JSON answer’s rows; a formula-like name is kept as text', async () => {
    const { app } = await testApp({ countedProperties: ['plan'] })
    const events = [
      ...Array.from({ length: 3 }, () => ({ event_type: 'user_signup', properties: { plan: 'pro, yearly' } })),
      ...Array.from({ length: 2 }, () => ({ event_type: 'user_signup', properties: { plan: '=HYPERLINK("x")' } })),
      { event_type: 'user_signup', properties: { plan: 'say "hi"\nthere' } },
    ]
    expect((await app.handle(ingestRequest(events))).status).toBe(202)
    const get = (path: string) => app.handle(new Request(`http://localhost${path}`, { headers: ADMIN }))

    const statsPath = '/analytics/stats?event_type=user_signup&granularity=hour'
    const statsJson = await (await get(statsPath)).json()
    const statsCsv = await get(`${statsPath}&format=csv`)
    expect(statsCsv.status).toBe(200)
    expect(statsCsv.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    expect(statsCsv.headers.get('content-disposition')).toBe(
      `attachment; filename="edge-analytics-stats-events-user_signup-hour-${statsJson.from}-${statsJson.to}.csv"`,
    )
    expect(parseCsv(await statsCsv.text())).toEqual([
      ['t', 'count'],
      ...statsJson.series.map((p: { t: string; count: number }) => [p.t, String(p.count)]),
    ])

    const topPath = '/analytics/top?dimension=prop:plan&event_type=user_signup'
    const topJson = await (await get(topPath)).json()
    expect(topJson.items).toHaveLength(3)
    const topCsv = await get(`${topPath}&format=csv`)
    expect(topCsv.headers.get('content-disposition')).toBe(
      `attachment; filename="${csvFileName(['top', 'prop:plan'], topJson.from, topJson.to)}"`,
    )
    expect(topCsv.headers.get('content-disposition')).toBe(
      `attachment; filename="edge-analytics-top-prop-plan-${topJson.from}-${topJson.to}.csv"`,
    )
    const text = await topCsv.text()
    expect(parseCsv(text)).toEqual([
      ['name', 'count'],
      ...topJson.items.map((i: { name: string; count: number }) => [
        i.name.startsWith('=') ? `'${i.name}` : i.name,
        String(i.count),
      ]),
    ])
    expect(text).toStartWith('"name","count"\r\n"pro, yearly","3"\r\n')
    expect(text).toContain(`"'=HYPERLINK(""x"")","2"\r\n`)

    const bad = await get('/analytics/top?dimension=page&format=xml')
    expect(bad.status).toBe(422)
    expect(await bad.json()).toEqual({ error: 'format must be json or csv', parameter: 'format' })
  })

  test('hostile names sent by a browser come out quoted and, where a spreadsheet would run them, after a quote mark', async () => {
    const { app } = await testApp()
    const get = (path: string) => app.handle(new Request(`http://localhost${path}`, { headers: ADMIN }))
    const send = async (body: unknown) => expect((await app.handle(beaconRequest(body))).status).toBe(202)

    // a campaign that splits into a formula where `;` separates cells, flushed to Postgres
    await send({ event_type: 'page_view', properties: { path: '/', referrer: '', utm_campaign: 'x;=1+1' } })
    const flushed = await app.handle(
      new Request('http://localhost/analytics/flush', { method: 'POST', headers: ADMIN }),
    )
    expect((await flushed.json()).flushed).toBeGreaterThan(0)
    // feature names that are formulas behind a space, a no-break space, a zero-width space, or in
    // fullwidth, still pending in Redis
    for (const name of [' =1+1', '\u00a0=1+1', '\u200b=1+1', '\uff1d1+1', '\uff0b1', '\uff0d1', '\uff20x'])
      await send({ event_type: 'feature_used', properties: { feature_name: name } })

    const campaigns = await get('/analytics/top?dimension=utm_campaign&format=csv')
    expect(await campaigns.text()).toBe('"name","count"\r\n"x;=1+1","1"\r\n')

    const features = await (await get('/analytics/top?dimension=feature&format=csv')).text()
    const lines = features.split('\r\n')
    expect(lines[0]).toBe('"name","count"')
    expect(lines.slice(1).sort()).toEqual(
      [
        '',
        ...[' =1+1', '\u00a0=1+1', '\u200b=1+1', '\uff1d1+1', '\uff0b1', '\uff0d1', '\uff20x'].map(
          (n) => `"'${n}","1"`,
        ),
      ].sort(),
    )
  })
})
