/**
 * Errors a client can act on: an HTTP status and a reason, answered as JSON.
 *
 * @example
 * throw new HttpError(422, 'event_type must be one of page_view, feature_used')
 */
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

  toResponse(): Response {
    return Response.json({ error: this.reason, ...this.details }, { status: this.status, headers: this.headers })
  }
}

/**
 * What a request whose events were not stored gets: a 503 the client can retry (`Retry-After`).
 */
export const countersUnavailable = () =>
  new HttpError(503, 'counters are unavailable; retry later', undefined, { 'retry-after': '1' })
