/**
 * `bun run site`: sites from a shell, for setups kept in scripts. It writes Postgres
 * (DATABASE_URL) as the admin routes do, then raises the sites' version in Redis (REDIS_URL,
 * REDIS_PREFIX) so that running instances reload within a second; without Redis they do within a
 * minute.
 *
 *   bun run site list
 *   bun run site add shop.example.com www.shop.example.com --time-zone Europe/Berlin [--name Shop]
 *                   [--origins https://shop.example.com] [--properties plan,tier]
 *   bun run site update <id or domain> [--domains a.com,b.com] [--name …] [--time-zone …|default]
 *                   [--origins …|default] [--properties …|default]
 *   bun run site delete <id or domain> [--yes]
 *
 * `delete` asks for the site's name before it deletes the site and its data; `--yes` does not ask
 * (a script's choice), and without a terminal to ask on it refuses unless given.
 */
import { createInterface } from 'node:readline/promises'
import { createClient } from 'redis'
import { ConfigError, loadConfig } from './config.ts'
import { createKeys, type Keys } from './counters/keys.ts'
import { openDatabase } from './db/pool.ts'
import { HttpError } from './errors.ts'
import { errorMessage } from './log.ts'
import { DEFAULT_SITE, parseSiteBody, type Site, siteOf, sitesOf } from './sites/site.ts'
import { createSite, deleteSite, deleteSiteKeys, siteIdOf, storedSites, updateSite } from './sites/store.ts'

const USAGE = `usage:
  bun run site list
  bun run site add <domain> [<domain>…] [--name N] [--time-zone Z] [--origins o1,o2] [--properties p1,p2]
  bun run site update <id or domain> [--domains d1,d2] [--name N] [--time-zone Z|default] [--origins …|default] [--properties …|default]
  bun run site delete <id or domain> [--yes]`

function fail(message: string): never {
  process.stderr.write(`site: ${message}\n`)
  process.exit(1)
}

/** Positional arguments and `--flag value` options (`--yes` takes none). */
function parseArgs(args: readonly string[]): { positional: string[]; options: Map<string, string> } {
  const positional: string[] = []
  const options = new Map<string, string>()
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (!arg.startsWith('--')) {
      positional.push(arg)
      continue
    }
    const name = arg.slice(2)
    if (name === 'yes') options.set(name, 'true')
    else {
      const value = args[i + 1]
      if (value === undefined || value.startsWith('--')) fail(`--${name} needs a value\n${USAGE}`)
      options.set(name, value)
      i++
    }
  }
  return { positional, options }
}

const OPTION_FIELDS: Record<string, string> = {
  name: 'name',
  domains: 'domains',
  'time-zone': 'time_zone',
  origins: 'allowed_origins',
  properties: 'counted_properties',
}

/** The options as a site's JSON body; `default` resets a setting. */
function bodyOf(options: Map<string, string>, domains?: string[]): Record<string, unknown> {
  const body: Record<string, unknown> = {}
  if (domains) body.domains = domains
  for (const [option, value] of options) {
    if (option === 'yes') continue
    const field = OPTION_FIELDS[option]
    if (!field) fail(`--${option} is not an option of this command\n${USAGE}`)
    if (field === 'name') body.name = value
    else if (value === 'default' && field !== 'domains') body[field] = null
    else if (field === 'time_zone') body.time_zone = value
    else
      body[field] = value
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '')
  }
  return body
}

const line = (s: Site) =>
  `${String(s.id).padStart(5)}  ${s.name}  domains: ${s.domains.join(', ') || '(none)'}  time zone: ${s.timeZone}` +
  `  origins: ${s.allowedOrigins.join(', ') || (s.id === DEFAULT_SITE ? '(any)' : '(its domains)')}` +
  `  counted properties: ${s.countedProperties.join(', ') || '(none)'}`

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2)
  if (!command || command === 'help' || command === '--help') {
    process.stdout.write(`${USAGE}\n`)
    return
  }
  if (!['list', 'add', 'update', 'delete'].includes(command)) fail(`no command ${JSON.stringify(command)}\n${USAGE}`)
  const config = loadConfig()
  if (!config.databaseUrl) fail('DATABASE_URL is required: the database the service uses')
  const defaults = {
    timeZone: config.timeZone,
    allowedOrigins: config.allowedOrigins,
    countedProperties: config.countedProperties,
  }
  const db = await openDatabase(config.databaseUrl, { max: 2 })
  const { positional, options } = parseArgs(rest)
  const all = async () => sitesOf(await storedSites(db.pool), defaults)
  let changed = false
  /** a site whose keys are to go from Redis: one deleted, or one added under an id used before */
  let cleared: number | undefined
  try {
    if (command === 'list') {
      for (const site of await all()) process.stdout.write(`${line(site)}\n`)
    } else if (command === 'add') {
      if (positional.length === 0) fail(`add needs at least one domain\n${USAGE}`)
      const site = await createSite(db.pool, parseSiteBody(bodyOf(options, positional), 'create'))
      changed = true
      cleared = site.id
      process.stdout.write(`added ${line(siteOf(site, defaults, site.id))}\n`)
    } else if (command === 'update') {
      if (positional.length !== 1) fail(`update needs one site (its id or a domain)\n${USAGE}`)
      const id = await siteIdOf(db.pool, positional[0]!)
      const site = await updateSite(db.pool, id, parseSiteBody(bodyOf(options), 'update'))
      changed = true
      process.stdout.write(`updated ${line(siteOf(site, defaults, site.id))}\n`)
    } else if (command === 'delete') {
      if (positional.length !== 1) fail(`delete needs one site (its id or a domain)\n${USAGE}`)
      const id = await siteIdOf(db.pool, positional[0]!)
      const site = (await all()).find((s) => s.id === id)
      if (!site) fail(`no site ${id}`)
      if (id === DEFAULT_SITE) fail('the default site (0) holds the history from before sites, and cannot be deleted')
      if (options.get('yes') !== 'true') {
        if (!process.stdin.isTTY)
          fail('delete asks for confirmation on a terminal; give --yes to delete without asking')
        const rl = createInterface({ input: process.stdin, output: process.stdout })
        const answer = await rl.question(
          `Delete site ${id} (${site.name}: ${site.domains.join(', ')}) and all its data? Type its name to confirm: `,
        )
        rl.close()
        if (answer.trim() !== site.name) fail('not deleted: the name did not match')
      }
      await deleteSite(db.pool, id)
      changed = true
      cleared = id
      process.stdout.write(`deleted site ${id} (${site.name}) and its data\n`)
    } else fail(`no command ${JSON.stringify(command)}\n${USAGE}`)
  } finally {
    await db.close()
  }
  if (changed) await announce(config.redisUrl, createKeys(config.redisPrefix, config.redisShards), cleared)
}

/** Raises the sites' version, so running instances reload now rather than within a minute. */
/**
 * Raises the sites' version, so running instances reload them at once, and deletes the keys of the
 * site `cleared` names.
 */
async function announce(url: string | undefined, keys: Keys, cleared?: number): Promise<void> {
  if (!url) {
    process.stdout.write('no REDIS_URL: running instances see the change within a minute\n')
    if (cleared !== undefined) process.stdout.write(`the site's keys in Redis stay until their TTL\n`)
    return
  }
  const redis = createClient({ url, socket: { connectTimeout: 2000, reconnectStrategy: false } })
  redis.on('error', () => {})
  try {
    await redis.connect()
    await redis.incr(keys.sites)
    if (cleared !== undefined) await deleteSiteKeys(redis, keys, cleared)
  } catch (err) {
    process.stdout.write(
      `Redis did not answer (${errorMessage(err)}): running instances see the change within a minute\n`,
    )
  } finally {
    if (redis.isOpen) await redis.quit()
  }
}

try {
  await main()
} catch (err) {
  if (err instanceof ConfigError) fail(`invalid configuration: ${err.message}`)
  if (err instanceof HttpError) fail(err.message)
  // a database this version's migrations have not reached
  if ((err as { code?: string }).code === '42P01') fail('the database lacks the sites table: run bun run migrate first')
  fail(errorMessage(err))
}
