/**
 * Errors. {@link HttpError} is what a client can act on: a status and a reason, answered as JSON.
 * The others are domain errors thrown below the routes (the group commit, the recorder); each
 * route maps them to HTTP in one place.
 *
 * @example
 * throw new HttpError(422, 'event_type must be one of page_view, feature_used')
 */

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
