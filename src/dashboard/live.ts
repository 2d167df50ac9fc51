/**
 * Today's counts (the day of TIME_ZONE) from the live feed (`GET /analytics/live`), kept current
 * without polling.
 *
 * Read with fetch, as the live screen does, not EventSource: the token travels in a header
 * (never in a URL), a refused token (401) is seen as such, and the heartbeats are seen too, so a
 * connection gone silent is replaced instead of showing frozen numbers.
 *
 * @example
 * const stop = openLive({ token: readToken, onToday: render, onStatus: show, onRefused: signOut })
 */
import type { EventType } from '../events/types.ts'
import { parseSse } from '../live/sse.ts'
import type { CountsData, SnapshotData } from '../live/state.ts'

export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'stopped'

/** `visitors_now` (the last five minutes) is sent by servers that count it. */
type WithVisitorsNow<T> = T & { visitors_now?: number }

export interface LiveToday {
  /** the day of TIME_ZONE (of UTC from a server that does not send it) */
  day: string
  visitors: number
  visitorsNow?: number
  totals: Partial<Record<EventType, number>>
}

export interface LiveOptions {
  token: () => string | undefined
  onToday: (today: LiveToday) => void
  /** `reason` says why the feed stopped for good (a refusal no retry changes) */
  onStatus: (status: LiveStatus, reason?: string) => void
  onRefused: () => void
}

const FEED = 'analytics/live'
/** heartbeats come every 4 s: this long without a byte, the connection is dead */
const SILENCE_MS = 15_000
const FIRST_RETRY_MS = 1_000
const MAX_RETRY_MS = 30_000
/** refusals a later try can change; any other 4xx stops the feed */
const RETRIED = [408, 429]

export function openLive(options: LiveOptions): () => void {
  let today: LiveToday | undefined
  let lastId = ''
  let failures = 0
  let stopped = false
  let abort: AbortController | undefined
  let timer: ReturnType<typeof setTimeout> | undefined

  function retry(afterMs?: number) {
    abort?.abort()
    if (stopped) return
    options.onStatus('reconnecting')
    failures++
    const backoff = afterMs ?? Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(failures - 1, 5))
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
      res = await fetch(FEED, { headers, cache: 'no-store', signal: controller.signal })
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
      stop()
      options.onStatus('stopped', `HTTP ${res.status}`)
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
          if (m.data !== undefined && (m.event === 'snapshot' || m.event === 'counts')) handle(m.event, m.data)
        }
      }
    } catch {
      // aborted by the watchdog or dropped by the network: both reconnect below
    } finally {
      clearInterval(watchdog)
    }
    if (abort === controller) retry()
  }

  /** whether the server sends `today` (the day of TIME_ZONE); older servers only send UTC hours */
  let zoned = false

  function handle(event: 'snapshot' | 'counts', data: string) {
    if (event === 'snapshot') {
      const s = JSON.parse(data) as WithVisitorsNow<SnapshotData>
      zoned = s.today !== undefined
      const totals: LiveToday['totals'] = {}
      if (s.today) Object.assign(totals, s.today.totals)
      else for (const [type, t] of Object.entries(s.types)) totals[type as EventType] = t.total
      today = { day: s.today?.day ?? s.day, visitors: s.visitors, visitorsNow: s.visitors_now, totals }
      failures = 0
      options.onStatus('live')
    } else if (today) {
      const c = JSON.parse(data) as WithVisitorsNow<CountsData>
      let totals = today.totals
      let day = today.day
      if (zoned) {
        // a new day of TIME_ZONE comes whole; otherwise only the changed types come
        if (c.today) {
          totals = c.today.day === day ? { ...totals, ...c.today.totals } : { ...c.today.totals }
          day = c.today.day
        }
      } else {
        totals = { ...totals }
        for (const [type, t] of Object.entries(c.types)) totals[type as EventType] = t.total
        day = c.day
      }
      today = {
        day,
        visitors: c.visitors ?? today.visitors,
        visitorsNow: c.visitors_now ?? today.visitorsNow,
        totals,
      }
    } else return
    options.onToday(today)
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
