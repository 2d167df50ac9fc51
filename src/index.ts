/**
 * Production entry point (`bun run start`): needs REDIS_URL and DATABASE_URL.
 * `bun run dev` (src/dev.ts) brings up local Redis and Postgres when they are not set.
 */
import { ConfigError, loadConfig } from './config.ts'
import { createLogger, errorMessage } from './log.ts'
import { startServer, stopOnSignals } from './server.ts'

function fail(message: string): never {
  process.stderr.write(`edge-analytics: ${message}\n`)
  process.exit(1)
}

try {
  const config = loadConfig()
  const log = createLogger(config.logLevel)
  const redisSet = Boolean(config.redisUrl) || config.redisClusterNodes.length > 0
  if (!redisSet || !config.databaseUrl) {
    fail(
      `${!redisSet ? 'REDIS_URL' : 'DATABASE_URL'} is not set. Set REDIS_URL (or REDIS_CLUSTER_NODES) and ` +
        'DATABASE_URL, or run `bun run dev` to bring up local Redis and Postgres.',
    )
  }
  // the signals are taken before the server starts: one that comes while it starts (a process
  // manager stopping it at once) waits for the start, then stops it as any other, and exits 0
  const started = startServer({ ...config, databaseUrl: config.databaseUrl }, log)
  stopOnSignals(async () => (await started).stop(), log)
  await started
} catch (err) {
  fail(err instanceof ConfigError ? `invalid configuration: ${err.message}` : errorMessage(err))
}
