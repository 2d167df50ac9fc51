/**
 * Where the write routes (`/e`, `POST /analytics/events`) turn an error into a response, in one
 * place: refusals are counted under their reason and answered as they say; the domain errors of
 * the group commit get their status here; anything else is a 500 that is logged.
 *
 * @example
 * catch (err) { return writeErrorResponse(err, { metrics, log, route: 'POST /e' }) }
 */
import { CountersUnavailable, HttpError } from '../errors.ts'
import { errorMessage, type Logger } from '../log.ts'
import type { Metrics } from '../metrics.ts'
import { Refusal } from './refusal.ts'

export interface WriteErrorContext {
  metrics: Metrics
  log: Logger
  /** names the route in the log line of an unexpected error */
  route: string
}

const unavailable = new HttpError(503, 'counters are unavailable; retry later', undefined, { 'retry-after': '1' })

export function writeErrorResponse(err: unknown, ctx: WriteErrorContext, headers?: Record<string, string>): Response {
  if (err instanceof Refusal) {
    ctx.metrics.rejected.inc({ reason: err.label })
    // an abort is the client's doing and common on mobile networks: not worth more than debug
    if (err.label === 'aborted') ctx.log.debug('request body not read: the client went away', { route: ctx.route })
    return err.toResponse(headers)
  }
  if (err instanceof CountersUnavailable) {
    ctx.metrics.rejected.inc({ reason: 'unavailable' })
    return unavailable.toResponse(headers)
  }
  if (err instanceof HttpError) return err.toResponse(headers)
  ctx.log.error('unhandled error', { route: ctx.route, error: errorMessage(err) })
  return new HttpError(500, 'internal error').toResponse(headers)
}
