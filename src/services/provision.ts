/**
 * Finds or brings up Redis and Postgres for a local run, a test run or a benchmark, in the order
 * the design fixes: URLs from the environment; else containers when a Docker engine answers;
 * else the machine's own `redis-server` and `postgres` binaries; else a message saying what to
 * install or set.
 *
 * @example
 * const services = await provisionServices({ redisUrl, databaseUrl, dataDir: '.data', persistent: true })
 * // ... use services.redisUrl / services.databaseUrl ...
 * await services.stop()
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { dockerAvailable, startContainers } from './containers.ts'
import { findBinaries, startLocal } from './local.ts'

export interface StartedServices {
  source: 'env' | 'containers' | 'local'
  redisUrl: string
  databaseUrl: string
  /** stops whatever this call started (nothing for URLs from the environment) */
  stop(): Promise<void>
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
      throw new Error(
        `no REDIS_URL/DATABASE_URL set, no Docker engine answering, and ${bins.missing.join(', ')} not found. ` +
          'Set REDIS_URL and DATABASE_URL, start Docker, or install the servers ' +
          '(Debian/Ubuntu: apt-get install redis-server postgresql; macOS: brew install redis postgresql).',
      )
    }
    const dir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'edge-analytics-')))
    started = await startLocal(bins, { dir, persistent: options.persistent ?? false })
  }
  // A URL given in the environment wins over the one we started.
  return {
    ...started,
    redisUrl: options.redisUrl ?? started.redisUrl,
    databaseUrl: options.databaseUrl ?? started.databaseUrl,
  }
}
