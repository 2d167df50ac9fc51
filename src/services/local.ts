/**
 * Redis and Postgres from the machine's own `redis-server` and `postgres` binaries, run as
 * children of this process in a directory of ours. initdb refuses to run as root, so as root the
 * Postgres side runs as the `postgres` user.
 *
 * With `persistent`, the data survives restarts and servers left running by an earlier run in
 * the same directory are found and reused.
 */
import { existsSync, readdirSync } from 'node:fs'
import { chmod, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import type { StartedPostgres, StartedServices } from './provision.ts'

const PG_BIN_DIRS = ['/usr/lib/postgresql', '/usr/local/pgsql', '/opt/homebrew/opt']

export interface PostgresBinaries {
  initdb: string
  postgres: string
}

export interface LocalBinaries extends PostgresBinaries {
  redisServer: string
}

type Missing = { missing: string[] }

/** Finds initdb and postgres on PATH or in the usual Postgres install folders. */
export function findPostgresBinaries(): PostgresBinaries | Missing {
  let initdb = Bun.which('initdb')
  let postgres = Bun.which('postgres')
  if (!initdb || !postgres) {
    for (const root of PG_BIN_DIRS) {
      if (!existsSync(root)) continue
      const versions = readdirSync(root).sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a))
      for (const v of versions) {
        const bin = join(root, v, 'bin')
        if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'postgres'))) {
          initdb = join(bin, 'initdb')
          postgres = join(bin, 'postgres')
          break
        }
      }
      if (initdb && postgres) break
    }
  }
  if (!initdb || !postgres) return { missing: [...(initdb ? [] : ['initdb']), ...(postgres ? [] : ['postgres'])] }
  return { initdb, postgres }
}

/** Finds redis-server on PATH, and Postgres as {@link findPostgresBinaries} does. */
export function findBinaries(): LocalBinaries | Missing {
  const redisServer = Bun.which('redis-server')
  const pg = findPostgresBinaries()
  if (!redisServer || 'missing' in pg) {
    return { missing: [...(redisServer ? [] : ['redis-server']), ...('missing' in pg ? pg.missing : [])] }
  }
  return { redisServer, ...pg }
}

/** A free loopback port (the OS picks it; the tiny race before we bind it is acceptable here). */
async function freePort(): Promise<number> {
  const listener = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = listener.port
  listener.stop(true)
  return port
}

async function lastLogLine(logFile: string): Promise<string> {
  const text = await readFile(logFile, 'utf8').catch(() => '')
  return text.trim().split('\n').pop() ?? ''
}

/** Polls `ready` until it holds; fails early, with its last log line, when the child exits. */
async function waitUntil(
  ready: () => Promise<boolean>,
  child: Subprocess,
  what: string,
  logFile: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`${what} exited with code ${child.exitCode} before it was ready: ${await lastLogLine(logFile)}`)
    if (await ready()) return
    await Bun.sleep(50)
  }
  throw new Error(`${what} was not ready within ${timeoutMs} ms: ${await lastLogLine(logFile)}`)
}

const portOpen = (port: number) => async () => {
  try {
    const sock = await Bun.connect({ hostname: '127.0.0.1', port, socket: { data() {} } })
    sock.end()
    return true
  } catch {
    return false
  }
}

/**
 * Postgres opens its port before it takes connections (those are refused with "the database
 * system is starting up"), and writes `ready` on line 8 of postmaster.pid once it takes them:
 * pg_ctl waits for the same. The port on line 4 tells this start's file from a crashed run's.
 */
const postgresReady = (pidFile: string, port: number) => async () => {
  const lines = (await readFile(pidFile, 'utf8').catch(() => '')).split('\n')
  return lines[3]?.trim() === String(port) && lines[7]?.trim() === 'ready'
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Runs a command as the postgres user when we are root (initdb and postgres refuse root). */
function asPostgresUser(cmd: string[]): string[] {
  return process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--', ...cmd] : cmd
}

async function postgresOwnership(dir: string): Promise<void> {
  if (process.getuid?.() !== 0) return
  const id = Bun.spawnSync(['id', '-u', 'postgres'])
  const gid = Bun.spawnSync(['id', '-g', 'postgres'])
  if (id.exitCode !== 0) throw new Error('running as root needs a "postgres" user to run initdb and postgres')
  await chown(dir, Number(id.stdout.toString()), Number(gid.stdout.toString()))
}

async function stopChild(child: Subprocess, timeoutMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  await child.exited
  clearTimeout(timer)
}

export interface LocalOptions {
  /** where the data lives; a fresh temp dir when absent */
  dir: string
  /** keep data and reuse servers left running in `dir` by an earlier run */
  persistent: boolean
}

async function startRedis(bin: string, dir: string, persistent: boolean) {
  const redisDir = join(dir, 'redis')
  await mkdir(redisDir, { recursive: true })
  const portFile = join(redisDir, 'port')
  const pidFile = join(redisDir, 'redis.pid')
  if (persistent && existsSync(portFile) && existsSync(pidFile)) {
    const pid = Number(await readFile(pidFile, 'utf8'))
    if (pid > 0 && pidAlive(pid)) {
      return { url: `redis://127.0.0.1:${Number(await readFile(portFile, 'utf8'))}`, child: undefined }
    }
  }
  const port = await freePort()
  const persistence = persistent ? ['--appendonly', 'yes', '--appendfsync', 'everysec'] : ['--appendonly', 'no']
  const child = Bun.spawn(
    [
      bin,
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--dir',
      redisDir,
      '--pidfile',
      pidFile,
      '--logfile',
      join(redisDir, 'redis.log'),
      ...persistence,
    ],
    // a process group of its own (see SERVICE_GROUP)
    { stdout: 'ignore', stderr: 'ignore', detached: SERVICE_GROUP },
  )
  await waitUntil(portOpen(port), child, 'redis-server', join(redisDir, 'redis.log'))
  await writeFile(portFile, String(port))
  return { url: `redis://127.0.0.1:${port}`, child }
}

/**
 * The servers run in process groups of their own. A terminal's Ctrl-C (or a supervisor) signals
 * the whole foreground group: had they been in it, Postgres would shut down at once, before the
 * service's final flush could write to it. Out of it, only the service gets the signal, and it
 * stops them itself once it has flushed.
 */
const SERVICE_GROUP = true

async function startPostgres(bins: PostgresBinaries, dir: string, persistent: boolean) {
  const pgDir = join(dir, 'postgres')
  const pidFile = join(pgDir, 'postmaster.pid')
  if (persistent && existsSync(pidFile)) {
    // postmaster.pid: line 1 is the pid, line 4 the port.
    const lines = (await readFile(pidFile, 'utf8')).split('\n')
    const pid = Number(lines[0])
    if (pid > 0 && pidAlive(pid)) {
      return { url: `postgres://postgres@127.0.0.1:${Number(lines[3])}/postgres`, child: undefined }
    }
  }
  if (!existsSync(join(pgDir, 'PG_VERSION'))) {
    await mkdir(pgDir, { recursive: true })
    await chmod(pgDir, 0o700)
    await postgresOwnership(pgDir)
    const init = Bun.spawnSync(
      asPostgresUser([bins.initdb, '-D', pgDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']),
      { stderr: 'pipe', stdout: 'pipe' },
    )
    if (init.exitCode !== 0) throw new Error(`initdb failed: ${init.stderr.toString().trim().split('\n').pop()}`)
  }
  const port = await freePort()
  // Durability settings are for throwaway test data only; a persistent dev database keeps them.
  const fast = persistent ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']
  const child = Bun.spawn(
    asPostgresUser([
      bins.postgres,
      '-D',
      pgDir,
      '-p',
      String(port),
      '-k',
      pgDir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=200',
      ...fast,
    ]),
    { stdout: 'ignore', stderr: Bun.file(join(dir, 'postgres.log')), detached: SERVICE_GROUP },
  )
  await waitUntil(postgresReady(pidFile, port), child, 'postgres', join(dir, 'postgres.log'))
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, child }
}

/** The directory the servers keep their data in; as root, the postgres user must be able to enter it. */
async function prepare(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true })
  if (process.getuid?.() === 0) await chmod(dir, 0o755)
}

export async function startLocal(bins: LocalBinaries, options: LocalOptions): Promise<StartedServices> {
  await prepare(options.dir)
  const redis = await startRedis(bins.redisServer, options.dir, options.persistent)
  let postgres: Awaited<ReturnType<typeof startPostgres>>
  try {
    postgres = await startPostgres(bins, options.dir, options.persistent)
  } catch (err) {
    if (redis.child) await stopChild(redis.child)
    throw err
  }
  return {
    source: 'local',
    redisUrl: redis.url,
    databaseUrl: postgres.url,
    async stop() {
      await Promise.all([redis.child && stopChild(redis.child), postgres.child && stopChild(postgres.child)])
      if (!options.persistent) await rm(options.dir, { recursive: true, force: true })
    },
  }
}

/** Postgres alone, for a command that needs no Redis (`bun run migrate`). */
export async function startLocalPostgres(bins: PostgresBinaries, options: LocalOptions): Promise<StartedPostgres> {
  await prepare(options.dir)
  const postgres = await startPostgres(bins, options.dir, options.persistent)
  return {
    source: 'local',
    databaseUrl: postgres.url,
    async stop() {
      if (postgres.child) await stopChild(postgres.child)
      if (!options.persistent) await rm(options.dir, { recursive: true, force: true })
    },
  }
}
