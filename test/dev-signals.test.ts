/**
 * Ctrl-C in the terminal that runs `bun run dev` on a machine with nothing configured: the signal
 * goes to the whole foreground process group. The Redis and Postgres it started must not be in
 * that group, or Postgres shuts down before the final flush can write to it.
 */
import { describe, expect, setDefaultTimeout, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findBinaries } from '../src/services/local.ts'
import { BROWSER_UA } from './app.ts'
import { freePort } from './server-process.ts'
import { waitFor } from './wait.ts'

setDefaultTimeout(60_000)

const ROOT = join(import.meta.dir, '..')

/** Processes whose command line names `dir` (the servers started in it). */
function processesIn(dir: string): number[] {
  const out = Bun.spawnSync(['pgrep', '-f', dir]).stdout.toString().trim()
  return out ? out.split('\n').map(Number) : []
}

describe('bun run dev and Ctrl-C', () => {
  const bins = findBinaries()
  test.skipIf('missing' in bins)(
    'a SIGINT to the whole process group flushes everything, then stops the servers it started',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'edge-analytics-dev-'))
      const env: Record<string, string | undefined> = { ...process.env }
      for (const name of ['REDIS_URL', 'DATABASE_URL', 'ADMIN_TOKEN', 'NODE_ENV']) delete env[name]
      const port = freePort()
      // setsid: a process group of its own, as a terminal gives the command it runs
      const proc = Bun.spawn(['setsid', 'bun', 'run', 'dev'], {
        cwd: ROOT,
        env: { ...env, DATA_DIR: dir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' },
        stdin: 'ignore',
        stdout: 'pipe',
        stderr: 'pipe',
      })
      let logs = ''
      const reading = (async () => {
        const decoder = new TextDecoder()
        for await (const chunk of proc.stderr) logs += decoder.decode(chunk)
      })()
      const url = `http://127.0.0.1:${port}`
      try {
        await waitFor(
          () =>
            fetch(`${url}/readyz`).then(
              (r) => r.ok,
              () => false,
            ),
          {
            what: 'bun run dev to be ready',
            timeoutMs: 45_000,
            intervalMs: 100,
          },
        )
        const sent = await Promise.all(
          Array.from({ length: 4 }, () =>
            fetch(`${url}/e`, {
              method: 'POST',
              headers: { 'content-type': 'text/plain', 'user-agent': BROWSER_UA },
              body: JSON.stringify({ event_type: 'page_view', properties: { path: '/ctrl-c' } }),
            }),
          ),
        )
        expect(sent.map((r) => r.status)).toEqual([202, 202, 202, 202])
        process.kill(-proc.pid, 'SIGINT')
        expect(await proc.exited).toBe(0)
        await reading
        expect(logs).toContain('"msg":"flush","counters"')
        expect(logs).not.toContain('final flush failed')
        expect(logs).not.toContain('"level":"error"')
        // and the servers it started are gone with it
        await waitFor(() => processesIn(dir).length === 0, { what: 'the servers to stop', timeoutMs: 15_000 })
      } finally {
        if (proc.exitCode === null) process.kill(-proc.pid, 'SIGKILL')
        for (const pid of processesIn(dir)) process.kill(pid, 'SIGKILL')
        await rm(dir, { recursive: true, force: true })
      }
    },
  )
})
