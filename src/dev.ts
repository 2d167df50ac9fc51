/**
 * `bun run dev`: runs the service on a machine with nothing configured. Redis and Postgres come
 * from REDIS_URL/DATABASE_URL when set, else containers, else local binaries with their data in
 * DATA_DIR, `.data/` by default (kept between runs).
 */
import { ConfigError, loadConfig } from './config.ts'
import { createLogger, errorMessage } from './log.ts'
import { startServer, stopOnSignals } from './server.ts'
import { provisionServices } from './services/provision.ts'

try {
  const config = loadConfig()
  const log = createLogger(config.logLevel)
  const services = await provisionServices({
    redisUrl: config.redisUrl,
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    persistent: true,
  })
  if (services.source !== 'env') log.info('services started', { source: services.source })
  let server: Awaited<ReturnType<typeof startServer>>
  try {
    server = await startServer({ ...config, redisUrl: services.redisUrl, databaseUrl: services.databaseUrl }, log)
  } catch (err) {
    await services.stop()
    throw err
  }
  process.stdout.write(
    `\n  edge analytics is running\n` +
      `  tracker     ${server.url}/t.js\n` +
      `  beacon      POST ${server.url}/e\n` +
      `  live screen ${server.url}/live\n` +
      `  health      ${server.url}/readyz\n` +
      `  redis       ${services.redisUrl}\n  postgres    ${services.databaseUrl}\n\n`,
  )
  stopOnSignals(async () => {
    await server.stop()
    await services.stop()
  }, log)
} catch (err) {
  process.stderr.write(
    `edge-analytics: ${err instanceof ConfigError ? `invalid configuration: ${err.message}` : errorMessage(err)}\n`,
  )
  process.exit(1)
}
