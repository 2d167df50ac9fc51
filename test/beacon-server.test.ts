import { describe, expect, setDefaultTimeout, test } from 'bun:test'
import { BROWSER_UA } from './app.ts'
import { startServerProcess } from './server-process.ts'

// this file starts processes: bun's 5 s default is too short on a busy machine
setDefaultTimeout(30_000)

const ADMIN = { authorization: 'Bearer test-admin-token-0123456789' }

describe('POST /e on the listening server (native route)', () => {
  test('counts, answers CORS and clear errors, same as through Elysia', async () => {
    const server = await startServerProcess()
    try {
      const post = (body: string, headers: Record<string, string> = {}) =>
        fetch(`${server.url}/e`, {
          method: 'POST',
          headers: { 'content-type': 'text/plain;charset=UTF-8', 'user-agent': BROWSER_UA, ...headers },
          body,
        })
      const ok = await post(JSON.stringify({ event_type: 'page_view', properties: { path: '/x' } }), {
        origin: 'https://shop.example.com',
      })
      expect(ok.status).toBe(202)
      expect(ok.headers.get('access-control-allow-origin')).toBe('https://shop.example.com')
      expect(await ok.text()).toBe('')
      const many = await Promise.all(
        Array.from({ length: 50 }, () =>
          post(JSON.stringify([{ event_type: 'page_view' }, { event_type: 'asset_shared' }])),
        ),
      )
      expect(many.every((r) => r.status === 202)).toBe(true)

      const invalid = await post(JSON.stringify({ event_type: 'user_signup' }))
      expect(invalid.status).toBe(422)
      expect((await invalid.json()).errors[0].field).toBe('event_type')
      const big = await post(JSON.stringify({ event_type: 'page_view', properties: { x: 'y'.repeat(9000) } }))
      expect(big.status).toBe(413)
      const wrongType = await post('{}', { 'content-type': 'application/xml' })
      expect(wrongType.status).toBe(415)
      expect(await wrongType.json()).toEqual({ error: 'send the body as text/plain or application/json' })

      // the preflight for application/json goes through @elysiajs/cors
      const preflight = await fetch(`${server.url}/e`, {
        method: 'OPTIONS',
        headers: { origin: 'https://a.example', 'access-control-request-method': 'POST' },
      })
      expect(preflight.status).toBe(204)
      expect(preflight.headers.get('access-control-allow-origin')).toBe('https://a.example')

      const stats = await (await fetch(`${server.url}/analytics/stats?granularity=hour`, { headers: ADMIN })).json()
      expect(stats.total).toBe(101)
    } finally {
      await server.stop()
    }
  })
})
