/**
 * Redis and Postgres for `bun test`, provisioned once per run the same way `bun run dev` does
 * (env URLs, else containers, else local binaries). Each test file gets its own database, cloned
 * from a migrated template, and its own Redis key prefix; both are removed at the end of the run,
 * so tests never touch other data on a shared server.
 */
import { randomBytes } from 'node:crypto'
import { type Config, loadConfig } from '../src/config.ts'
import { migrate } from '../src/db/migrate.ts'
import { type Database, openDatabase } from '../src/db/pool.ts'
import { closeRedis, openRedis, type Redis } from '../src/db/redis.ts'
import { silentLogger } from '../src/log.ts'
import { provisionServices, type StartedServices } from '../src/services/provision.ts'

const RUN_ID = randomBytes(4).toString('hex')
const TEMPLATE_DB = `analytics_test_${RUN_ID}_template`

interface Base {
  started: StartedServices
  /** the server-level database we connect to for CREATE/DROP DATABASE */
  admin: Database
}

let base: Promise<Base> | undefined
const databases: string[] = []
const prefixes: string[] = []
const closers: (() => Promise<void>)[] = []

function withDatabase(url: string, name: string): string {
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.toString()
}

async function provision(): Promise<Base> {
  const env = loadConfig()
  const started = await provisionServices({ redisUrl: env.redisUrl, databaseUrl: env.databaseUrl })
  let admin: Database | undefined
  try {
    admin = await openDatabase(started.databaseUrl, { max: 2 })
    await admin.pool.query(`CREATE DATABASE ${TEMPLATE_DB}`)
    databases.push(TEMPLATE_DB)
    const template = await openDatabase(withDatabase(started.databaseUrl, TEMPLATE_DB), { max: 1 })
    await migrate(template.pool)
    await template.close()
    return { started, admin }
  } catch (err) {
    // teardown only reaches services through a provisioning that succeeded: stop these here
    await admin?.close().catch(() => {})
    await started.stop()
    throw err
  }
}

/** The provisioned services (started on first use). */
export function services(): Promise<Base> {
  base ??= provision()
  return base
}

/** How the services were found: 'env', 'containers' or 'local'. */
export async function servicesSource(): Promise<StartedServices['source']> {
  return (await services()).started.source
}

/** The Redis URL of the run (shared; isolate with {@link testPrefix}). */
export async function redisUrl(): Promise<string> {
  return (await services()).started.redisUrl
}

/** A new migrated database of its own; dropped at the end of the run. */
export async function freshDatabaseUrl(): Promise<string> {
  const { admin, started } = await services()
  const name = `analytics_test_${RUN_ID}_${databases.length}`
  await admin.pool.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DB}`)
  databases.push(name)
  return withDatabase(started.databaseUrl, name)
}

/** An empty database (not migrated), for migration tests. */
export async function emptyDatabaseUrl(): Promise<string> {
  const { admin, started } = await services()
  const name = `analytics_test_${RUN_ID}_${databases.length}`
  await admin.pool.query(`CREATE DATABASE ${name}`)
  databases.push(name)
  return withDatabase(started.databaseUrl, name)
}

/** A key prefix of its own; its keys are deleted at the end of the run. */
export function testPrefix(): string {
  const prefix = `test-${RUN_ID}-${prefixes.length}`
  prefixes.push(prefix)
  return prefix
}

export interface TestContext {
  config: Config & { redisUrl: string; databaseUrl: string }
  redis: Redis
  db: Database
}

/** A config, Redis client and database of the test's own. Closed at the end of the run. */
export async function testContext(overrides: Partial<Config> = {}): Promise<TestContext> {
  const databaseUrl = await freshDatabaseUrl()
  const config = {
    ...loadConfig({}),
    redisUrl: await redisUrl(),
    databaseUrl,
    redisPrefix: testPrefix(),
    adminToken: 'test-admin-token-0123456789',
    ingestToken: 'test-ingest-token-0123456789',
    userJwtSecret: 'test-jwt-secret-0123456789abcdef',
    ...overrides,
  }
  const redis = await openRedis(config.redisUrl, silentLogger)
  const db = await openDatabase(databaseUrl, { max: 4 })
  closers.push(async () => {
    await closeRedis(redis)
    await db.close()
  })
  return { config, redis, db }
}

/**
 * SCAN patterns for exactly one prefix's keys: its global tag `{prefix}` and its shard tags
 * `{prefix:N}`. Not `{prefix*`, which would also take `{prefix0}`, another prefix's keys.
 */
export function keyPatterns(prefix: string): string[] {
  const literal = prefix.replace(/[*?[\]\\]/g, '\\$&')
  return [`{${literal}}:*`, `{${literal}:*`]
}

/** Deletes the keys of these prefixes, and no other key, from the client's database. */
export async function deleteKeys(redis: Redis, prefixes: readonly string[]): Promise<void> {
  for (const prefix of prefixes) {
    const keys: string[] = []
    for (const match of keyPatterns(prefix)) {
      for await (const batch of redis.scanIterator({ MATCH: match, COUNT: 1000 })) keys.push(...batch)
    }
    for (let i = 0; i < keys.length; i += 500) await redis.del(keys.slice(i, i + 500))
  }
}

/** Closes clients, deletes test keys and databases, stops what was started. */
export async function teardown(): Promise<void> {
  for (const close of closers.splice(0)) await close().catch(() => {})
  if (!base) return
  const { started, admin } = await base
  if (started.source === 'env') {
    // the URL's own database: a REDIS_URL naming one (`/7`) keeps the run's keys there
    const redis = await openRedis(started.redisUrl, silentLogger)
    await deleteKeys(redis, prefixes)
    await closeRedis(redis)
    for (const name of databases.reverse()) {
      await admin.pool.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {})
    }
  }
  await admin.close()
  await started.stop()
}
