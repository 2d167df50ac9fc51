/**
 * Liveness, readiness. `/healthz` answers while the process runs; `/readyz` answers 200 only
 * when Redis answers PING and Postgres answers `SELECT 1`, and otherwise names what failed.
 */
import { Elysia } from 'elysia'
import type { Deps } from '../app.ts'
import { errorMessage } from '../log.ts'

const CHECK_TIMEOUT_MS = 2000

async function check(probe: () => Promise<unknown>): Promise<string> {
  let timer: Timer | undefined
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS)
      }),
    ])
    return 'ok'
  } catch (err) {
    return errorMessage(err) || 'unreachable'
  } finally {
    clearTimeout(timer)
  }
}

export const health = (deps: Deps) =>
  new Elysia({ name: 'health' })
    .get('/healthz', () => ({ status: 'ok' }))
    .get('/readyz', async ({ set }) => {
      const [redis, postgres] = await Promise.all([
        check(() => deps.redis.ping()),
        check(() => deps.pool.query('SELECT 1')),
      ])
      const ready = redis === 'ok' && postgres === 'ok'
      set.status = ready ? 200 : 503
      return { status: ready ? 'ready' : 'unavailable', redis, postgres }
    })
