/**
 * `bun run migrate`: applies pending migrations to DATABASE_URL, and touches nothing else.
 *
 * Without DATABASE_URL, in development only, it migrates the database `bun run dev` uses: Postgres
 * alone is provisioned, in the same data directory (no Redis, which migrations never use). Under
 * NODE_ENV=production it stops and says DATABASE_URL is required: a production command must not
 * depend on the development provisioning.
 */
import { type Config, ConfigError, loadConfig } from './config.ts'
import { migrate } from './db/migrate.ts'
import { openDatabase } from './db/pool.ts'
import { errorMessage } from './log.ts'

function fail(message: string): never {
  process.stderr.write(`migrate: ${message}\n`)
  process.exit(1)
}

/** The database to migrate, and how to let go of it. */
async function target(config: Config): Promise<{ url: string; stop(): Promise<void> }> {
  if (config.databaseUrl) return { url: config.databaseUrl, stop: async () => {} }
  if (config.production) fail('DATABASE_URL is required with NODE_ENV=production; set it to the database to migrate')
  // imported here, so that migrating a given database never loads the provisioning code
  const { provisionPostgres } = await import('./services/provision.ts')
  const postgres = await provisionPostgres({ dataDir: config.dataDir, persistent: true })
  const where = postgres.source === 'local' ? config.dataDir : 'a container'
  process.stdout.write(`no DATABASE_URL: migrating the development database (${where})\n`)
  return { url: postgres.databaseUrl, stop: postgres.stop }
}

try {
  const config = loadConfig()
  const database = await target(config)
  try {
    const db = await openDatabase(database.url, { max: 1 })
    try {
      const applied = await migrate(db.pool)
      process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'up to date\n')
    } finally {
      await db.close()
    }
  } finally {
    await database.stop()
  }
} catch (err) {
  fail(err instanceof ConfigError ? `invalid configuration: ${err.message}` : errorMessage(err))
}
