/**
 * Applies the numbered plain-SQL files of `sql/` in order, each in its own transaction, and
 * records them in `schema_migrations`. A session advisory lock makes concurrent starts of several
 * instances apply each file once; running it again applies nothing.
 *
 * @example
 * const applied = await migrate(db.pool) // ['001_counters']
 */
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Pool } from '@neondatabase/serverless'

export const SQL_DIR = join(import.meta.dir, '..', '..', 'sql')

/** Arbitrary constant shared by every instance of this service. */
const LOCK_KEY = 7_311_042_118

export interface Migration {
  version: string
  path: string
}

export async function listMigrations(dir = SQL_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d+_[\w-]+\.sql$/.test(f))
  return files
    .sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10))
    .map((f) => ({ version: f.replace(/\.sql$/, ''), path: join(dir, f) }))
}

/** Applies pending migrations; returns the versions it applied (empty when up to date). */
export async function migrate(pool: Pool, dir = SQL_DIR): Promise<string[]> {
  const migrations = await listMigrations(dir)
  const client = await pool.connect()
  const applied: string[] = []
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY])
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    )
    const done = new Set(
      (await client.query<{ version: string }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version),
    )
    for (const m of migrations) {
      if (done.has(m.version)) continue
      const sql = await Bun.file(m.path).text()
      await client.query('BEGIN')
      try {
        await client.query(sql)
        await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [m.version])
        await client.query('COMMIT')
      } catch (err) {
        await client.query('ROLLBACK')
        throw new Error(`migration ${m.version} failed: ${err instanceof Error ? err.message : err}`)
      }
      applied.push(m.version)
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => {})
    client.release()
  }
  return applied
}
