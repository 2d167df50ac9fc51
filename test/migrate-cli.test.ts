import { describe, expect, test } from 'bun:test'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { dockerAvailable } from '../src/services/containers.ts'
import { findPostgresBinaries } from '../src/services/local.ts'
import { emptyDatabaseUrl } from './services.ts'

const ROOT = join(import.meta.dir, '..')
const SRC = join(ROOT, 'src')
const SERVICES = join(SRC, 'services')

/** Every module specifier a file names: imports (type-only too), re-exports, dynamic imports. */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  return [...text.matchAll(/\b(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1] ?? '')
}

/** The files of src/ a module loads when it starts: its static imports, followed to the end. */
function staticClosure(entry: string): string[] {
  const transpiler = new Bun.Transpiler({ loader: 'ts' })
  const seen = new Set<string>()
  const visit = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    for (const { path, kind } of transpiler.scanImports(readFileSync(file, 'utf8'))) {
      if (kind === 'import-statement' && path.startsWith('.')) visit(resolve(dirname(file), path))
    }
  }
  visit(entry)
  return [...seen].map((f) => relative(ROOT, f))
}

/** Runs `bun run migrate` from the project root with `env` over an environment without service URLs. */
async function runMigrate(env: Record<string, string>) {
  const base = { ...process.env }
  for (const name of ['REDIS_URL', 'DATABASE_URL', 'NODE_ENV', 'DATA_DIR']) delete base[name]
  const proc = Bun.spawn(['bun', 'run', '--silent', 'migrate'], {
    cwd: ROOT,
    env: { ...base, ...env },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  return { stdout, stderr, code }
}

const localPostgres = !('missing' in findPostgresBinaries()) && !(await dockerAvailable())
if (!localPostgres) console.warn('no local Postgres binaries (or a Docker engine answers): dev fallback not tested')

describe('bun run migrate', () => {
  test('nothing under src/db imports src/services', () => {
    const dir = join(SRC, 'db')
    const offending = readdirSync(dir)
      .filter((name) => name.endsWith('.ts'))
      .flatMap((name) =>
        specifiers(join(dir, name))
          .filter((s) => s.startsWith('.') && resolve(dir, s).startsWith(`${SERVICES}/`))
          .map((s) => `${name} imports ${s}`),
      )
    expect(offending).toEqual([])
  })

  test('the production entry points load no provisioning code', () => {
    for (const entry of ['index.ts', 'migrate.ts']) {
      const loaded = staticClosure(join(SRC, entry))
      expect(loaded).toContain(`src/${entry}`)
      expect(loaded.filter((f) => f.startsWith('src/services/'))).toEqual([])
    }
  })

  test('with DATABASE_URL: migrates it, then is up to date, and provisions nothing', async () => {
    const dataDir = join(await mkdtemp(join(tmpdir(), 'edge-analytics-migrate-')), 'data')
    try {
      const env = { DATABASE_URL: await emptyDatabaseUrl(), DATA_DIR: dataDir }
      const first = await runMigrate(env)
      expect(first.code).toBe(0)
      expect(first.stdout).toStartWith('applied: 001_counters')
      const second = await runMigrate(env)
      expect(second.code).toBe(0)
      expect(second.stdout).toBe('up to date\n')
      expect(existsSync(dataDir)).toBe(false)
    } finally {
      await rm(dirname(dataDir), { recursive: true, force: true })
    }
  }, 30_000)

  test('NODE_ENV=production without DATABASE_URL: one line saying it is required, exit 1', async () => {
    const dataDir = join(await mkdtemp(join(tmpdir(), 'edge-analytics-migrate-')), 'data')
    try {
      const run = await runMigrate({ NODE_ENV: 'production', DATA_DIR: dataDir })
      expect(run.code).toBe(1)
      expect(run.stdout).toBe('')
      const lines = run.stderr.split('\n').filter(Boolean)
      expect(lines).toEqual([
        'migrate: DATABASE_URL is required with NODE_ENV=production; set it to the database to migrate',
      ])
      expect(existsSync(dataDir)).toBe(false)
    } finally {
      await rm(dirname(dataDir), { recursive: true, force: true })
    }
  }, 30_000)

  test.skipIf(!localPostgres)(
    'without DATABASE_URL in development: migrates the dev database in DATA_DIR, starting Postgres alone',
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'edge-analytics-migrate-'))
      const pidFile = join(dataDir, 'postgres', 'postmaster.pid')
      try {
        const first = await runMigrate({ DATA_DIR: dataDir })
        expect(first.stderr).not.toContain('migrate:')
        expect(first.code).toBe(0)
        expect(first.stdout).toContain(`migrating the development database (${dataDir})`)
        expect(first.stdout).toContain('applied: 001_counters')
        expect(existsSync(join(dataDir, 'postgres', 'PG_VERSION'))).toBe(true)
        expect(existsSync(join(dataDir, 'redis'))).toBe(false)
        // the Postgres it started is stopped again, and its data kept for the next run
        expect(existsSync(pidFile)).toBe(false)
        const second = await runMigrate({ DATA_DIR: dataDir })
        expect(second.code).toBe(0)
        expect(second.stdout).toEndWith('up to date\n')
        expect(existsSync(pidFile)).toBe(false)
      } finally {
        // a run that failed half-way may have left its Postgres running
        const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) : 0
        if (pid > 0) process.kill(pid, 'SIGTERM')
        await rm(dataDir, { recursive: true, force: true })
      }
    },
    60_000,
  )
})
