/**
 * The service's configuration: every environment variable of the public contract, read and
 * checked once at start. This is the only module that reads `process.env`.
 *
 * @example
 * const config = loadConfig() // throws ConfigError naming the variable on a bad value
 */
import { accessSync, constants, statSync } from 'node:fs'
import { isIP } from 'node:net'
import { join, resolve } from 'node:path'
import Type, { type TSchema } from 'typebox'
import Value from 'typebox/value'
import { MAX_TIMESTAMP_AGE_MS } from './events/limits.ts'
import { RESERVED_PROPERTIES } from './events/validate.ts'
import { hostname } from './events/values.ts'
import { canonicalTimeZone } from './time.ts'

/**
 * Whose X-Forwarded-For is believed: nobody's (`hops: 0`), any peer's, counting `hops` proxies
 * from the right, or only that of peers within `proxies` (addresses and CIDR ranges), walking the
 * header from the right past every trusted proxy.
 */
export type TrustProxy = { hops: number } | { proxies: string[] }

export interface Config {
  port: number
  host: string
  /**
   * REUSE_PORT: listen with SO_REUSEPORT, so that several processes on one host share the port
   * and the kernel spreads connections over them. Off by default: a second server started on a
   * taken port by mistake (an old build, another configuration) must fail, not take half the
   * requests
   */
  reusePort: boolean
  redisUrl?: string
  /** Redis Cluster seed nodes (redis:// URLs); when set, the cluster client is used */
  redisClusterNodes: string[]
  databaseUrl?: string
  flushIntervalMs: number
  /** event log rows kept in Redis at most while Postgres cannot take them */
  eventsPendingMax: number
  /** pending event log rows that make the flush run before its interval */
  eventsFlushRows: number
  adminToken?: string
  /** VIEWER_TOKEN: reads, the live feed and the pages, nothing else */
  viewerToken?: string
  ingestToken?: string
  /** INGEST_SITES: the sites (ids or domains) INGEST_TOKEN may write for; empty: every site */
  ingestSites: string[]
  userJwtSecret?: string
  allowedOrigins: string[]
  counterTtlSeconds: number
  redisPrefix: string
  /** how long a group commit waits for Redis before answering 503 */
  redisTimeoutMs: number
  /** shards the counters are spread over (each its own cluster slot) */
  redisShards: number
  /**
   * REDIS_ALLOW_EVICTION: start even when Redis evicts keys when full (a maxmemory-policy other
   * than noeviction), which may drop acknowledged events; off, such a Redis stops the start
   */
  redisAllowEviction: boolean
  migrateOnStart: boolean
  /** proxies in front of the service whose X-Forwarded-For entries are trusted */
  trustProxy: TrustProxy
  /** query parameters kept in counted page paths (all others are dropped) */
  pathQueryParams: string[]
  /** per-day caps on distinct browser-sent values; beyond them values count as "(other)" */
  caps: { features: number; paths: number; users: number; dimensions: number }
  /** property keys whose scalar values are counted per day, for every event type (`prop:<key>`) */
  countedProperties: string[]
  /** per-address token bucket on /e (perSecond 0 disables it) */
  rateLimit: { perSecond: number; burst: number }
  /**
   * beacons one instance reads at once, and beacons it stores at once (two separate budgets);
   * beyond either, 503 (0 disables the cap)
   */
  maxInFlight: number
  /** the same for server batches (each up to 1 MiB), kept apart so beacons cannot starve them */
  ingestMaxInFlight: number
  /** how long a write request's body may take to arrive before it is answered 408 */
  bodyTimeoutMs: number
  /**
   * where `bun run dev` and `bun run migrate` keep local services and the generated admin token:
   * DATA_DIR resolved against the working directory, else `.data/` in the project root
   */
  dataDir: string
  /** the IANA zone whose days every day-level counter counts in (TIME_ZONE, canonical name) */
  timeZone: string
  /**
   * EVENTS_RETENTION_DAYS: the event log keeps each UTC day until its last moment is this many
   * days old, then drops it whole; 0 keeps every day
   */
  eventsRetentionDays: number
  /**
   * READ_TIMEOUT_MS: a statement of the service's Postgres connections that runs longer is stopped
   * by Postgres (statement_timeout), so a read answers a clear error instead of hanging; the
   * flush's transaction sets its own
   */
  readTimeoutMs: number
  /** DATABASE_WORK_MEM: Postgres' work_mem on the service's connections (the log's reads hash) */
  databaseWorkMem: string
  /** how long one visitor salt is used: unique visitors are exact over any range inside one */
  visitorSaltPeriod: 'day' | 'month' | 'year'
  /** NODE_ENV=production: nothing is provisioned or generated for a developer */
  production: boolean
  /** serve the OpenAPI document at /openapi */
  openapi: boolean
  /** live-feed subscribers one instance takes; beyond it they get 503 */
  liveMaxClients: number
  logLevel: 'debug' | 'info' | 'warn' | 'error'
  /**
   * where countries come from: undefined for the bundled database, the absolute path of an MMDB
   * file (GeoLite2-Country, DB-IP…), or 'off'
   */
  geoipDb?: string
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`${variable}: ${reason}`)
    this.name = 'ConfigError'
  }
}

type Env = Record<string, string | undefined>

const PROJECT_DATA_DIR = join(import.meta.dir, '..', '.data')

interface Spec<T> {
  schema: TSchema
  /** what a valid value looks like, for the error message */
  expect: string
  parse?: (raw: string) => T
}

const integer = (minimum: number, maximum: number): Spec<number> => ({
  schema: Type.Integer({ minimum, maximum }),
  expect: `an integer from ${minimum} to ${maximum}`,
  parse: (raw) => (/^\s*-?\d+\s*$/.test(raw) ? Number(raw) : Number.NaN),
})

const secret: Spec<string> = {
  schema: Type.String({ minLength: 16 }),
  expect: 'a secret of at least 16 characters',
}

/** HS256 wants a key at least as long as its hash: 32 bytes. */
const jwtSecret: Spec<string> = {
  schema: Type.String({ minLength: 1 }),
  expect: 'a secret of at least 32 bytes',
  parse: (raw) => (Buffer.byteLength(raw) >= 32 ? raw : ''),
}

/** TIME_ZONE: an IANA zone (any spelling; kept under its canonical name), UTC by default. */
function parseTimeZone(raw: string | undefined): string {
  const value = raw?.trim() || 'UTC'
  const zone = canonicalTimeZone(value)
  if (!zone || !/^[A-Za-z]/.test(zone)) {
    throw new ConfigError('TIME_ZONE', `must be an IANA time zone like Europe/Berlin (got ${JSON.stringify(raw)})`)
  }
  return zone
}

/** A comma list, each entry trimmed, empty ones dropped. */
const commaList = (raw: string | undefined): string[] =>
  (raw ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)

/**
 * A comma list of names: each matches `pattern` (its rule told as `rule`), at most `max` of them,
 * each kept once.
 */
function names(variable: string, raw: string | undefined, spec: { pattern: RegExp; rule: string; max: number }) {
  const list = commaList(raw)
  for (const name of list) {
    if (!spec.pattern.test(name)) throw new ConfigError(variable, `"${name}" is not ${spec.rule}`)
  }
  if (list.length > spec.max) throw new ConfigError(variable, `lists ${list.length} names; at most ${spec.max}`)
  return [...new Set(list)]
}

/** COUNTED_PROPERTIES: property keys, each a dimension of its own on every event type; a few keep it small. */
function parseCountedProperties(raw: string | undefined): string[] {
  const keys = names('COUNTED_PROPERTIES', raw, {
    pattern: /^[A-Za-z0-9_.-]{1,64}$/,
    rule: 'a property key of 1-64 characters of A-Z a-z 0-9 _ . -',
    max: 20,
  })
  for (const key of keys) {
    if (RESERVED_PROPERTIES.has(key)) {
      throw new ConfigError('COUNTED_PROPERTIES', `"${key}" is counted already (or read to find visits): leave it out`)
    }
  }
  return keys
}

/** HOST: an IP address (`0.0.0.0`, `::`, `127.0.0.1`) or a host name such as `localhost`. */
function parseHost(raw: string | undefined): string {
  const host = raw?.trim() || '0.0.0.0'
  // an IPv6 address as such, not in a URL's brackets
  if (isIP(host) === 0 && (host.startsWith('[') || hostname(host) === undefined)) {
    throw new ConfigError(
      'HOST',
      `must be an IP address like 0.0.0.0 or ::, or a host name (got ${JSON.stringify(raw)})`,
    )
  }
  return host
}

/** PATH_QUERY_PARAMS: the query parameters a counted path keeps, each named as a URL writes it. */
const parsePathQueryParams = (raw: string | undefined): string[] =>
  names('PATH_QUERY_PARAMS', raw, {
    pattern: /^[A-Za-z0-9_.\-[\]]{1,64}$/,
    rule: 'a query parameter name of 1-64 characters of A-Z a-z 0-9 _ . - [ ]',
    max: 20,
  })

/** TRUST_PROXY: true/false, a number of proxies, or a comma list of proxy addresses or CIDR ranges. */
function parseTrustProxy(raw: string | undefined): TrustProxy {
  const v = (raw ?? '').trim().toLowerCase()
  if (v === '' || v === 'false') return { hops: 0 }
  if (v === 'true') return { hops: 1 }
  if (/^\d+$/.test(v)) {
    const hops = Number(v)
    if (hops <= 10) return { hops }
  }
  const proxies = commaList(v)
  for (const proxy of proxies) {
    const [address = '', bits, extra] = proxy.split('/')
    const family = isIP(address)
    const max = family === 4 ? 32 : 128
    const ok =
      family !== 0 && extra === undefined && (bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= max))
    if (!ok) {
      throw new ConfigError(
        'TRUST_PROXY',
        `must be true, false, a number of proxies (0-10), or a comma list of proxy addresses or CIDR ranges ` +
          `like 10.0.0.0/8 (got ${JSON.stringify(raw)})`,
      )
    }
  }
  return { proxies }
}

/** GEOIP_DB: off, or the path of a readable file (resolved against the working directory). */
function parseGeoipDb(raw: string | undefined): string | undefined {
  const value = raw?.trim() ?? ''
  if (value === '') return undefined
  if (value.toLowerCase() === 'off') return 'off'
  const path = resolve(value)
  let problem: string | undefined
  try {
    if (!statSync(path).isFile()) problem = 'not a file'
    else accessSync(path, constants.R_OK)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    problem = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'not readable' : String(code ?? err)
  }
  if (problem !== undefined) {
    throw new ConfigError(
      'GEOIP_DB',
      `must be off or the path of a readable MMDB file such as GeoLite2-Country.mmdb (got ${JSON.stringify(raw)}: ${problem})`,
    )
  }
  return path
}

/**
 * The shortest retention of the event log: a server event may be MAX_TIMESTAMP_AGE_MS (30 days)
 * old, and a day must stay while events can still be written into it, or each flush of such an
 * event would make the day again for retention to drop again.
 */
const MIN_RETENTION_DAYS = MAX_TIMESTAMP_AGE_MS / 86_400_000 + 1

/** EVENTS_RETENTION_DAYS: 0 (keep forever), or days from MIN_RETENTION_DAYS to a century. */
const retentionDays: Spec<number> = {
  schema: Type.Union([Type.Literal(0), Type.Integer({ minimum: MIN_RETENTION_DAYS, maximum: 36_500 })]),
  expect: `0 (keep every day) or a number of days from ${MIN_RETENTION_DAYS} to 36500`,
  parse: integer(0, 0).parse,
}

const flag: Spec<boolean> = {
  schema: Type.Boolean(),
  expect: 'one of true, false, 1, 0',
  parse: (raw) => {
    const v = raw.trim().toLowerCase()
    return (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : raw) as boolean
  },
}

const url = (protocols: string[]): Spec<string> => ({
  schema: Type.String({ minLength: 1 }),
  expect: `a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
  parse: (raw) => {
    try {
      const u = new URL(raw)
      return protocols.includes(u.protocol) && u.hostname ? raw : ''
    } catch {
      return ''
    }
  },
})

function read<T>(env: Env, name: string, spec: Spec<T>, fallback: T): T
function read<T>(env: Env, name: string, spec: Spec<T>): T | undefined
function read<T>(env: Env, name: string, spec: Spec<T>, fallback?: T): T | undefined {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = spec.parse ? spec.parse(raw) : raw
  if (!Value.Check(spec.schema, value)) {
    const shown = name.includes('TOKEN') || name.includes('SECRET') ? '(hidden)' : JSON.stringify(raw)
    throw new ConfigError(name, `must be ${spec.expect} (got ${shown})`)
  }
  return value as T
}

/** Reads and checks the whole configuration; throws {@link ConfigError} on the first bad value. */
export function loadConfig(env: Env = process.env): Config {
  const origins = commaList(env.ALLOWED_ORIGINS)
  for (const origin of origins) {
    let ok = false
    try {
      const u = new URL(origin)
      ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === origin.replace(/\/$/, '')
    } catch {}
    if (!ok) throw new ConfigError('ALLOWED_ORIGINS', `"${origin}" is not an origin like https://example.com`)
  }
  const clusterNodes = commaList(env.REDIS_CLUSTER_NODES).map((n) => (/^rediss?:\/\//.test(n) ? n : `redis://${n}`))
  for (const node of clusterNodes) {
    let ok = false
    try {
      const u = new URL(node)
      ok = Boolean(u.hostname && u.port)
    } catch {}
    if (!ok)
      throw new ConfigError('REDIS_CLUSTER_NODES', `"${node}" is not a node like 10.0.0.5:6379 or redis://host:6379`)
  }
  const logLevel = env.LOG_LEVEL?.trim() || 'info'
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel))
    throw new ConfigError('LOG_LEVEL', `must be one of debug, info, warn, error (got ${JSON.stringify(logLevel)})`)

  const config: Config = {
    port: read(env, 'PORT', integer(0, 65535), 3000),
    host: parseHost(env.HOST),
    reusePort: read(env, 'REUSE_PORT', flag, false),
    redisUrl: read(env, 'REDIS_URL', url(['redis:', 'rediss:'])),
    redisClusterNodes: clusterNodes,
    databaseUrl: read(env, 'DATABASE_URL', url(['postgres:', 'postgresql:'])),
    flushIntervalMs: read(env, 'FLUSH_INTERVAL_MS', integer(1000, 86_400_000), 300_000),
    eventsPendingMax: read(env, 'EVENTS_PENDING_MAX', integer(1000, 100_000_000), 1_000_000),
    eventsFlushRows: read(env, 'EVENTS_FLUSH_ROWS', integer(100, 10_000_000), 20_000),
    adminToken: read(env, 'ADMIN_TOKEN', secret),
    viewerToken: read(env, 'VIEWER_TOKEN', secret),
    ingestToken: read(env, 'INGEST_TOKEN', secret),
    ingestSites: commaList(env.INGEST_SITES),
    userJwtSecret: read(env, 'USER_JWT_SECRET', jwtSecret),
    allowedOrigins: origins.map((o) => o.replace(/\/$/, '')),
    counterTtlSeconds: read(env, 'COUNTER_TTL_SECONDS', integer(3 * 86_400, 366 * 86_400), 604_800),
    redisPrefix: read(
      env,
      'REDIS_PREFIX',
      { schema: Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$' }), expect: '1-64 characters of A-Z a-z 0-9 _ . : -' },
      'analytics',
    ),
    redisTimeoutMs: read(env, 'REDIS_TIMEOUT_MS', integer(100, 600_000), 5000),
    // a cluster spreads shards over its nodes; one Redis gains nothing from more than one
    redisShards: read(env, 'REDIS_SHARDS', integer(1, 1024), clusterNodes.length > 0 ? 16 : 1),
    redisAllowEviction: read(env, 'REDIS_ALLOW_EVICTION', flag, false),
    migrateOnStart: read(env, 'MIGRATE_ON_START', flag, true),
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    pathQueryParams: parsePathQueryParams(env.PATH_QUERY_PARAMS),
    caps: {
      features: read(env, 'MAX_FEATURES_PER_DAY', integer(1, 10_000_000), 1000),
      paths: read(env, 'MAX_PATHS_PER_DAY', integer(1, 10_000_000), 10_000),
      users: read(env, 'MAX_BEACON_USERS_PER_DAY', integer(1, 100_000_000), 100_000),
      dimensions: read(env, 'MAX_DIMENSION_VALUES_PER_DAY', integer(1, 10_000_000), 1000),
    },
    countedProperties: parseCountedProperties(env.COUNTED_PROPERTIES),
    timeZone: parseTimeZone(env.TIME_ZONE),
    eventsRetentionDays: read(env, 'EVENTS_RETENTION_DAYS', retentionDays, 400),
    readTimeoutMs: read(env, 'READ_TIMEOUT_MS', integer(1000, 3_600_000), 30_000),
    databaseWorkMem: read(
      env,
      'DATABASE_WORK_MEM',
      { schema: Type.String({ pattern: '^[1-9][0-9]{0,6}(kB|MB|GB)$' }), expect: 'a size like 32MB (kB, MB or GB)' },
      '32MB',
    ),
    visitorSaltPeriod: read(
      env,
      'VISITOR_SALT_PERIOD',
      {
        schema: Type.Union([Type.Literal('day'), Type.Literal('month'), Type.Literal('year')]),
        expect: 'day, month or year',
      },
      'year',
    ),
    liveMaxClients: read(env, 'LIVE_MAX_CLIENTS', integer(1, 1_000_000), 10_000),
    rateLimit: {
      perSecond: read(env, 'RATE_LIMIT_PER_SECOND', integer(0, 1_000_000), 50),
      burst: read(env, 'RATE_LIMIT_BURST', integer(1, 1_000_000), 200),
    },
    maxInFlight: read(env, 'MAX_IN_FLIGHT', integer(0, 10_000_000), 5000),
    ingestMaxInFlight: read(env, 'INGEST_MAX_IN_FLIGHT', integer(0, 100_000), 64),
    bodyTimeoutMs: read(env, 'BODY_TIMEOUT_MS', integer(100, 600_000), 10_000),
    dataDir: resolve(env.DATA_DIR?.trim() || PROJECT_DATA_DIR),
    production: env.NODE_ENV === 'production',
    openapi: read(env, 'OPENAPI', flag, env.NODE_ENV !== 'production'),
    logLevel: logLevel as Config['logLevel'],
    geoipDb: parseGeoipDb(env.GEOIP_DB),
  }
  distinctTokens(config)
  return config
}

/**
 * Each token opens something else: one set to another's value would open both. Throws a
 * {@link ConfigError} naming the second of two equal ones.
 */
export function distinctTokens(config: Pick<Config, 'adminToken' | 'viewerToken' | 'ingestToken'>): void {
  const tokens = [
    ['ADMIN_TOKEN', config.adminToken],
    ['VIEWER_TOKEN', config.viewerToken],
    ['INGEST_TOKEN', config.ingestToken],
  ] as const
  for (const [i, [name, value]] of tokens.entries()) {
    for (const [other, otherValue] of tokens.slice(i + 1)) {
      if (value !== undefined && value === otherValue) throw new ConfigError(other, `must differ from ${name}`)
    }
  }
}

/** Masks the password of a connection URL so it can be printed. */
export function maskUrl(raw: string): string {
  try {
    const u = new URL(raw)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return '(unparseable URL)'
  }
}
