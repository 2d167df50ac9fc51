/**
 * A connection to the live feed (`GET /analytics/live`), for the dashboard's strip and the live
 * screen alike: it connects, reads the stream, retries and reports, and hands over each
 * `snapshot` and `counts` as the server sent it.
 *
 * Read with fetch, not EventSource: the token travels in a header (never in a URL or an access
 * log), a refused token (401) is seen as such, a refusal no retry changes (such as 400 for an
 * unknown name in `?types=`) stops it with the server's reason where an EventSource would retry
 * forever, and the heartbeats are seen too, so a connection gone silent is replaced instead of
 * showing frozen numbers. A network error, a 5xx, 408 or 429 is retried, after `Retry-After`
 * when the answer has one, else with a growing, jittered backoff.
 *
 * @example
 * const stop = openFeed({ token: readToken, onSnapshot, onCounts, onStatus: show, onRefused: signOut })
 */
import { parseSse } from '../live/sse.ts'
import type { CountsData, SnapshotData } from '../live/state.ts'
import { errorOf } from './api.ts'

export type FeedStatus = 'connecting' | 'live' | 'reconnecting' | 'stopped'

/** `visitors_now` (the last five minutes) is sent by servers that count it. */
export type WithVisitorsNow<T> = T & { visitors_now?: number }

export interface FeedOptions {
  token: () => string | undefined
  /** `?types=` as the page was given it; the feed names what it cannot use */
  types?: string | null
  /** the site watched (an id or a domain); the only one when absent */
  site?: string | null
  onSnapshot: (data: WithVisitorsNow<SnapshotData>) => void
  onCounts: (data: WithVisitorsNow<CountsData>) => void
  /** `reason` says why the feed stopped for good (a refusal no retry changes) */
  onStatus: (status: FeedStatus, reason?: string) => void
  onRefused: () => void
}

const FEED = 'analytics/live'
/** heartbeats come every 4 s: this long without a byte, the connection is dead */
const SILENCE_MS = 15_000
/** until the server says otherwise (`retry:`) */
const FIRST_RETRY_MS = 1_000
const MAX_RETRY_MS = 30_000
/** refusals a later try can change; any other 4xx stops the feed */
const RETRIED = [408, 429]

export function openFeed(options: FeedOptions): () => void {
  let lastId = ''
  let retryMs = FIRST_RETRY_MS
  let failures = 0
  let stopped = false
  let abort: AbortController | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  const query = new URLSearchParams()
  if (options.site) query.set('site', options.site)
  if (options.types) query.set('types', options.types)
  const url = query.size > 0 ? `${FEED}?${query}` : FEED

  function retry(afterMs?: number) {
    abort?.abort()
    if (stopped) return
    options.onStatus('reconnecting')
    failures++
    const backoff = afterMs ?? Math.min(MAX_RETRY_MS, retryMs * 2 ** Math.min(failures - 1, 5))
    // jitter, so a room of screens does not come back in lockstep after a restart
    timer = setTimeout(connect, backoff * (0.75 + Math.random() * 0.5))
  }

  async function connect() {
    const token = options.token()
    if (!token || stopped) return
    const controller = new AbortController()
    abort = controller
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'text/event-stream' }
    if (lastId) headers['last-event-id'] = lastId
    let res: Response
    try {
      res = await fetch(url, { headers, cache: 'no-store', signal: controller.signal })
    } catch {
      if (abort === controller) retry()
      return
    }
    if (res.status === 401) {
      stop()
      options.onRefused()
      return
    }
    if (res.status >= 400 && res.status < 500 && !RETRIED.includes(res.status)) {
      const { reason } = await errorOf(res)
      if (abort !== controller) return
      stop()
      options.onStatus('stopped', reason)
      return
    }
    if (!res.ok || !res.body) {
      const wait = Number(res.headers.get('retry-after'))
      retry(Number.isFinite(wait) && wait > 0 ? wait * 1000 : undefined)
      return
    }
    let lastByte = Date.now()
    const watchdog = setInterval(() => {
      if (Date.now() - lastByte > SILENCE_MS) controller.abort()
    }, 1000)
    try {
      const reader = res.body.getReader()
      const decoder = new TextDecoder()
      let rest = ''
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        lastByte = Date.now()
        const parsed = parseSse(rest + decoder.decode(value, { stream: true }))
        rest = parsed.rest
        for (const m of parsed.messages) {
          if (m.id !== undefined) lastId = m.id
          if (m.retry !== undefined && Number.isInteger(m.retry) && m.retry > 0) retryMs = m.retry
          if (m.data === undefined) continue
          if (m.event === 'snapshot') {
            failures = 0
            options.onSnapshot(JSON.parse(m.data))
            options.onStatus('live')
          } else if (m.event === 'counts') options.onCounts(JSON.parse(m.data))
        }
      }
    } catch {
      // aborted by the watchdog or dropped by the network: both reconnect below
    } finally {
      clearInterval(watchdog)
    }
    if (abort === controller) retry()
  }

  function stop() {
    stopped = true
    clearTimeout(timer)
    abort?.abort()
  }

  const online = () => {
    if (!stopped && failures > 0) {
      clearTimeout(timer)
      connect()
    }
  }
  window.addEventListener('online', online)
  options.onStatus('connecting')
  connect()
  return () => {
    window.removeEventListener('online', online)
    stop()
  }
}
