/**
 * `bun run dev` as a child process (`bun src/dev.ts`) for tests: on the test services, so it
 * starts no servers of its own, with its own database, key prefix and a free port, and no
 * ADMIN_TOKEN or INGEST_TOKEN unless given one. Resolves once the banner is printed.
 */
import { spawnServerProcess } from './server-process.ts'
import { waitFor } from './wait.ts'

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

export async function startDev(env: Record<string, string>): Promise<DevProcess> {
  const dev = await spawnServerProcess(
    {
      // what the shell may have set and dev would take instead of its own
      ADMIN_TOKEN: undefined,
      INGEST_TOKEN: undefined,
      NODE_ENV: undefined,
      DATA_DIR: undefined,
      USER_JWT_SECRET: process.env.USER_JWT_SECRET,
      ...env,
    },
    { command: ['bun', 'src/dev.ts'] },
  )
  try {
    // the banner ends with the postgres line and a blank one
    await waitFor(
      async () => {
        if (dev.proc.exitCode !== null) {
          // its last words are the reason: wait until they are read
          throw new Error(`bun run dev exited with ${await dev.exited()}: ${dev.logs()}`)
        }
        return /^ {2}postgres .*\n\n/m.test(dev.output())
      },
      { what: () => `the banner of bun run dev: ${dev.output()}${dev.logs()}`, timeoutMs: 20_000, intervalMs: 50 },
    )
  } catch (err) {
    dev.kill('SIGKILL')
    throw err
  }
  const banner = dev.output()
  const link = /\/live#token=(\S+)/.exec(banner)?.[1]
  return {
    url: dev.url,
    banner,
    linkToken: link === undefined ? undefined : decodeURIComponent(link),
    logs: dev.logs,
    stop: () => dev.stop('SIGTERM'),
  }
}
