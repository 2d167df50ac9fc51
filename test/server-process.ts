/**
 * The real service as a child process (`bun src/index.ts`, or another command that starts it) on
 * a free port, with its own database and key prefix unless given. For tests that need a listening
 * server (real HTTP clients, browsers, several instances on one Redis) and for those that watch
 * a start fail: its exit code and what it wrote.
 *
 * @example
 * const server = await spawnServerProcess({ PORT: 'not-a-port' })
 * expect(await server.exited()).toBe(1)
 * expect(server.logs()).toContain('invalid configuration')
 */
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { freshDatabaseUrl, redisUrl, testPrefix } from './services.ts'
import { waitFor } from './wait.ts'

const ROOT = join(import.meta.dir, '..')

export interface ServerProcess {
  url: string
  port: number
  proc: Subprocess<'ignore', 'pipe', 'pipe'>
  /** everything the process wrote to stderr so far (its JSON log lines) */
  logs(): string
  /** everything it printed on stdout so far (`bun run dev`'s banner) */
  output(): string
  /** sends `signal` to the process, or to its whole process group when it has one */
  kill(signal: 'SIGINT' | 'SIGTERM' | 'SIGKILL'): void
  /**
   * Its exit code, once its output is read to the end (so logs() holds its last words). Kills it
   * and fails when it is still running after `timeoutMs`.
   */
  exited(timeoutMs?: number): Promise<number>
  /** sends `signal` unless it is gone, then its exit code as {@link exited} gives it */
  stop(signal?: 'SIGINT' | 'SIGTERM' | 'SIGKILL'): Promise<number>
}

export interface SpawnOptions {
  /** what runs, from `cwd`: `bun src/index.ts` unless given */
  command?: string[]
  /** where it runs: the repository's root unless given (another checkout of the service) */
  cwd?: string
  /**
   * In a process group of its own (setsid), as under a terminal or a process manager; signals
   * then go to the whole group.
   */
  group?: boolean
}

export function freePort(): number {
  const l = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = l.port
  l.stop(true)
  return port
}

/** Reads a stream to its end, handing on the text as it comes. */
async function collect(stream: ReadableStream<Uint8Array>, add: (text: string) => void): Promise<void> {
  const decoder = new TextDecoder()
  for await (const chunk of stream) add(decoder.decode(chunk, { stream: true }))
}

/**
 * Starts the service on `env.PORT`, else a free port, without waiting for it to answer. `env`
 * goes over the test environment; a variable given as undefined is not set at all.
 */
export async function spawnServerProcess(
  env: Record<string, string | undefined> = {},
  { command = ['bun', 'src/index.ts'], cwd = ROOT, group = false }: SpawnOptions = {},
): Promise<ServerProcess> {
  const port = env.PORT === undefined ? freePort() : Number(env.PORT)
  const merged: Record<string, string | undefined> = {
    ...process.env,
    HOST: '127.0.0.1',
    PORT: String(port),
    REDIS_URL: await redisUrl(),
    // a fresh database only when the test does not say which, or that there is none
    DATABASE_URL: 'DATABASE_URL' in env ? undefined : await freshDatabaseUrl(),
    REDIS_PREFIX: testPrefix(),
    ADMIN_TOKEN: 'test-admin-token-0123456789',
    INGEST_TOKEN: 'test-ingest-token-0123456789',
    USER_JWT_SECRET: 'test-jwt-secret-0123456789abcdef',
    ...env,
  }
  const proc = Bun.spawn(group ? ['setsid', ...command] : command, {
    cwd,
    env: Object.fromEntries(Object.entries(merged).filter(([, value]) => value !== undefined)) as Record<
      string,
      string
    >,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  let logs = ''
  let output = ''
  const read = Promise.all([
    collect(proc.stderr, (text) => {
      logs += text
    }),
    collect(proc.stdout, (text) => {
      output += text
    }),
  ])
  const kill = (signal: 'SIGINT' | 'SIGTERM' | 'SIGKILL') => {
    if (!group) return proc.kill(signal)
    // setsid makes the child the leader of a new group, whose id is its pid; a group whose
    // processes are all gone cannot be signalled, and needs no signal
    try {
      process.kill(-proc.pid, signal)
    } catch {}
  }
  const exited = async (timeoutMs = 20_000) => {
    try {
      await waitFor(() => proc.exitCode !== null || proc.signalCode !== null, {
        what: () => `the server to exit: ${logs}`,
        timeoutMs,
        intervalMs: 50,
      })
    } catch (err) {
      kill('SIGKILL')
      throw err
    }
    const code = await proc.exited
    await read
    return code
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    proc,
    logs: () => logs,
    output: () => output,
    kill,
    exited,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) kill(signal)
      return exited()
    },
  }
}

/** Starts the service as {@link spawnServerProcess} does, and resolves once /healthz answers. */
export async function startServerProcess(
  env: Record<string, string | undefined> = {},
  options: SpawnOptions = {},
): Promise<ServerProcess> {
  const server = await spawnServerProcess(env, options)
  try {
    await waitFor(
      async () => {
        if (server.proc.exitCode !== null)
          throw new Error(`server exited with ${server.proc.exitCode}: ${server.logs()}`)
        return (await fetch(`${server.url}/healthz`).catch(() => undefined))?.ok
      },
      { what: () => `the server to answer /healthz: ${server.logs()}`, timeoutMs: 20_000, intervalMs: 50 },
    )
  } catch (err) {
    server.kill('SIGKILL')
    throw err
  }
  return server
}
