/**
 * A standalone Redis of a test's own, from the machine's `redis-server` binary, on a free
 * loopback port in a temp dir, started with the arguments the test is about (`--maxmemory 4mb
 * --maxmemory-policy allkeys-lru`, `--appendonly yes`). The shared test Redis cannot be
 * reconfigured: other test files run against it at the same time.
 *
 * @example
 * const redis = await startRedisServer(['--maxmemory-policy', 'allkeys-lru'])
 * // … REDIS_URL: redis.url
 * await redis.stop()
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient } from 'redis'
import { freePort } from './server-process.ts'
import { waitFor } from './wait.ts'

export interface RedisServer {
  url: string
  stop(): Promise<void>
}

export async function startRedisServer(args: string[] = []): Promise<RedisServer> {
  const bin = Bun.which('redis-server')
  // not a skip: these checks are the service's, and CI has redis-server
  if (!bin) throw new Error('redis-server not found on PATH: install Redis to run this test')
  const dir = await mkdtemp(join(tmpdir(), 'redis-server-'))
  const port = freePort()
  const proc = Bun.spawn([bin, '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir, ...args], {
    stdout: 'ignore',
    stderr: 'ignore',
  })
  const url = `redis://127.0.0.1:${port}`
  const stop = async () => {
    proc.kill('SIGTERM')
    await proc.exited
    await rm(dir, { recursive: true, force: true })
  }
  try {
    await waitFor(
      async () => {
        if (proc.exitCode !== null) throw new Error(`redis-server ${args.join(' ')} exited with ${proc.exitCode}`)
        const client = createClient({ url, socket: { reconnectStrategy: false } })
        client.on('error', () => {})
        try {
          await client.connect()
          return (await client.ping()) === 'PONG'
        } catch {
          return false
        } finally {
          if (client.isOpen) client.destroy()
        }
      },
      { what: `redis-server on port ${port} to answer`, timeoutMs: 10_000, intervalMs: 50 },
    )
  } catch (err) {
    await stop()
    throw err
  }
  return { url, stop }
}
