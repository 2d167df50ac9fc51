/**
 * The node-redis client: reconnects with capped backoff, and fails commands at once while
 * disconnected (no offline queue), so the write path answers 503 instead of holding requests
 * and memory until Redis returns.
 *
 * @example
 * const redis = await openRedis('redis://127.0.0.1:6379', log)
 * await redis.ping()
 * await redis.close()
 */
import { createClient, createCluster } from 'redis'
import { maskUrl } from '../config.ts'
import type { Logger } from '../log.ts'
import { errorMessage } from '../log.ts'

function makeClient(url: string, connectTimeout: number) {
  return createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout,
      reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 2000),
    },
  })
}

export type Redis = ReturnType<typeof makeClient>

export interface RedisOptions {
  /** give up the first connection after this long (ms) */
  connectTimeout?: number
}

export async function openRedis(url: string, log: Logger, options: RedisOptions = {}): Promise<Redis> {
  // Errors before the first connection are reported once, by the thrown error below.
  let up = false
  let down = false
  const client = makeClient(url, options.connectTimeout ?? 5000)
  client.on('error', (err) => {
    // node-redis emits an error per failed reconnect attempt; log the outage once.
    if (down || !up) return
    down = true
    log.error('redis connection lost', { url: maskUrl(url), error: errorMessage(err) })
  })
  client.on('ready', () => {
    up = true
    if (down) log.info('redis connection restored', { url: maskUrl(url) })
    down = false
  })
  try {
    await connectOnce(client, options.connectTimeout ?? 5000)
  } catch (err) {
    client.destroy()
    throw new Error(
      `cannot reach Redis at ${maskUrl(url)}: ${errorMessage(err)}. Start Redis or set REDIS_URL to a running one.`,
    )
  }
  return client
}

/** The first connection must succeed or fail; reconnecting is only for later drops. */
async function connectOnce(client: Redis, timeoutMs: number): Promise<void> {
  let timer: Timer | undefined
  const failed = new Promise<never>((_, reject) => {
    client.once('error', reject)
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
  })
  try {
    await Promise.race([client.connect(), failed])
  } finally {
    clearTimeout(timer)
  }
}

/** Closes gracefully, falling back to a hard close if Redis is gone. */
export async function closeRedis(client: Redis): Promise<void> {
  if (!client.isOpen) return
  try {
    await Promise.race([client.close(), Bun.sleep(2000).then(() => Promise.reject(new Error('timeout')))])
  } catch {
    client.destroy()
  }
}

/**
 * The node-redis cluster client, typed as {@link Redis}: the service only sends commands whose
 * keys share one hash tag (one slot) per call — scripts, MULTIs — which the cluster client routes
 * by their first key, and single-key commands. Commands without keys (PING) go to any node.
 */
export async function openRedisCluster(nodes: string[], log: Logger, options: RedisOptions = {}): Promise<Redis> {
  const connectTimeout = options.connectTimeout ?? 5000
  let up = false
  let down = false
  const cluster = createCluster({
    rootNodes: nodes.map((url) => ({ url })),
    defaults: {
      disableOfflineQueue: true,
      socket: { connectTimeout, reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 2000) },
    },
  })
  cluster.on('error', (err) => {
    if (down || !up) return
    down = true
    log.error('redis cluster connection lost', { nodes: nodes.map(maskUrl), error: errorMessage(err) })
  })
  try {
    await Promise.race([
      cluster.connect(),
      Bun.sleep(connectTimeout * 2).then(() => Promise.reject(new Error(`no answer within ${connectTimeout * 2} ms`))),
    ])
    up = true
  } catch (err) {
    cluster.destroy()
    throw new Error(
      `cannot reach the Redis Cluster at ${nodes.map(maskUrl).join(', ')}: ${errorMessage(err)}. ` +
        'Check REDIS_CLUSTER_NODES.',
    )
  }
  return cluster as unknown as Redis
}
