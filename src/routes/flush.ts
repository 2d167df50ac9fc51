/**
 * The flush, by hand (admin).
 *
 * - `POST /analytics/flush`: runs one flush now and answers `{"flushed": n}` with the number of
 *   counters written. A failure answers 503; the counts stay in Redis for the next try.
 * - `GET /analytics/flush/held`: the batches set aside because Postgres refused their data.
 * - `GET /analytics/flush/held/:batch`: one of them whole (each pending kind's hash of fields and
 *   counts), for a look or a copy.
 * - `POST /analytics/flush/held/:batch/retry`: releases it and flushes now; answers whether it was
 *   written or held again (with Postgres's reason).
 * - `DELETE /analytics/flush/held/:batch`: exports it and removes it from Redis in one step: the
 *   answer is then the only copy of its counts.
 */
import { Elysia } from 'elysia'
import Type from 'typebox'
import { Value } from 'typebox/value'
import type { Deps } from '../deps.ts'
import { HttpError } from '../errors.ts'
import { errorMessage } from '../log.ts'
import { requireAccess } from './auth.ts'
import { errors, json, type Operation, operation, parameters, SECURITY } from './openapi.ts'

/**
 * A held batch's id (base-36 time, instance id, random hex, dashes between). Checked in the
 * handler, after the token, rather than by Elysia before it (see read/query.ts).
 */
const BatchParams = Type.Object({ batch: Type.String({ pattern: '^[0-9a-z-]{1,100}$' }) })

/** An admin route's operation: `ok` as the 200 answer, and the errors it may give besides 401 and 403. */
const admin = (summary: string, ok: Operation['responses'][string], more: number[] = [], held = false) =>
  operation({
    summary,
    tags: ['admin'],
    security: SECURITY.admin,
    parameters: held ? parameters('path', BatchParams) : undefined,
    responses: { 200: ok, ...errors(401, 403, ...more) },
  })

export const flush = (deps: Pick<Deps, 'config' | 'flusher'>) => {
  const tokens = { admin: deps.config.adminToken, viewer: deps.config.viewerToken }
  const heldId = (request: Request, batch: string) => {
    requireAccess(request, tokens, 'admin')
    if (!Value.Check(BatchParams, { batch }))
      throw new HttpError(422, 'batch must be a batch id as GET /analytics/flush/held lists')
    return batch
  }
  const notHeld = (batch: string) =>
    new HttpError(404, `no held batch ${batch}: GET /analytics/flush/held lists the held ones`)
  /** A flush that fails answers 503: what it was writing stays in Redis (`kept` says how). */
  const flushing = async <T>(run: () => Promise<T>, kept: string): Promise<T> => {
    try {
      return await run()
    } catch (err) {
      throw new HttpError(503, `${errorMessage(err)}; ${kept}`, undefined, { 'retry-after': '5' })
    }
  }
  /** A held batch whole, and with `remove` taken out of Redis in the same step. */
  const exported = async (request: Request, id: string, remove: boolean) => {
    const batch = heldId(request, id)
    const found = await deps.flusher.exportHeld(batch, remove)
    if (!found) throw notHeld(batch)
    return found
  }
  return new Elysia({ name: 'flush' })
    .post(
      '/analytics/flush',
      async ({ request }) => {
        requireAccess(request, tokens, 'admin')
        return { flushed: await flushing(() => deps.flusher.flush(), 'counts are kept in Redis and retried') }
      },
      { parse: 'none', ...admin('Flush to Postgres now', json('counters written', 'Flushed'), [503]) },
    )
    .get(
      '/analytics/flush/held',
      async ({ request }) => {
        requireAccess(request, tokens, 'admin')
        return { held: await deps.flusher.held() }
      },
      admin('Flush batches set aside because Postgres refused their data', json('the held batches', 'HeldBatches')),
    )
    .get(
      '/analytics/flush/held/:batch',
      ({ request, params }) => exported(request, params.batch, false),
      admin('One held batch, whole', json('the batch and its counts', 'HeldExport'), [404, 422], true),
    )
    .post(
      '/analytics/flush/held/:batch/retry',
      async ({ request, params }) => {
        const batch = heldId(request, params.batch)
        const again = await flushing(
          () => deps.flusher.retryHeld(batch),
          'the batch is kept in Redis and retried by the next flush',
        )
        if (again === false) throw notHeld(batch)
        return again === undefined ? { batch_id: batch, written: true } : { ...again, written: false }
      },
      {
        parse: 'none',
        ...admin('Retry a held batch', json('written, or held again', 'Retried'), [404, 422, 503], true),
      },
    )
    .delete('/analytics/flush/held/:batch', ({ request, params }) => exported(request, params.batch, true), {
      parse: 'none',
      ...admin(
        'Export a held batch and remove it from Redis',
        json('the batch and its counts: now their only copy', 'HeldExport'),
        [404, 422],
        true,
      ),
    })
}
