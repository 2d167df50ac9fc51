/**
 * VIEWER_TOKEN: a token for wall screens and shared links that can look and nothing else. It opens
 * every read, the live feed and the pages' data; flush, metrics and ingest answer it 403, saying
 * why. The admin token keeps working everywhere.
 */
import { describe, expect, test } from 'bun:test'
import { loadConfig } from '../src/config.ts'
import { beaconRequest, ingestRequest, testApp } from './app.ts'

const ADMIN = 'test-admin-token-0123456789'
const VIEWER = 'test-viewer-token-0123456789'

describe('VIEWER_TOKEN', () => {
  test('reads and the live feed take it; flush, metrics and ingest answer 403; the admin token still opens all', async () => {
    const { app } = await testApp({ viewerToken: VIEWER })
    expect((await app.handle(beaconRequest({ event_type: 'page_view' }))).status).toBe(202)
    const as = (token: string, path: string, init: RequestInit = {}) =>
      app.handle(new Request(`http://localhost${path}`, { ...init, headers: { authorization: `Bearer ${token}` } }))

    const reads = [
      '/analytics/stats',
      '/analytics/stats?metric=visitors',
      '/analytics/top?dimension=page',
      '/analytics/dashboard',
      '/analytics/users/u1',
    ]
    for (const path of reads) {
      for (const token of [VIEWER, ADMIN]) {
        const res = await as(token, path)
        expect({ path, token, status: res.status }).toEqual({ path, token, status: 200 })
      }
    }
    // the live feed, by header and by ?token= (what the pages' EventSource-free reader and a kiosk send)
    for (const res of [
      await as(VIEWER, '/analytics/live'),
      await app.handle(new Request(`http://localhost/analytics/live?token=${VIEWER}`)),
    ]) {
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toStartWith('text/event-stream')
      await res.body?.cancel()
    }

    const refused: [string, RequestInit][] = [
      ['/analytics/flush', { method: 'POST' }],
      ['/metrics', {}],
    ]
    for (const [path, init] of refused) {
      const res = await as(VIEWER, path, init)
      expect({ path, status: res.status, body: await res.json() }).toEqual({
        path,
        status: 403,
        body: { error: 'the viewer token can only read: this route needs ADMIN_TOKEN' },
      })
      expect((await as(ADMIN, path, init)).status).toBe(200)
    }
    for (const token of [VIEWER, ADMIN]) {
      const res = await app.handle(ingestRequest([{ event_type: 'user_login' }], { token }))
      expect(res.status).toBe(403)
      expect((await res.json()).error).toBe('events are sent with INGEST_TOKEN, not with the admin or viewer token')
    }
    expect((await app.handle(ingestRequest([{ event_type: 'user_login' }]))).status).toBe(202)
    // anything else is still 401
    expect((await as('not-a-token-of-ours', '/analytics/stats')).status).toBe(401)
  })

  test('without ADMIN_TOKEN the viewer token still reads; admin routes stay shut', async () => {
    const { app } = await testApp({ adminToken: undefined, viewerToken: VIEWER })
    const as = (path: string, init: RequestInit = {}) =>
      app.handle(new Request(`http://localhost${path}`, { ...init, headers: { authorization: `Bearer ${VIEWER}` } }))
    expect((await as('/analytics/stats')).status).toBe(200)
    const flush = await as('/analytics/flush', { method: 'POST' })
    expect(flush.status).toBe(401)
    expect((await flush.json()).error).toBe('this route is disabled until ADMIN_TOKEN is configured')
  })

  test('checked at start: at least 16 characters, and no token may equal another', () => {
    const failure = (env: Record<string, string>) => {
      try {
        loadConfig(env)
      } catch (err) {
        return (err as Error).message
      }
      throw new Error('accepted')
    }
    expect(failure({ VIEWER_TOKEN: 'short' })).toContain('VIEWER_TOKEN: must be a secret of at least 16 characters')
    expect(failure({ ADMIN_TOKEN: ADMIN, VIEWER_TOKEN: ADMIN })).toBe('VIEWER_TOKEN: must differ from ADMIN_TOKEN')
    expect(failure({ VIEWER_TOKEN: VIEWER, INGEST_TOKEN: VIEWER })).toBe('INGEST_TOKEN: must differ from VIEWER_TOKEN')
    expect(loadConfig({ ADMIN_TOKEN: ADMIN, VIEWER_TOKEN: VIEWER }).viewerToken).toBe(VIEWER)
  })
})
