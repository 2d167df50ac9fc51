/**
 * Reads of the JSON API with the token in a header. Identical reads share one request: the
 * numbers and the chart ask for the same series, and back or forward within a minute shows the
 * view again without asking. A refused token (401, or 403) signs the page out, wherever it was asked.
 *
 * A token no read has yet been answered for is tried with one read before any other goes out:
 * the page asks for a dozen reads at once, and a wrong token would otherwise be sent (and
 * refused) a dozen times before the sign-in form came back.
 *
 * @example
 * const api = createApi({ token: readToken, onRefused: (reason) => signOut(reason) })
 * const stats = await api.get<StatsAnswer>(apiUrl('analytics/stats', { metric: 'visits' }))
 */

import type { funnelJson } from '../funnels/funnel.ts'
import type { goalJson } from '../goals/goal.ts'
import type { GoalFigures, ItemFigures } from '../read/filtered.ts'
import type { StepFigures } from '../read/funnel.ts'
import type { StatsResult } from '../read/stats.ts'
import type { TopItem, TopResult } from '../read/top.ts'
import type { UserCounts } from '../read/users.ts'

/** A service a read needs, named by a 503 (`{"service": …}`) while it is down. */
export type Service = 'postgres' | 'redis'

/**
 * A read that failed: the status (0 when nothing answered) and the server's reason; for a 503
 * naming a service, the service and how long the server asked to wait (`Retry-After`); for a 422,
 * the parameter the server names (`{"parameter": "filters"}`).
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly unavailable?: { service: Service; retryAfterMs?: number },
    readonly parameter?: string,
  ) {
    super(reason)
    this.name = 'ApiError'
  }
}

// The answers' shapes are the server's own (types only: nothing of the server is bundled).
export type { Point } from '../read/stats.ts'

/** `GET /analytics/stats` */
export type StatsAnswer = StatsResult

/** `GET /analytics/top`: the ranking, and what it ranks over; each item's figures of `metrics=` */
export type TopAnswer = Omit<TopResult, 'items'> & {
  items: (TopItem & ItemFigures)[]
  dimension: string
  from: string
  to: string
}

/** A goal as `GET /analytics/goals` lists it */
export type GoalAnswer = ReturnType<typeof goalJson>

/** `GET /analytics/goals`: every goal, and whether this token may add and delete them */
export interface GoalsAnswer {
  goals: GoalAnswer[]
  manage: boolean
}

/** `GET /analytics/conversions`: every goal's figures over a range */
export interface ConversionsAnswer {
  from: string
  to: string
  tz: string
  visitors: number
  goals: (Omit<GoalFigures, 'goal'> & { goal: GoalAnswer })[]
}

/** A saved funnel as `GET /analytics/funnels` lists it */
export type FunnelSaved = Omit<ReturnType<typeof funnelJson>, 'steps'> & { steps: GoalAnswer[] }

/** `GET /analytics/funnels`: the saved funnels, and whether this token may add and delete them */
export interface FunnelsAnswer {
  funnels: FunnelSaved[]
  manage: boolean
}

/** `GET /analytics/funnel`: a funnel's figures over a range */
export interface FunnelAnswer {
  from: string
  to: string
  tz: string
  funnel: { id: string; name: string } | null
  window: string
  window_minutes: number
  steps: (Omit<StepFigures, 'goal'> & { goal: GoalAnswer })[]
  conversion_rate: number | null
}

/** `GET /analytics/users/:id` */
export type UserAnswer = UserCounts

/** The site the page shows: its address's `site=` (an id or a domain), undefined for none. */
export function pageSite(): string | undefined {
  return typeof location === 'undefined' ? undefined : (new URLSearchParams(location.search).get('site') ?? undefined)
}

/** The reads that are of no one site: the sites themselves, and the overview of them all. */
const OF_NO_SITE = /^analytics\/(?:sites|overview)(?:[/?]|$)/

/**
 * `url` naming the page's site, as every read of one site must once the deployment counts several
 * (a shared link's token reads its own site without it).
 */
export function withSite(url: string, site = pageSite()): string {
  if (!site || OF_NO_SITE.test(url) || /[?&]site=/.test(url)) return url
  return `${url}${url.includes('?') ? '&' : '?'}site=${encodeURIComponent(site)}`
}

/** A same-origin path relative to the page (so a proxy may mount the service under a path). */
export function apiUrl(path: string, params: Record<string, string | number | undefined> = {}): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v))
  const s = q.toString()
  return s ? `${path}?${s}` : path
}

const SERVICES: readonly unknown[] = ['postgres', 'redis'] satisfies Service[]

/** `Retry-After` in seconds (the server's form), as milliseconds; undefined when absent or a date. */
function retryAfterMs(res: Response): number | undefined {
  const seconds = Number(res.headers.get('retry-after') ?? Number.NaN)
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined
}

/**
 * The failed answer as an error: its reason (`{"error": …}`, else the status), the service a 503
 * names and the parameter a 422 names.
 */
export async function errorOf(res: Response): Promise<ApiError> {
  let body: { error?: unknown; service?: unknown; parameter?: unknown } = {}
  try {
    body = await res.json()
  } catch {
    // not JSON (a proxy's page): the status says it
  }
  const reason = typeof body.error === 'string' && body.error ? body.error : `HTTP ${res.status}`
  const down =
    res.status === 503 && SERVICES.includes(body.service)
      ? { service: body.service as Service, retryAfterMs: retryAfterMs(res) }
      : undefined
  const parameter = res.status === 422 && typeof body.parameter === 'string' ? body.parameter : undefined
  return new ApiError(res.status, reason, down, parameter)
}

/** What became of a request, for {@link Api.watch}: when it was sent, and its error if it failed. */
export interface Outcome {
  url: string
  sentAt: number
  error?: ApiError
}

export interface Api {
  /** JSON of a read, shared with identical reads of the last minute */
  get<T>(url: string): Promise<T>
  /** the answer itself, never shared (CSV downloads) */
  fetch(url: string, accept: string): Promise<Response>
  /**
   * A change (a goal added or deleted), with a JSON body. A 401 signs out as a read's does; a 403
   * (the viewer token) is the change's own refusal, thrown for the form to say, as any failure is.
   */
  change(method: 'POST' | 'DELETE', url: string, body?: unknown): Promise<Response>
  /** drops remembered answers: all, or one read's */
  forget(url?: string): void
  /** settles once no request is out (now, when none is) */
  idle(): Promise<void>
  /** calls `listener` with the outcome of every request that reached the server or failed to; returns an unwatch */
  watch(listener: (outcome: Outcome) => void): () => void
}

const KEEP_MS = 60_000

/** Answers that say the token may not read: the page signs out rather than show them. */
const REFUSALS = [401, 403]

export function createApi(options: {
  token: () => string | undefined
  /** `reason` is the server's, or undefined when there is no token to send */
  onRefused: (reason?: string) => void
}): Api {
  const kept = new Map<string, { at: number; answer: Promise<unknown> }>()
  /** the token the server last answered a read for (not a refusal) */
  let trusted: string | undefined
  /** while a new token's first read is out: settles (never rejects) when it is answered */
  let probe: Promise<void> | undefined
  let out = 0
  const onIdle: (() => void)[] = []
  const watchers = new Set<(outcome: Outcome) => void>()
  const report = (outcome: Outcome) => {
    for (const watcher of watchers) watcher(outcome)
  }

  /** counts a request while it is out, for {@link Api.idle} */
  function counted<T>(request: Promise<T>): Promise<T> {
    out++
    const done = () => {
      out--
      if (out === 0) for (const resolve of onIdle.splice(0)) resolve()
    }
    request.then(done, done)
    return request
  }

  async function request(url: string, accept: string, token: string): Promise<Response> {
    const sentAt = Date.now()
    let res: Response
    try {
      res = await fetch(withSite(url), { headers: { authorization: `Bearer ${token}`, accept }, cache: 'no-store' })
    } catch {
      const error = new ApiError(0, 'the server did not answer')
      report({ url, sentAt, error })
      throw error
    }
    if (REFUSALS.includes(res.status)) {
      if (trusted === token) trusted = undefined
      const error = await errorOf(res)
      if (options.token() === token) options.onRefused(error.reason)
      throw error
    }
    trusted = token
    const error = res.ok ? undefined : await errorOf(res)
    report({ url, sentAt, error })
    if (error) throw error
    return res
  }

  async function send(url: string, accept: string): Promise<Response> {
    const token = options.token()
    if (!token) {
      options.onRefused()
      throw new ApiError(401, 'signed out')
    }
    if (token === trusted) return request(url, accept, token)
    if (!probe) {
      const first = request(url, accept, token)
      const settled = first.then(
        () => undefined,
        () => undefined,
      )
      probe = settled
      void settled.then(() => {
        if (probe === settled) probe = undefined
      })
      return first
    }
    await probe
    // the first read was refused: the page has signed out, and nothing more is sent
    if (options.token() !== token) throw new ApiError(401, 'signed out')
    return request(url, accept, token)
  }

  return {
    get<T>(url: string): Promise<T> {
      const now = Date.now()
      const hit = kept.get(url)
      if (hit && now - hit.at < KEEP_MS) return hit.answer as Promise<T>
      const answer = counted(send(url, 'application/json').then((res) => res.json() as Promise<T>))
      kept.set(url, { at: now, answer })
      // a failure is not remembered: the next ask (a retry) asks again
      answer.catch(() => {
        if (kept.get(url)?.answer === answer) kept.delete(url)
      })
      return answer
    },
    fetch: (url, accept) => counted(send(url, accept)),
    async change(method, url, body) {
      const token = options.token()
      if (!token) {
        options.onRefused()
        throw new ApiError(401, 'signed out')
      }
      const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' }
      if (body !== undefined) headers['content-type'] = 'application/json'
      let res: Response
      try {
        res = await counted(
          fetch(withSite(url), {
            method,
            headers,
            body: body === undefined ? undefined : JSON.stringify(body),
            cache: 'no-store',
          }),
        )
      } catch {
        throw new ApiError(0, 'the server did not answer')
      }
      if (res.ok) return res
      const error = await errorOf(res)
      if (res.status === 401 && options.token() === token) options.onRefused(error.reason)
      throw error
    },
    forget(url) {
      if (url === undefined) kept.clear()
      else kept.delete(url)
    },
    idle: () => (out === 0 ? Promise.resolve() : new Promise((resolve) => onIdle.push(resolve))),
    watch(listener) {
      watchers.add(listener)
      return () => watchers.delete(listener)
    },
  }
}
