import { describe, expect, test } from 'bun:test'
import { beaconRequest, ingestRequest, testApp } from './app.ts'
import { feedOf } from './live-feed.ts'

const ADMIN = { authorization: 'Bearer test-admin-token-0123456789' }

/** A sample's value from Prometheus text, 0 when absent. */
function sample(text: string, name: string, labels = ''): number {
  const escaped = `${name}${labels}`.replace(/[{}"]/g, (c) => `\\${c}`)
  const m = new RegExp(`^${escaped} ([\\d.e+-]+)$`, 'm').exec(text)
  return m ? Number(m[1]) : 0
}

describe('GET /metrics', () => {
  test('exposes the service counters in Prometheus text, and they move with traffic', async () => {
    const { app } = await testApp()
    const scrape = async () => {
      const res = await app.handle(new Request('http://localhost/metrics', { headers: ADMIN }))
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toStartWith('text/plain')
      return res.text()
    }
    const before = await scrape()
    for (const name of [
      'analytics_group_commit_requests',
      'analytics_group_commit_seconds',
      'analytics_flush_runs_total',
      'analytics_live_clients',
      'analytics_flush_waiting_batches',
      'analytics_flush_last_success_timestamp_seconds',
      'process_resident_memory_bytes',
    ]) {
      expect(before).toContain(`# TYPE ${name}`)
    }

    for (let i = 0; i < 3; i++)
      await app.handle(beaconRequest([{ event_type: 'page_view' }, { event_type: 'asset_shared' }]))
    await app.handle(beaconRequest({ event_type: 'page_view' }, { headers: { 'user-agent': 'Googlebot/2.1' } }))
    await app.handle(beaconRequest({ event_type: 'nope' }))
    await app.handle(ingestRequest([{ event_type: 'user_login' }]))
    await app.handle(ingestRequest([{ event_type: 'user_login' }], { token: 'wrong-token-wrong-token' }))
    const live = await app.handle(new Request('http://localhost/analytics/live', { headers: ADMIN }))
    const feed = feedOf(live)
    await app.handle(new Request('http://localhost/analytics/flush', { method: 'POST', headers: ADMIN }))

    const after = await scrape()
    expect(sample(after, 'analytics_events_accepted_total', '{source="browser"}')).toBe(6)
    expect(sample(after, 'analytics_events_accepted_total', '{source="server"}')).toBe(1)
    expect(sample(after, 'analytics_events_rejected_total', '{reason="bot"}')).toBe(1)
    expect(sample(after, 'analytics_events_rejected_total', '{reason="invalid"}')).toBe(1)
    expect(sample(after, 'analytics_events_rejected_total', '{reason="unauthorized"}')).toBe(1)
    expect(sample(after, 'analytics_group_commit_requests_count')).toBeGreaterThanOrEqual(1)
    expect(sample(after, 'analytics_group_commit_requests_sum')).toBe(4)
    expect(sample(after, 'analytics_flush_runs_total', '{result="ok"}')).toBe(1)
    expect(sample(after, 'analytics_flush_counters_total')).toBeGreaterThan(0)
    expect(sample(after, 'analytics_flush_waiting_batches')).toBe(0)
    expect(sample(after, 'analytics_flush_last_success_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 60)
    expect(sample(after, 'analytics_live_clients')).toBe(1)
    await feed.close()
    expect(sample(after, 'process_resident_memory_bytes')).toBeGreaterThan(0)
  })
})
