/**
 * format=csv on /analytics/stats and /analytics/top: the same rows as the JSON answer, a header
 * row, and nothing a spreadsheet would run as a formula.
 */
import { describe, expect, test } from 'bun:test'
import { parseCsv } from '../src/csv.ts'
import { ingestRequest, testApp } from './app.ts'

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
    expect(statsCsv.headers.get('content-disposition')).toMatch(
      /^attachment; filename="events_user_signup_hour_\d{4}-\d\d-\d\d_\d{4}-\d\d-\d\d\.csv"$/,
    )
    expect(parseCsv(await statsCsv.text())).toEqual([
      ['t', 'count'],
      ...statsJson.series.map((p: { t: string; count: number }) => [p.t, String(p.count)]),
    ])

    const topPath = '/analytics/top?dimension=prop:plan&event_type=user_signup'
    const topJson = await (await get(topPath)).json()
    expect(topJson.items).toHaveLength(3)
    const text = await (await get(`${topPath}&format=csv`)).text()
    expect(parseCsv(text)).toEqual([
      ['name', 'count'],
      ...topJson.items.map((i: { name: string; count: number }) => [
        i.name.startsWith('=') ? `'${i.name}` : i.name,
        String(i.count),
      ]),
    ])
    expect(text).toStartWith('name,count\r\n"pro, yearly",3\r\n')
    expect(text).toContain(`"'=HYPERLINK(""x"")",2\r\n`)

    const bad = await get('/analytics/top?dimension=page&format=xml')
    expect(bad.status).toBe(422)
    expect(await bad.json()).toEqual({ error: 'format must be json or csv', parameter: 'format' })
  })
})
