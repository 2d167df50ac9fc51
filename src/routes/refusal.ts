/**
 * A request refused before anything was counted: an {@link HttpError} that also names the
 * metric label (`analytics_events_rejected_total{reason}`) it is counted under. The write routes
 * count every refusal in one place, where they turn errors into responses.
 *
 * @example
 * throw new Refusal('too_large', 413, 'body is larger than 8192 bytes')
 */
import { HttpError } from '../errors.ts'
import type { RejectReason } from '../metrics.ts'

export class Refusal extends HttpError {
  constructor(
    readonly label: RejectReason,
    status: number,
    reason: string,
    details?: Record<string, unknown>,
    headers?: Record<string, string>,
  ) {
    super(status, reason, details, headers)
    this.name = 'Refusal'
  }
}

/** The 503 of a request the instance has no room for (`MAX_IN_FLIGHT`). */
export const overloaded = (): Refusal =>
  new Refusal('overloaded', 503, 'the server is overloaded; retry later', undefined, { 'retry-after': '1' })
