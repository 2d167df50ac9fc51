/**
 * Sites in Postgres (`analytics_sites`, `analytics_site_domains`). Every change runs in one
 * transaction under an advisory lock, so two admins (or instances) cannot both take a domain, a
 * name or the last free id; a domain is one site's (its primary key says so too).
 *
 * @example
 * const site = await createSite(pool, parseSiteBody(body, 'create')) // 409 when a domain is taken
 * const all = await storedSites(pool)                                 // by id
 */
import type { Pool, PoolClient } from '@neondatabase/serverless'
import type { Keys } from '../counters/keys.ts'
import type { Redis } from '../db/redis.ts'
import { HttpError } from '../errors.ts'
import {
  DEFAULT_SITE,
  MAX_SITE_ID,
  MAX_SITES,
  type SiteFields,
  type StoredSite,
  siteDomain,
  siteNumber,
} from './site.ts'

/** The advisory lock every change of sites holds (an arbitrary constant of this service's). */
const SITES_LOCK = 7_231_026

interface SiteRow {
  id: number
  name: string
  time_zone: string | null
  allowed_origins: string[] | null
  counted_properties: string[] | null
  domains: string[] | null
}

const SELECT = `SELECT s.id, s.name, s.time_zone, s.allowed_origins, s.counted_properties,
    (SELECT array_agg(domain ORDER BY domain) FROM analytics_site_domains d WHERE d.site = s.id) AS domains
  FROM analytics_sites s`

const storedOf = (r: SiteRow): StoredSite => ({
  id: Number(r.id),
  name: r.name,
  domains: r.domains ?? [],
  timeZone: r.time_zone,
  allowedOrigins: r.allowed_origins,
  countedProperties: r.counted_properties,
})

/** The id of the site `name` names (digits: an id; else a domain), or 404. */
export async function siteIdOf(pool: Pool, name: string): Promise<number> {
  const id = siteNumber(name)
  if (id !== undefined) return id
  const domain = siteDomain(name)
  if (domain !== undefined) {
    const r = await pool.query('SELECT site FROM analytics_site_domains WHERE domain = $1', [domain])
    const row = r.rows[0] as { site: number } | undefined
    if (row) return Number(row.site)
  }
  throw new HttpError(404, `no site has the id or domain ${JSON.stringify(name.slice(0, 100))}`, { parameter: 'site' })
}

/** Every stored site, by id. */
export async function storedSites(pool: Pool | PoolClient): Promise<StoredSite[]> {
  const r = await pool.query(`${SELECT} ORDER BY s.id`)
  return (r.rows as SiteRow[]).map(storedOf)
}

async function inLock<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    await client.query('SELECT pg_advisory_xact_lock($1)', [SITES_LOCK])
    const out = await work(client)
    await client.query('COMMIT')
    return out
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    throw err
  } finally {
    client.release()
  }
}

/** 409 when a name or a domain is another site's. */
async function checkFree(client: PoolClient, id: number, fields: SiteFields): Promise<void> {
  if (fields.name !== undefined) {
    const r = await client.query('SELECT id FROM analytics_sites WHERE name = $1 AND id <> $2', [fields.name, id])
    if (r.rows.length > 0)
      throw new HttpError(409, `a site is named ${JSON.stringify(fields.name)} already`, { field: 'name' })
  }
  if (fields.domains !== undefined && fields.domains.length > 0) {
    const r = await client.query(
      'SELECT domain, site FROM analytics_site_domains WHERE domain = ANY($1::text[]) AND site <> $2 ORDER BY domain',
      [fields.domains, id],
    )
    const taken = r.rows[0] as { domain: string; site: number } | undefined
    if (taken) {
      throw new HttpError(409, `${taken.domain} counts for site ${taken.site} already`, {
        field: `domains[${fields.domains.indexOf(taken.domain)}]`,
      })
    }
  }
}

async function writeSite(client: PoolClient, id: number, fields: SiteFields, create: boolean): Promise<void> {
  if (create) {
    await client.query(
      `INSERT INTO analytics_sites (id, name, time_zone, allowed_origins, counted_properties) VALUES ($1, $2, $3, $4, $5)`,
      [
        id,
        fields.name ?? fields.domains?.[0] ?? String(id),
        fields.timeZone ?? null,
        fields.allowedOrigins ?? null,
        fields.countedProperties ?? null,
      ],
    )
  } else {
    const sets: string[] = []
    const values: unknown[] = [id]
    const set = (column: string, value: unknown) => {
      values.push(value)
      sets.push(`${column} = $${values.length}`)
    }
    if (fields.name !== undefined) set('name', fields.name)
    if (fields.timeZone !== undefined) set('time_zone', fields.timeZone)
    if (fields.allowedOrigins !== undefined) set('allowed_origins', fields.allowedOrigins)
    if (fields.countedProperties !== undefined) set('counted_properties', fields.countedProperties)
    if (sets.length > 0) await client.query(`UPDATE analytics_sites SET ${sets.join(', ')} WHERE id = $1`, values)
  }
  if (fields.domains !== undefined) {
    await client.query('DELETE FROM analytics_site_domains WHERE site = $1', [id])
    await client.query('INSERT INTO analytics_site_domains (domain, site) SELECT unnest($1::text[]), $2', [
      fields.domains,
      id,
    ])
  }
}

async function findRow(client: PoolClient, id: number): Promise<StoredSite | undefined> {
  const r = await client.query(`${SELECT} WHERE s.id = $1`, [id])
  const row = r.rows[0] as SiteRow | undefined
  return row ? storedOf(row) : undefined
}

/** Adds a site under the least free id from 1; 409 when a domain or the name is taken. */
export async function createSite(pool: Pool, fields: SiteFields): Promise<StoredSite> {
  return inLock(pool, async (client) => {
    const count = await client.query('SELECT count(*)::int AS n FROM analytics_sites WHERE id <> $1', [DEFAULT_SITE])
    if ((count.rows[0] as { n: number }).n >= MAX_SITES)
      throw new HttpError(422, `there are ${MAX_SITES} sites already: delete one first`)
    const free = await client.query(
      `SELECT min(n) AS id FROM generate_series(1, $1::int) n WHERE NOT EXISTS (SELECT 1 FROM analytics_sites WHERE id = n)`,
      [MAX_SITE_ID],
    )
    const id = Number((free.rows[0] as { id: number }).id)
    const name = fields.name ?? fields.domains?.[0]
    await checkFree(client, id, { ...fields, name })
    // an id is used again once freed: a flush still running when its site was deleted may have
    // written rows of it since, and they are not the new site's
    await purgeRows(client, id)
    await writeSite(client, id, { ...fields, name }, true)
    return (await findRow(client, id))!
  })
}

/**
 * Changes what `fields` names of site `id`; site 0 gets its row (its settings then its own) on
 * its first change. 404 for no such site, 409 as {@link createSite}.
 */
export async function updateSite(pool: Pool, id: number, fields: SiteFields): Promise<StoredSite> {
  return inLock(pool, async (client) => {
    const before = await findRow(client, id)
    if (!before && id !== DEFAULT_SITE) throw new HttpError(404, `no site ${id}`, { parameter: 'site' })
    await checkFree(client, id, fields)
    await writeSite(client, id, before ? fields : { name: 'default', ...fields }, !before)
    return (await findRow(client, id))!
  })
}

/**
 * Deletes site `id` and what is its own: its domains, goals and funnels, and its rows of the
 * event log. The default site cannot be deleted (422): its row can be reset by setting its
 * settings to null.
 */
export async function deleteSite(pool: Pool, id: number): Promise<void> {
  if (id === DEFAULT_SITE)
    throw new HttpError(422, 'the default site (0) holds the history from before sites, and cannot be deleted', {
      parameter: 'site',
    })
  await inLock(pool, async (client) => {
    const r = await client.query('DELETE FROM analytics_sites WHERE id = $1', [id])
    if (r.rowCount === 0) throw new HttpError(404, `no site ${id}`, { parameter: 'site' })
    await purgeRows(client, id)
  })
}

/** Every table that holds a site's rows (sql/013_site_counters.sql and before). */
const SITE_TABLES = [
  'analytics_site_links',
  'analytics_funnels',
  'analytics_goals',
  'analytics_events',
  'analytics_visits',
  'analytics_daily',
  'analytics_quarters',
  'analytics_user_daily',
  'analytics_users',
  'analytics_feature_daily',
  'analytics_page_daily',
  'analytics_visitors_daily',
  'analytics_visitors_monthly',
  'analytics_dimension_daily',
  'analytics_dimension_monthly',
]

/** Deletes every row of site `id`: its goals, funnels, counters and event log. */
async function purgeRows(client: PoolClient, id: number): Promise<void> {
  for (const table of SITE_TABLES) await client.query(`DELETE FROM ${table} WHERE site = $1`, [id])
}

/**
 * Deletes site `id`'s keys from Redis: its pending counts, snapshots, live counters, visitors and
 * salts (every key of its part of the key space, in every shard). Run after the site is gone from
 * Postgres, and before an id is used again.
 */
export async function deleteSiteKeys(redis: Redis, keys: Keys, id: number): Promise<number> {
  if (id === DEFAULT_SITE) return 0
  const site = keys.forSite(id)
  const bases = new Set([`${site.tag}:s${id}`, ...site.shards.map((shard) => shard.base)])
  let deleted = 0
  for (const base of bases) {
    const match = `${base.replace(/[*?[\]\\]/g, '\\$&')}:*`
    for await (const batch of redis.scanIterator({ MATCH: match, COUNT: 1000 })) {
      if (batch.length > 0) deleted += await redis.del(batch)
    }
  }
  return deleted
}
