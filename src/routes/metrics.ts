/**
 * `GET /metrics` (admin): Prometheus text exposition of this instance's metrics.
 */
import { Elysia } from 'elysia'
import Type from 'typebox'
import type { Deps } from '../deps.ts'
import { requireAccess } from './auth.ts'
import { errors, operation, SECURITY } from './openapi.ts'

export const prometheus = (deps: Pick<Deps, 'config' | 'metrics'>) =>
  new Elysia({ name: 'metrics' }).get(
    '/metrics',
    async ({ request }) => {
      requireAccess(request, { admin: deps.config.adminToken, viewer: deps.config.viewerToken }, 'admin')
      return new Response(await deps.metrics.registry.metrics(), {
        headers: { 'content-type': deps.metrics.registry.contentType },
      })
    },
    operation({
      summary: "This instance's metrics, as Prometheus text",
      tags: ['admin'],
      security: SECURITY.admin,
      responses: {
        200: { description: 'Prometheus text exposition', content: { 'text/plain': { schema: Type.String() } } },
        ...errors(401, 403),
      },
    }),
  )
