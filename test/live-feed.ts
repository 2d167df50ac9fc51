/**
 * A test client of the live feed over real HTTP (fetch streaming), plus beacons to move it.
 */
import { type ParsedSse, parseSse } from '../src/live/sse.ts'
import type { CountsData, SnapshotData } from '../src/live/state.ts'
import { BROWSER_UA } from './app.ts'

export const ADMIN = 'test-admin-token-0123456789'

export interface Feed {
  response: Response
  /** the next block (a message or a comment), or throws after `timeoutMs` */
  next(timeoutMs?: number): Promise<ParsedSse & { at: number }>
  /** the next block with data (skipping comments and the retry preamble) */
  nextEvent(timeoutMs?: number): Promise<ParsedSse & { at: number }>
  /** true when the server ended the stream */
  ended(): boolean
  close(): Promise<void>
}

export async function openFeed(
  base: string,
  init: { query?: string; token?: string | null; headers?: Record<string, string> } = {},
): Promise<Feed> {
  const token = init.token === undefined ? ADMIN : init.token
  const response = await fetch(`${base}/analytics/live${init.query ?? ''}`, {
    headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...init.headers },
  })
  return feedOf(response)
}

export function feedOf(response: Response): Feed {
  const reader = response.body!.getReader()
  const decoder = new TextDecoder()
  const queue: (ParsedSse & { at: number })[] = []
  let rest = ''
  let done = false

  async function next(timeoutMs = 5000): Promise<ParsedSse & { at: number }> {
    const deadline = Date.now() + timeoutMs
    while (queue.length === 0) {
      if (done) throw new Error('the stream ended')
      let timer: Timer | undefined
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now()))
      })
      const read = await Promise.race([reader.read(), timeout])
      clearTimeout(timer)
      if (read === 'timeout') throw new Error(`no SSE block within ${timeoutMs} ms`)
      if (read.done) {
        done = true
        continue
      }
      const parsed = parseSse(rest + decoder.decode(read.value, { stream: true }))
      rest = parsed.rest
      const at = Date.now()
      for (const m of parsed.messages) queue.push({ ...m, at })
    }
    return queue.shift()!
  }

  return {
    response,
    next,
    async nextEvent(timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const block = await next(Math.max(1, deadline - Date.now()))
        if (block.data !== undefined) return block
      }
    },
    ended: () => done,
    async close() {
      done = true
      await reader.cancel().catch(() => {})
    },
  }
}

export const snapshotOf = (m: ParsedSse): SnapshotData => {
  if (m.event !== 'snapshot') throw new Error(`expected a snapshot, got ${m.event}: ${m.data}`)
  return JSON.parse(m.data!) as SnapshotData
}

export const countsOf = (m: ParsedSse): CountsData => {
  if (m.event !== 'counts') throw new Error(`expected counts, got ${m.event}: ${m.data}`)
  return JSON.parse(m.data!) as CountsData
}

/** Sends `n` browser events of `type` to a running server and waits for the 202. */
export async function sendBeacons(base: string, type: string, n: number): Promise<number> {
  const events = Array.from({ length: n }, () => ({ event_type: type, properties: { path: '/live-test' } }))
  const res = await fetch(`${base}/e`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain;charset=UTF-8', 'user-agent': BROWSER_UA },
    body: JSON.stringify(events),
  })
  if (res.status !== 202) throw new Error(`beacon answered ${res.status}: ${await res.text()}`)
  return Date.now()
}
