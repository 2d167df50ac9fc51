/**
 * `POST /analytics/events`: batches from trusted back ends, `Authorization: Bearer
 * $INGEST_TOKEN`. A JSON array of at most 1000 events of any type, with optional timestamps up
 * to 30 days old. All-or-nothing: one invalid event rejects the batch with 422 and
 * `{index, field, reason}` for each problem; nothing is counted.
 */
import { Elysia } from 'elysia'
import type { Deps } from '../app.ts'
import { HttpError } from '../errors.ts'
import type { CountedEvent } from '../events/types.ts'
import { validateEvents } from '../events/validate.ts'
import type { RejectReason } from '../metrics.ts'
import { requireToken } from './auth.ts'
import { mediaType, parseJson, readLimitedText } from './body.ts'
import { overloaded } from './limits.ts'

export const INGEST_MAX_BYTES = 1024 * 1024

export const ingest = (deps: Deps) => {
  const { config, metrics, recorder } = deps
  const refuse = (reason: RejectReason, err: unknown): never => {
    metrics.rejected.inc({ reason })
    throw err
  }

  return new Elysia({ name: 'ingest' }).post(
    '/analytics/events',
    async ({ request, set }) => {
      try {
        requireToken(request, config.ingestToken, 'INGEST_TOKEN')
      } catch (err) {
        refuse('unauthorized', err)
      }
      // shares the beacon's cap on requests being worked on, so a stalled Redis cannot pile up
      // bodies and batches in memory
      if (!deps.inFlight.enter()) refuse('overloaded', overloaded())
      let events: CountedEvent[]
      try {
        if (mediaType(request) !== 'application/json') {
          refuse('content_type', new HttpError(415, 'send the body as application/json'))
        }
        let body: unknown
        try {
          body = parseJson(await readLimitedText(request, INGEST_MAX_BYTES))
        } catch (err) {
          refuse((err as HttpError).status === 413 ? 'too_large' : 'invalid', err)
        }
        if (typeof body !== 'object' || body === null) {
          refuse('invalid', new HttpError(400, 'body must be a JSON array of events'))
        }
        const validated = validateEvents(body, {
          source: 'server',
          now: Date.now(),
          keepQueryParams: config.pathQueryParams,
        })
        const { errors } = validated
        if (errors.length > 0) refuse('invalid', new HttpError(422, 'invalid events; none were counted', { errors }))
        events = validated.events
        await recorder.server(events)
      } finally {
        deps.inFlight.leave()
      }
      set.status = 202
      return { accepted: events.length }
    },
    {
      parse: 'none',
      detail: {
        summary: 'Server events, all-or-nothing',
        description:
          'A JSON array of at most 1000 events of any type (≤ 1 MiB), timestamps up to 30 days old. ' +
          '202 {accepted}; 422 lists {index, field, reason}.',
        tags: ['ingest'],
        security: [{ ingest: [] }],
      },
    },
  )
}
