/**
 * `bun run dev` as a child process (`bun src/dev.ts`) for tests: on the test services, so it
 * starts no servers of its own, with its own database, key prefix and a free port, and no
 * ADMIN_TOKEN or INGEST_TOKEN unless given one. Resolves once the banner is printed.
 */
import { join } from 'node:path'
import { freePort } from './server-process.ts'
import { freshDatabaseUrl, redisUrl, testPrefix } from './services.ts'

const ROOT = join(import.meta.dir, '..')

export interface DevProcess {
  url: string
  /** what it printed on stdout: the banner */
  banner: string
  /** the token of the banner's live-screen link, when it has one */
  linkToken?: string
  /** what it wrote on stderr: the JSON logs */
  logs(): string
  /** SIGTERM, and its exit code */
  stop(): Promise<number>
}

async function collect(stream: ReadableStream<Uint8Array>, add: (text: string) => void) {
  const decoder = new TextDecoder()
  for await (const chunk of stream) add(decoder.decode(chunk, { stream: true }))
}

export async function startDev(env: Record<string, string>): Promise<DevProcess> {
  const inherited = { ...process.env }
  for (const name of ['ADMIN_TOKEN', 'INGEST_TOKEN', 'NODE_ENV', 'DATA_DIR']) delete inherited[name]
  const port = freePort()
  const proc = Bun.spawn(['bun', 'src/dev.ts'], {
    cwd: ROOT,
    env: {
      ...inherited,
      HOST: '127.0.0.1',
      PORT: String(port),
      REDIS_URL: await redisUrl(),
      DATABASE_URL: await freshDatabaseUrl(),
      REDIS_PREFIX: testPrefix(),
      ...env,
    },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  let banner = ''
  let logs = ''
  const read = Promise.all([
    collect(proc.stdout, (text) => {
      banner += text
    }),
    collect(proc.stderr, (text) => {
      logs += text
    }),
  ])
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM')
    return proc.exited
  }
  const deadline = Date.now() + 20_000
  // the banner ends with the postgres line and a blank one
  while (!/^ {2}postgres .*\n\n/m.test(banner)) {
    if (proc.exitCode !== null) {
      // its last words are the reason: wait until they are read
      await read
      throw new Error(`bun run dev exited with ${proc.exitCode}: ${logs}`)
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL')
      throw new Error(`bun run dev printed no banner within 20 s: ${banner}${logs}`)
    }
    await Bun.sleep(50)
  }
  const link = /\/live#token=(\S+)/.exec(banner)?.[1]
  return {
    url: `http://127.0.0.1:${port}`,
    banner,
    linkToken: link === undefined ? undefined : decodeURIComponent(link),
    logs: () => logs,
    stop,
  }
}
