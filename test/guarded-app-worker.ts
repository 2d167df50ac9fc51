/**
 * The worker side of guarded-app.ts: builds the app from a test's config, as `testApp()` does,
 * and answers one request at a time.
 */
import { createApp } from '../src/app.ts'
import type { Config } from '../src/config.ts'
import { openDatabase } from '../src/db/pool.ts'
import { closeRedis, openRedis } from '../src/db/redis.ts'
import { createDeps } from '../src/deps.ts'
import { silentLogger } from '../src/log.ts'

declare const self: Worker

export type Message =
  | { config: Config & { redisUrl: string; databaseUrl: string } }
  | { path: string; headers: Record<string, string> }
  | { close: true }

export type Reply = { ready: true } | { status: number; body: string; ms: number } | { error: string }

let app: ReturnType<typeof createApp> | undefined
let close = async () => {}

async function answer(message: Message): Promise<Reply> {
  if ('config' in message) {
    const { config } = message
    const redis = await openRedis(config.redisUrl, silentLogger)
    const db = await openDatabase(config.databaseUrl, { max: 2 })
    app = createApp(createDeps({ config, redis, pool: db.pool, log: silentLogger }))
    close = async () => {
      await closeRedis(redis)
      await db.close()
    }
    return { ready: true }
  }
  if ('close' in message) {
    await close()
    return { ready: true }
  }
  if (!app) return { error: 'the app was not started' }
  const started = performance.now()
  const res = await app.handle(new Request(`http://localhost${message.path}`, { headers: message.headers }))
  const body = await res.text()
  return { status: res.status, body, ms: performance.now() - started }
}

self.onmessage = async (e: MessageEvent<Message>) => {
  try {
    postMessage(await answer(e.data))
  } catch (error) {
    postMessage({ error: error instanceof Error ? error.message : String(error) })
  }
}
