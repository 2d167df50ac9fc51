/**
 * Wires config → clients → migrations → app → listen, and tears it all down in the reverse
 * order: HTTP first (no new events), then the flusher, then Redis and Postgres.
 */
import { type AppOptions, createApp } from './app.ts'
import { type Config, maskUrl } from './config.ts'
import { migrate } from './db/migrate.ts'
import { type Database, openDatabase } from './db/pool.ts'
import { closeRedis, openRedis, openRedisCluster, type Redis } from './db/redis.ts'
import { readRedisInfo } from './db/redis-info.ts'
import { createDeps } from './deps.ts'
import { errorMessage, type Logger } from './log.ts'
import { checkRedisAtStart } from './redis-checks.ts'

export interface RunningServer {
  url: string
  stop(): Promise<void>
}

/** A config with its services: a Redis URL or cluster nodes, and a database URL. */
export type ServiceConfig = Config & { databaseUrl: string }

async function openPostgres(config: ServiceConfig): Promise<Database> {
  const db = await openDatabase(config.databaseUrl, {
    session: { statementTimeoutMs: config.readTimeoutMs, workMem: config.databaseWorkMem },
  })
  try {
    await db.pool.query('SELECT 1')
    return db
  } catch (err) {
    await db.close()
    throw new Error(
      `cannot reach Postgres at ${maskUrl(config.databaseUrl)}: ${errorMessage(err)}. ` +
        'Start Postgres or set DATABASE_URL to a running one.',
    )
  }
}

/**
 * Refuses a Redis that may drop acknowledged events (see redis-checks.ts). A Redis whose INFO
 * cannot be read is let through with a warning: the check must not stop a service it cannot judge.
 */
async function checkRedis(redis: Redis, config: ServiceConfig, log: Logger): Promise<void> {
  let masters: Awaited<ReturnType<typeof readRedisInfo>>
  try {
    masters = await readRedisInfo(redis)
  } catch (err) {
    log.warn('cannot read Redis INFO: eviction policy and persistence not checked', { error: errorMessage(err) })
    return
  }
  checkRedisAtStart(masters, config, log)
}

/**
 * What to tell someone whose server could not listen. A taken port is the usual case: another
 * instance, an old build or another program holds it, and the way out is to stop that one, pick
 * another PORT, or share the port on purpose.
 */
function listenError(err: unknown, config: Pick<Config, 'port' | 'host' | 'reusePort'>): Error {
  const where = `port ${config.port} on ${config.host}`
  if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') {
    return new Error(`cannot listen on ${where}: ${errorMessage(err)}`)
  }
  return new Error(
    config.reusePort
      ? `${where} is taken by a process that does not share it (REUSE_PORT=true shares a port only with ` +
          'processes that also set it). Stop that process or set PORT to a free port.'
      : `${where} is already in use. Stop the process that listens on it, set PORT to a free port, or set ` +
          'REUSE_PORT=true on every process that should share it.',
  )
}

/** `options` go to createApp: `{ demo: true, explainCrawlers: true }` for `bun run dev` only. */
export async function startServer(
  config: ServiceConfig,
  log: Logger,
  options: AppOptions = {},
): Promise<RunningServer> {
  const redis =
    config.redisClusterNodes.length > 0
      ? await openRedisCluster(config.redisClusterNodes, log)
      : await openRedis(config.redisUrl ?? 'redis://127.0.0.1:6379', log)
  let db: Database
  try {
    db = await openPostgres(config)
  } catch (err) {
    await closeRedis(redis)
    throw err
  }
  try {
    // after both answer, so that an unreachable Postgres is still the one line said at start
    await checkRedis(redis, config, log)
    if (config.migrateOnStart) {
      const applied = await migrate(db.pool)
      if (applied.length > 0) log.info('migrations applied', { versions: applied })
    }
  } catch (err) {
    await Promise.all([closeRedis(redis), db.close()])
    throw err
  }

  const deps = createDeps({ config, redis, pool: db.pool, log })
  try {
    await deps.sites.load()
  } catch (err) {
    await Promise.all([closeRedis(redis), db.close()])
    // a database this version's migrations have not reached: say what to do, not which table
    if ((err as { code?: string }).code === '42P01')
      throw new Error('the database lacks the sites table: run bun run migrate, or start with MIGRATE_ON_START=true')
    throw err
  }
  const app = createApp(deps, options)
  let server: ReturnType<typeof app.listen>
  try {
    server = app.listen({ port: config.port, hostname: config.host, reusePort: config.reusePort })
  } catch (err) {
    await Promise.all([closeRedis(redis), db.close()])
    throw listenError(err, config)
  }
  deps.flusher.start()
  deps.redisMemory.start()
  const stopSites = deps.sites.start()
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${server.port}`
  log.info('listening', {
    url,
    redis: config.redisClusterNodes.length > 0 ? config.redisClusterNodes.map(maskUrl) : maskUrl(config.redisUrl ?? ''),
    shards: config.redisShards,
    postgres: maskUrl(config.databaseUrl),
  })

  let stopping: Promise<void> | undefined
  return {
    url,
    stop() {
      stopping ??= (async () => {
        // live streams never end by themselves: close them first or app.stop() waits on them
        deps.liveHubs.close()
        deps.redisMemory.stop()
        stopSites()
        await app.stop()
        await deps.batcher.drain()
        // a final flush, so a stopped instance leaves nothing behind in Redis
        await deps.flusher.stop()
        await Promise.all([closeRedis(redis), db.close()])
        log.info('stopped')
      })()
      return stopping
    },
  }
}

/**
 * Runs `stop` on the first SIGTERM or SIGINT, then exits 0 (1 if stopping failed). Later signals
 * while it stops are logged and ignored: a terminal's Ctrl-C, or a process manager that signals
 * the whole process group, delivers the signal twice (once to the group, once forwarded by
 * `bun run`), and the second must not cut the final flush short. SIGKILL still forces an exit.
 */
export function stopOnSignals(stop: () => Promise<void>, log: Logger): void {
  let stopping = false
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.info('already shutting down; SIGKILL forces an exit', { signal })
      return
    }
    stopping = true
    log.info('shutting down', { signal })
    stop().then(
      () => process.exit(0),
      (err) => {
        log.error('shutdown failed', { error: errorMessage(err) })
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', handler)
  process.on('SIGINT', handler)
}
