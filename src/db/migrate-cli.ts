/**
 * `bun run migrate`: applies pending migrations to DATABASE_URL, or to the local development
 * database that `bun run dev` uses when DATABASE_URL is not set.
 */
import { join } from 'node:path'
import { ConfigError, loadConfig } from '../config.ts'
import { errorMessage } from '../log.ts'
import { provisionServices } from '../services/provision.ts'
import { migrate } from './migrate.ts'
import { openDatabase } from './pool.ts'

try {
  const config = loadConfig()
  const services = await provisionServices({
    redisUrl: config.redisUrl ?? 'redis://unused',
    databaseUrl: config.databaseUrl,
    dataDir: join(import.meta.dir, '..', '..', '.data'),
    persistent: true,
  })
  const db = await openDatabase(services.databaseUrl, { max: 1 })
  try {
    const applied = await migrate(db.pool)
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'up to date\n')
  } finally {
    await db.close()
    await services.stop()
  }
} catch (err) {
  process.stderr.write(
    `migrate: ${err instanceof ConfigError ? `invalid configuration: ${err.message}` : errorMessage(err)}\n`,
  )
  process.exit(1)
}
