/**
 * The least any endpoint that stores an event before answering pays here: a bare Bun.serve that
 * reads the POST body, joins a group commit (one HINCRBY per batch, one batch in flight, through
 * the same node-redis client the service uses) and answers 202 once its batch is stored. No
 * headers read, no validation, no visitors, no CORS: strictly less work than `POST /e`, so its
 * requests/s bound what the beacon can reach on this machine, with the same guarantee.
 */
import { openRedis } from '../src/db/redis.ts'
import { silentLogger } from '../src/log.ts'
import { FloorCommit, STORED_FLOOR_FIELD, serveOnE, storedFloorKey } from './lib.ts'

const redis = await openRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', silentLogger)
const key = storedFloorKey(process.env.REDIS_PREFIX ?? 'analytics')

/** A batch is the count of its requests, stored with one HINCRBY. */
const commit = new FloorCommit(
  () => ({ n: 0 }),
  (batch) => redis.hIncrBy(key, STORED_FLOOR_FIELD, batch.n),
)

serveOnE(
  async (request) => {
    await request.text()
    const batch = commit.join()
    batch.state.n++
    try {
      await batch.done
    } catch {
      return new Response(null, { status: 503 })
    }
    return new Response(null, { status: 202 })
  },
  () => redis.close(),
)
