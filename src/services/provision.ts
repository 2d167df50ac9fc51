/**
 * Finds or brings up Redis and Postgres for a local run, a test run or a benchmark, in the order
 * the design fixes: URLs from the environment; else containers when a Docker engine answers;
 * else the machine's own `redis-server` and `postgres` binaries; else a message saying what to
 * install or set. {@link provisionPostgres} does the same for Postgres alone.
 *
 * @example
 * const services = await provisionServices({ redisUrl, databaseUrl, dataDir: '.data', persistent: true })
 * // ... use services.redisUrl / services.databaseUrl ...
 * await services.stop()
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { dockerAvailable, startContainers, startPostgresContainer } from './containers.ts'
import { findBinaries, findPostgresBinaries, startLocal, startLocalPostgres } from './local.ts'

export interface StartedPostgres {
  source: 'env' | 'containers' | 'local'
  databaseUrl: string
  /** stops whatever this call started (nothing for URLs from the environment) */
  stop(): Promise<void>
}

export interface StartedServices extends StartedPostgres {
  redisUrl: string
}

export interface ProvisionOptions {
  redisUrl?: string
  databaseUrl?: string
  /** data directory for local binaries; a fresh temp dir when absent */
  dataDir?: string
  /** keep local data between runs and reuse servers still running in dataDir */
  persistent?: boolean
  /** skip the container attempt (it costs a second or two when no engine answers) */
  containers?: boolean
}

const dataDir = async (options: ProvisionOptions) =>
  options.dataDir ?? (await mkdtemp(join(tmpdir(), 'edge-analytics-')))

function notFound(missing: string[], variables: string[], packages: { apt: string; brew: string }): Error {
  return new Error(
    `no ${variables.join('/')} set, no Docker engine answering, and ${missing.join(', ')} not found. ` +
      `Set ${variables.join(' and ')}, start Docker, or install the servers ` +
      `(Debian/Ubuntu: apt-get install ${packages.apt}; macOS: brew install ${packages.brew}).`,
  )
}

export async function provisionServices(options: ProvisionOptions): Promise<StartedServices> {
  if (options.redisUrl && options.databaseUrl) {
    return { source: 'env', redisUrl: options.redisUrl, databaseUrl: options.databaseUrl, stop: async () => {} }
  }
  let started: StartedServices
  if (options.containers !== false && (await dockerAvailable())) {
    started = await startContainers()
  } else {
    const bins = findBinaries()
    if ('missing' in bins) {
      throw notFound(bins.missing, ['REDIS_URL', 'DATABASE_URL'], {
        apt: 'redis-server postgresql',
        brew: 'redis postgresql',
      })
    }
    started = await startLocal(bins, { dir: await dataDir(options), persistent: options.persistent ?? false })
  }
  // A URL given in the environment wins over the one we started.
  return {
    ...started,
    redisUrl: options.redisUrl ?? started.redisUrl,
    databaseUrl: options.databaseUrl ?? started.databaseUrl,
  }
}

/**
 * Postgres alone, found the same way: for a command such as `bun run migrate`, which has no use
 * for Redis and so starts none.
 *
 * @example
 * const postgres = await provisionPostgres({ dataDir: '.data', persistent: true })
 */
export async function provisionPostgres(options: Omit<ProvisionOptions, 'redisUrl'>): Promise<StartedPostgres> {
  if (options.databaseUrl) return { source: 'env', databaseUrl: options.databaseUrl, stop: async () => {} }
  if (options.containers !== false && (await dockerAvailable())) return startPostgresContainer()
  const bins = findPostgresBinaries()
  if ('missing' in bins) throw notFound(bins.missing, ['DATABASE_URL'], { apt: 'postgresql', brew: 'postgresql' })
  return startLocalPostgres(bins, { dir: await dataDir(options), persistent: options.persistent ?? false })
}
