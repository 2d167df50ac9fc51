/**
 * Shared links: random read-only tokens of one site each (sql/014_site_links.sql). An admin makes,
 * names, lists and revokes them; the token is shown once, when made, and only its SHA-256 is kept.
 * Every instance holds the digests in memory with the sites (registry.ts), so checking one costs
 * no Postgres query, and a revoked link stops working on every instance within the registry's
 * interval.
 *
 * @example
 * const { link, token } = await createLink(pool, 3, 'Board')   // token: 'sl_…', shown once
 * await deleteLink(pool, 3, link.id)
 */
import { createHash, randomBytes } from 'node:crypto'
import type { Pool } from '@neondatabase/serverless'
import { HttpError } from '../errors.ts'

export interface SiteLink {
  id: number
  site: number
  name: string
  created_at: string
}

/** A link as the registry keeps it: whose it is, and the digest of its token. */
export interface LinkDigest {
  id: number
  site: number
  digest: Buffer
}

export const MAX_LINKS_PER_SITE = 50
export const MAX_LINK_NAME_LENGTH = 100
/** 24 random bytes: 192 bits, base64url, after a prefix that says what the token is. */
const TOKEN_BYTES = 24

/** The SHA-256 of a token: what is stored, and what a token given is compared by. */
export const tokenDigest = (token: string): Buffer => createHash('sha256').update(token).digest()

const COLUMNS = `id, site, name, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS created_at`

const linkOf = (row: { id: number; site: number; name: string; created_at: string }): SiteLink => ({
  id: Number(row.id),
  site: Number(row.site),
  name: row.name,
  created_at: row.created_at,
})

/** A link's name from a request's body: 422 naming `name` when it is none. */
export function parseLinkName(body: unknown): string {
  const name = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).name : undefined
  if (typeof name !== 'string' || name.trim() === '')
    throw new HttpError(422, 'name is required: what the link is for (a person, a screen, a client)', { field: 'name' })
  const trimmed = name.trim()
  if (trimmed.length > MAX_LINK_NAME_LENGTH)
    throw new HttpError(422, `name must be at most ${MAX_LINK_NAME_LENGTH} characters`, { field: 'name' })
  return trimmed
}

/** Every link's digest, for the registry. */
export async function linkDigests(pool: Pool): Promise<LinkDigest[]> {
  const r = await pool.query('SELECT id, site, token_hash FROM analytics_site_links')
  return (r.rows as { id: number; site: number; token_hash: Buffer }[]).map((row) => ({
    id: Number(row.id),
    site: Number(row.site),
    digest: Buffer.from(row.token_hash),
  }))
}

/** A site's links, oldest first. */
export async function listLinks(pool: Pool, site: number): Promise<SiteLink[]> {
  const r = await pool.query(`SELECT ${COLUMNS} FROM analytics_site_links WHERE site = $1 ORDER BY id`, [site])
  return (r.rows as Parameters<typeof linkOf>[0][]).map(linkOf)
}

/** Makes a link of the site; 409 when its name is taken there, 422 past {@link MAX_LINKS_PER_SITE}. */
export async function createLink(pool: Pool, site: number, name: string): Promise<{ link: SiteLink; token: string }> {
  const token = `sl_${randomBytes(TOKEN_BYTES).toString('base64url')}`
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    // the count and the insert under one lock: two makings racing at the limit cannot both pass it
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('analytics_site_links'))`)
    const n = Number(
      (
        (await client.query('SELECT count(*) AS n FROM analytics_site_links WHERE site = $1', [site])).rows[0] as {
          n: string
        }
      ).n,
    )
    if (n >= MAX_LINKS_PER_SITE)
      throw new HttpError(
        422,
        `site ${site} has ${n} shared links already; at most ${MAX_LINKS_PER_SITE}: revoke one first`,
      )
    const r = await client.query(
      `INSERT INTO analytics_site_links (site, name, token_hash) VALUES ($1, $2, $3)
       ON CONFLICT (site, name) DO NOTHING RETURNING ${COLUMNS}`,
      [site, name, tokenDigest(token)],
    )
    const row = r.rows[0] as Parameters<typeof linkOf>[0] | undefined
    if (!row) throw new HttpError(409, `a shared link is named ${JSON.stringify(name)} already`, { field: 'name' })
    await client.query('COMMIT')
    return { link: linkOf(row), token }
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    throw err
  } finally {
    client.release()
  }
}

/** Revokes a link of the site; 404 when the site has none of that id. */
export async function deleteLink(pool: Pool, site: number, id: string): Promise<void> {
  const n = /^[1-9][0-9]{0,9}$/.test(id) && Number(id) <= 2 ** 31 - 1 ? Number(id) : undefined
  const r =
    n === undefined
      ? { rowCount: 0 }
      : await pool.query('DELETE FROM analytics_site_links WHERE site = $1 AND id = $2', [site, n])
  if (!r.rowCount) throw new HttpError(404, `site ${site} has no shared link ${JSON.stringify(id.slice(0, 60))}`)
}
