import { describe, expect, test } from 'bun:test'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase } from '../src/db/pool.ts'
import { findPostgresBinaries, startLocalPostgres } from '../src/services/local.ts'
import { provisionPostgres } from '../src/services/provision.ts'

const binaries = 'missing' in findPostgresBinaries() ? undefined : findPostgresBinaries()
if (!binaries) console.warn('initdb or postgres not found: local Postgres provisioning not tested')
// as root, postgres runs as the postgres user, stand-in or not
const canRunPostgres = process.getuid?.() !== 0 || Bun.spawnSync(['id', '-u', 'postgres']).exitCode === 0

/** This process's live children, pid → name, from /proc (Linux). */
function children(): Map<string, string> {
  const names = new Map<string, string>()
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    let stat: string
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    } catch {
      continue
    }
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'
    const close = stat.lastIndexOf(')')
    const [, ppid] = stat.slice(close + 2).split(' ')
    if (Number(ppid) === process.pid) names.set(pid, stat.slice(stat.indexOf('(') + 1, close))
  }
  return names
}

/** The names of the children started since `before`. */
const newChildren = (before: Map<string, string>): string[] =>
  [...children()].filter(([pid]) => !before.has(pid)).map(([, name]) => name)

describe('provisioning Postgres alone', () => {
  test.skipIf(!binaries || !existsSync('/proc'))(
    'from local binaries starts Postgres and no redis-server, and stop() ends it',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'edge-analytics-pg-'))
      const before = children()
      const postgres = await provisionPostgres({ dataDir: dir, persistent: false, containers: false })
      try {
        expect(postgres.source).toBe('local')
        const db = await openDatabase(postgres.databaseUrl, { max: 1 })
        try {
          expect((await db.pool.query('SELECT 1 AS one')).rows[0].one).toBe(1)
        } finally {
          await db.close()
        }
        // by pid: a child of an earlier test of this process may have the same name
        const started = newChildren(before)
        // as root, postgres runs under runuser
        expect(started.some((name) => name === 'postgres' || name === 'runuser')).toBe(true)
        expect(started).not.toContain('redis-server')
        expect(existsSync(join(dir, 'redis'))).toBe(false)
      } finally {
        await postgres.stop()
      }
      expect(newChildren(before)).toEqual([])
      expect(existsSync(dir)).toBe(false)
    },
    60_000,
  )

  test.skipIf(!canRunPostgres)(
    'a local Postgres is handed out once it takes connections, not when its port opens',
    async () => {
      const bin = await mkdtemp(join(tmpdir(), 'edge-analytics-bin-'))
      await chmod(bin, 0o755)
      const fake = join(bin, 'postgres')
      const script = join(import.meta.dir, 'fixtures', 'slow-postgres.ts')
      await writeFile(fake, `#!/bin/sh\nexec "${process.execPath}" "${script}" "$@"\n`, { mode: 0o755 })
      const dir = await mkdtemp(join(tmpdir(), 'edge-analytics-pg-'))
      const initdb = Bun.which('true') ?? '/bin/true'
      const postgres = await startLocalPostgres({ initdb, postgres: fake }, { dir, persistent: false })
      try {
        const pidFile = await readFile(join(dir, 'postgres', 'postmaster.pid'), 'utf8')
        expect(pidFile.split('\n')[7]?.trim()).toBe('ready')
      } finally {
        await postgres.stop()
        await rm(bin, { recursive: true, force: true })
      }
    },
    30_000,
  )
})
