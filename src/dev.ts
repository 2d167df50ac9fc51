/**
 * `bun run dev`: runs the service on a machine with nothing configured. Redis and Postgres come
 * from REDIS_URL/DATABASE_URL when set, else containers, else local binaries with their data in
 * DATA_DIR, `.data/` by default (kept between runs). Without ADMIN_TOKEN or INGEST_TOKEN it makes
 * the token and keeps it there (src/dev-token.ts), serves the demo page at /demo, and prints links
 * and a server batch that work at once.
 */
import { devBanner } from './banner.ts'
import { ConfigError, distinctTokens, loadConfig } from './config.ts'
import { devToken } from './dev-token.ts'
import { createLogger, errorMessage } from './log.ts'
import { startServer, stopOnSignals } from './server.ts'
import { provisionServices } from './services/provision.ts'

try {
  const config = loadConfig()
  const log = createLogger(config.logLevel)
  const made = config.adminToken ? undefined : await devToken(config.dataDir, 'admin')
  const madeIngest = config.ingestToken ? undefined : await devToken(config.dataDir, 'ingest')
  const adminToken = config.adminToken ?? made?.token
  const ingestToken = config.ingestToken ?? madeIngest?.token
  // a kept file edited by hand, or a variable set to another's file, could make two of them one
  distinctTokens({ ...config, adminToken, ingestToken })
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
        adminToken,
        ingestToken,
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
      ingestToken: madeIngest && { value: madeIngest.token, file: madeIngest.file },
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
