/**
 * Errors. {@link HttpError} is what a client can act on: a status and a reason, answered as JSON.
 * The others are domain errors thrown below the routes (the group commit, the recorder); each
 * route maps them to HTTP in one place.
 *
 * @example
 * throw new HttpError(422, 'event_type must be one of page_view, feature_used')
 */
import {
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  DisconnectsClientError,
  ErrorReply,
  RootNodesUnavailableError,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
  TimeoutError,
} from 'redis'

/** Headers of every JSON error: a browser must never sniff an error body as something else. */
export const ERROR_HEADERS = { 'x-content-type-options': 'nosniff' } as const

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly details?: Record<string, unknown>,
    readonly headers?: Record<string, string>,
  ) {
    super(reason)
    this.name = 'HttpError'
  }

  toResponse(extraHeaders?: Record<string, string>): Response {
    return Response.json(
      { error: this.reason, ...this.details },
      { status: this.status, headers: { ...ERROR_HEADERS, ...this.headers, ...extraHeaders } },
    )
  }
}

/**
 * The counters could not be stored: Redis failed or did not answer in time. Nothing of the
 * batch is acknowledged, so the client may retry.
 */
export class CountersUnavailable extends Error {
  constructor(cause?: unknown) {
    super('counters are unavailable', { cause })
    this.name = 'CountersUnavailable'
  }
}

/**
 * A service the request needs is down or cannot serve it now: answered 503 with `Retry-After`,
 * naming the service, never as a 500. What counts as down is decided where each service's errors
 * are known: {@link postgresDown} for the read side's pool, {@link redisDown} for the client.
 */
export class Unavailable extends HttpError {
  constructor(
    readonly service: 'Postgres' | 'Redis',
    what: string,
    cause?: unknown,
  ) {
    super(
      503,
      `${service} is unavailable: ${what}; retry shortly`,
      { service: service.toLowerCase() },
      {
        'retry-after': '5',
      },
    )
    this.cause = cause
  }
}

/**
 * SQLSTATE classes of a Postgres that cannot serve, whatever the statement: 08 connection
 * exception, 53 insufficient resources, 57 operator intervention (shutting down, starting up, a
 * statement timeout), 58 system error. Any other code is a statement Postgres refused: a bug.
 */
const DOWN_CLASSES = new Set(['08', '53', '57', '58'])

/**
 * Whether a pool query's error says Postgres is down. An error with no SQLSTATE never reached a
 * statement (the connection was refused, ended, or timed out, or the bridge to it failed).
 */
export function postgresDown(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return DOWN_CLASSES.has(code.slice(0, 2))
  return true
}

/** Replies of a Redis that is up but cannot serve now (loading, a failover, a full cluster). */
const REDIS_BUSY = /^(LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|BUSY|OOM|READONLY|NOREPLICAS)\b/

/** Whether an error of the Redis client says Redis is down or cannot serve now. */
export function redisDown(err: unknown): boolean {
  if (!(err instanceof Error)) return false
  if (err instanceof ErrorReply) return REDIS_BUSY.test(err.message)
  return (
    err instanceof ClientClosedError ||
    err instanceof ClientOfflineError ||
    err instanceof SocketClosedUnexpectedlyError ||
    err instanceof ConnectionTimeoutError ||
    err instanceof SocketTimeoutError ||
    err instanceof TimeoutError ||
    err instanceof DisconnectsClientError ||
    err instanceof RootNodesUnavailableError
  )
}
