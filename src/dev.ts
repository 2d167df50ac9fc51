/**
 * `bun run dev`: runs the service on a machine with nothing configured. Redis and Postgres come
 * from REDIS_URL/DATABASE_URL when set, else containers, else local binaries with their data in
 * DATA_DIR, `.data/` by default (kept between runs). Without ADMIN_TOKEN it makes one and keeps
 * it there (src/admin-token.ts), serves the demo page at /demo, and prints links that work at once.
 */
import { devAdminToken } from './admin-token.ts'
import { devBanner } from './banner.ts'
import { ConfigError, loadConfig } from './config.ts'
import { createLogger, errorMessage } from './log.ts'
import { startServer, stopOnSignals } from './server.ts'
import { provisionServices } from './services/provision.ts'

try {
  const config = loadConfig()
  const log = createLogger(config.logLevel)
  const made = config.adminToken ? undefined : await devAdminToken(config.dataDir)
  const services = await provisionServices({
    redisUrl: config.redisUrl,
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    persistent: true,
  })
  if (services.source !== 'env') log.info('services started', { source: services.source })
  let server: Awaited<ReturnType<typeof startServer>>
  try {
    server = await startServer(
      {
        ...config,
        adminToken: config.adminToken ?? made?.token,
        redisUrl: services.redisUrl,
        databaseUrl: services.databaseUrl,
      },
      log,
      { demo: true, explainCrawlers: true },
    )
  } catch (err) {
    await services.stop()
    throw err
  }
  process.stdout.write(
    devBanner({
      url: server.url,
      token: made && { value: made.token, file: made.file },
      redisUrl: services.redisUrl,
      databaseUrl: services.databaseUrl,
    }),
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
