/**
 * Builds the Elysia app from its dependencies. It never listens: `src/server.ts` does, and tests
 * call `app.handle(new Request(...))`.
 */
import type { Pool } from '@neondatabase/serverless'
import { Elysia } from 'elysia'
import type { Config } from './config.ts'
import type { Redis } from './db/redis.ts'
import { HttpError } from './errors.ts'
import type { Logger } from './log.ts'
import { errorMessage } from './log.ts'
import { health } from './routes/health.ts'

export interface Deps {
  config: Config
  redis: Redis
  pool: Pool
  log: Logger
}

export function createApp(deps: Deps) {
  return new Elysia()
    .error({ HttpError })
    .onError(({ code, error, set }) => {
      if (error instanceof HttpError) return error.toResponse()
      if (code === 'NOT_FOUND') {
        set.status = 404
        return { error: 'not found' }
      }
      if (code === 'PARSE') {
        set.status = 400
        return { error: 'body is not valid JSON' }
      }
      if (code === 'VALIDATION') {
        set.status = 422
        return { error: 'invalid request', detail: errorMessage(error) }
      }
      deps.log.error('unhandled error', { code: String(code), error: errorMessage(error) })
      set.status = 500
      return { error: 'internal error' }
    })
    .use(health(deps))
}

export type App = ReturnType<typeof createApp>
