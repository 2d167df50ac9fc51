/**
 * `GET /metrics` (admin): Prometheus text exposition of this instance's metrics.
 */
import { Elysia } from 'elysia'
import type { Deps } from '../deps.ts'
import { requireToken } from './auth.ts'

export const prometheus = (deps: Pick<Deps, 'config' | 'metrics'>) =>
  new Elysia({ name: 'metrics' }).get('/metrics', async ({ request }) => {
    requireToken(request, deps.config.adminToken, 'ADMIN_TOKEN')
    return new Response(await deps.metrics.registry.metrics(), {
      headers: { 'content-type': deps.metrics.registry.contentType },
    })
  })
