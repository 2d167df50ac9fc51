/**
 * The real service as a child process (`bun src/index.ts`) on a free port, with its own database
 * and key prefix unless given. For tests that need a listening server: real HTTP clients,
 * browsers, several instances on one Redis.
 */
import type { Subprocess } from 'bun'
import { freshDatabaseUrl, redisUrl, testPrefix } from './services.ts'
import { waitFor } from './wait.ts'

export interface ServerProcess {
  url: string
  port: number
  proc: Subprocess<'ignore', 'pipe', 'pipe'>
  /** everything the process wrote to stderr so far (its JSON log lines) */
  logs(): string
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<number>
}

export function freePort(): number {
  const l = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = l.port
  l.stop(true)
  return port
}

export interface SpawnedServer {
  port: number
  proc: Subprocess<'ignore', 'pipe', 'pipe'>
  logs(): string
  /** resolves when stderr has been read to its end (the process is gone) */
  logsRead: Promise<void>
}

/** `bun src/index.ts` on `env.PORT`, else a free port, without waiting for it to answer. */
export async function spawnServerProcess(env: Record<string, string> = {}): Promise<SpawnedServer> {
  const port = env.PORT === undefined ? freePort() : Number(env.PORT)
  const proc = Bun.spawn(['bun', 'src/index.ts'], {
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      REDIS_URL: await redisUrl(),
      DATABASE_URL: env.DATABASE_URL ?? (await freshDatabaseUrl()),
      REDIS_PREFIX: env.REDIS_PREFIX ?? testPrefix(),
      ADMIN_TOKEN: 'test-admin-token-0123456789',
      INGEST_TOKEN: 'test-ingest-token-0123456789',
      USER_JWT_SECRET: 'test-jwt-secret-0123456789abcdef',
      ...env,
    },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  let logs = ''
  // read to the end: stop() waits for it, so logs() then holds the last lines too
  const logsRead = (async () => {
    const decoder = new TextDecoder()
    for await (const chunk of proc.stderr) logs += decoder.decode(chunk, { stream: true })
  })()
  return { port, proc, logs: () => logs, logsRead }
}

export async function startServerProcess(env: Record<string, string> = {}): Promise<ServerProcess> {
  const { port, proc, logs, logsRead } = await spawnServerProcess(env)
  const url = `http://127.0.0.1:${port}`
  try {
    await waitFor(
      async () => {
        if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}: ${logs()}`)
        return (await fetch(`${url}/healthz`).catch(() => undefined))?.ok
      },
      { what: () => `the server to answer /healthz: ${logs()}`, timeoutMs: 20_000, intervalMs: 50 },
    )
  } catch (err) {
    proc.kill('SIGKILL')
    throw err
  }
  return {
    url,
    port,
    proc,
    logs,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null) proc.kill(signal)
      const code = await proc.exited
      await logsRead
      return code
    },
  }
}
