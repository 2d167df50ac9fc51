/**
 * A second server on a port another one holds. Elysia asks for SO_REUSEPORT by default, with
 * which the second started as if the port were free and took a share of its requests; it must
 * stop with one line instead, unless every process sharing the port says REUSE_PORT=true.
 */
import { describe, expect, setDefaultTimeout, test } from 'bun:test'
import { startDev } from './dev-process.ts'
import { spawnServerProcess, startServerProcess } from './server-process.ts'
import { waitFor } from './wait.ts'

// this file starts processes: bun's 5 s default is too short on a busy machine
setDefaultTimeout(60_000)

const TAKEN =
  /^edge-analytics: port (\d+) on 127\.0\.0\.1 is already in use\. .*set PORT to a free port.*REUSE_PORT=true/

describe('a taken port', () => {
  test('bun run start on it exits 1 with one line naming the port and the ways out', async () => {
    const held = await startServerProcess()
    try {
      const second = await spawnServerProcess({ PORT: String(held.port) })
      expect(await second.exited()).toBe(1)
      const lines = second.logs().trim().split('\n')
      const last = lines.at(-1) ?? ''
      expect(last).toMatch(TAKEN)
      expect(TAKEN.exec(last)?.[1]).toBe(String(held.port))
      expect(second.logs()).not.toContain('"msg":"listening"')
      expect(second.logs()).not.toContain('    at ')
      // the first one still has the port to itself
      expect((await fetch(`${held.url}/healthz`)).status).toBe(200)
    } finally {
      await held.stop()
    }
  })

  test('bun run dev on it exits 1 with the same line', async () => {
    const held = await startServerProcess()
    try {
      const dev = startDev({ PORT: String(held.port) })
      const failure = await dev.then(
        async (running) => {
          await running.stop()
          return 'it started'
        },
        (err: Error) => err.message,
      )
      expect(failure).toStartWith('bun run dev exited with 1: ')
      const stderr = failure.slice('bun run dev exited with 1: '.length)
      expect(stderr.trim().split('\n').at(-1)).toMatch(TAKEN)
    } finally {
      await held.stop()
    }
  })

  test('with REUSE_PORT=true on both, both listen on it', async () => {
    const first = await startServerProcess({ REUSE_PORT: 'true' })
    const second = await spawnServerProcess({ PORT: String(first.port), REUSE_PORT: 'true' })
    try {
      await waitFor(
        () => {
          if (second.proc.exitCode !== null) throw new Error(`exited with ${second.proc.exitCode}: ${second.logs()}`)
          return second.logs().includes('"msg":"listening"')
        },
        { what: () => `the second server to listen: ${second.logs()}`, timeoutMs: 20_000, intervalMs: 50 },
      )
      expect(second.logs()).toContain(`127.0.0.1:${first.port}`)
      expect(first.proc.exitCode).toBeNull()
    } finally {
      expect(await second.stop()).toBe(0)
      expect(await first.stop()).toBe(0)
    }
  })

  test('REUSE_PORT=true does not share with a server that did not set it', async () => {
    const held = await startServerProcess()
    try {
      const second = await spawnServerProcess({ PORT: String(held.port), REUSE_PORT: 'true' })
      expect(await second.exited()).toBe(1)
      expect(second.logs().trim().split('\n').at(-1)).toMatch(
        /^edge-analytics: port \d+ on 127\.0\.0\.1 is taken by a process that does not share it/,
      )
    } finally {
      await held.stop()
    }
  })
})
