/**
 * A real three-master Redis Cluster on loopback, from the machine's `redis-server` and
 * `redis-cli` binaries, in a temp dir; undefined (with the reason) when the binaries are missing.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { waitFor } from './wait.ts'

export interface RedisCluster {
  /** seed nodes, as REDIS_CLUSTER_NODES takes them */
  nodes: string[]
  stop(): Promise<void>
}

export const NO_CLUSTER_BINARIES = 'redis-server or redis-cli not found: Redis Cluster tests skipped'

export function clusterBinaries(): { server: string; cli: string } | undefined {
  const server = Bun.which('redis-server')
  const cli = Bun.which('redis-cli')
  return server && cli ? { server, cli } : undefined
}

async function cli(bin: string, args: string[]): Promise<string> {
  const proc = Bun.spawn([bin, ...args], { stdout: 'pipe', stderr: 'pipe' })
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited])
  if (code !== 0)
    throw new Error(`redis-cli ${args.join(' ')} exited ${code}: ${await new Response(proc.stderr).text()}`)
  return out
}

/** Redis Cluster's bus listens on the node's port + 10000 (set in stone by Redis). */
const BUS_OFFSET = 10_000

/** Whether nothing listens on `port` on loopback now. */
function free(port: number): boolean {
  try {
    Bun.listen({ hostname: '127.0.0.1', port, socket: { data() {} } }).stop(true)
    return true
  } catch {
    return false
  }
}

/**
 * A port for a node whose bus port (+10000) is free too, and exists: an ephemeral port from the
 * system may be above 55535, or its bus port taken, and the node then never starts.
 */
function nodePort(taken: readonly number[]): number {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 35_000)
    const mine = [port, port + BUS_OFFSET]
    const near = taken.some((t) => [t, t + BUS_OFFSET].some((u) => mine.some((m) => Math.abs(u - m) < 2)))
    if (!near && free(port) && free(port + BUS_OFFSET)) return port
  }
}

export async function startRedisCluster(): Promise<RedisCluster | undefined> {
  const bins = clusterBinaries()
  if (!bins) return undefined
  const dir = await mkdtemp(join(tmpdir(), 'redis-cluster-'))
  const ports: number[] = []
  for (let i = 0; i < 3; i++) ports.push(nodePort(ports))
  const procs: Subprocess[] = ports.map((port) =>
    Bun.spawn(
      [
        bins.server,
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, `nodes-${port}.conf`),
        '--cluster-node-timeout',
        '2000',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--logfile',
        join(dir, `redis-${port}.log`),
      ],
      { stdout: 'ignore', stderr: 'ignore' },
    ),
  )
  const stop = async () => {
    for (const p of procs) p.kill('SIGTERM')
    await Promise.all(procs.map((p) => p.exited))
    await rm(dir, { recursive: true, force: true })
  }
  try {
    for (const port of ports) {
      // cli() throws until the node listens
      await waitFor(
        () =>
          cli(bins.cli, ['-p', String(port), 'ping']).then(
            (out) => out.trim() === 'PONG',
            () => false,
          ),
        { what: `node ${port} to answer`, timeoutMs: 20_000, intervalMs: 100 },
      )
    }
    await cli(bins.cli, [
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ])
    for (const port of ports) {
      await waitFor(
        () =>
          cli(bins.cli, ['-p', String(port), 'cluster', 'info']).then(
            (out) => out.includes('cluster_state:ok'),
            () => false,
          ),
        { what: `the cluster to be ready on ${port}`, timeoutMs: 20_000, intervalMs: 100 },
      )
    }
    return { nodes: ports.map((p) => `redis://127.0.0.1:${p}`), stop }
  } catch (err) {
    await stop()
    throw err
  }
}
