/**
 * The least any endpoint that stores an event before answering pays here: a bare Bun.serve that
 * reads the POST body, joins a group commit (one HINCRBY per batch, one batch in flight, through
 * the same node-redis client the service uses) and answers 202 once its batch is stored. No
 * headers read, no validation, no visitors, no CORS: strictly less work than `POST /e`, so its
 * requests/s bound what the beacon can reach on this machine, with the same guarantee.
 */
import { openRedis } from '../src/db/redis.ts'
import { silentLogger } from '../src/log.ts'
import { STORED_FLOOR_FIELD, storedFloorKey } from './lib.ts'

const redis = await openRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', silentLogger)
const key = storedFloorKey(process.env.REDIS_PREFIX ?? 'analytics')

interface Batch {
  n: number
  done: Promise<void>
  resolve: () => void
  reject: (err: unknown) => void
}

let open: Batch | undefined
let sending = false

function newBatch(): Batch {
  const batch = { n: 0 } as Batch
  batch.done = new Promise<void>((resolve, reject) => {
    batch.resolve = resolve
    batch.reject = reject
  })
  batch.done.catch(() => {})
  return batch
}

function send(): void {
  if (sending || !open) return
  const batch = open
  open = undefined
  sending = true
  redis
    .hIncrBy(key, STORED_FLOOR_FIELD, batch.n)
    .then(
      () => batch.resolve(),
      (err) => batch.reject(err),
    )
    .finally(() => {
      sending = false
      if (open) setImmediate(send)
    })
}

function stored(): Promise<void> {
  if (!open) {
    open = newBatch()
    if (!sending) setImmediate(send)
  }
  open.n++
  return open.done
}

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: Number(process.env.PORT ?? 0),
  routes: {
    '/healthz': new Response('ok'),
    '/e': {
      async POST(request) {
        await request.text()
        try {
          await stored()
        } catch {
          return new Response(null, { status: 503 })
        }
        return new Response(null, { status: 202 })
      },
    },
  },
  fetch: () => new Response(null, { status: 404 }),
})
process.on('SIGTERM', async () => {
  server.stop(true)
  await redis.close()
  process.exit(0)
})
