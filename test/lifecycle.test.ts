import { describe, expect, setDefaultTimeout, test } from 'bun:test'
import { freePort, spawnServerProcess, startServerProcess } from './server-process.ts'

// this file starts processes: bun's 5 s default is too short on a busy machine
setDefaultTimeout(30_000)

describe('service lifecycle', () => {
  test('starts, migrates, answers, and exits 0 on SIGTERM', async () => {
    const server = await startServerProcess()
    try {
      const res = await fetch(`${server.url}/readyz`)
      expect(res.status).toBe(200)
      expect(await server.stop('SIGTERM')).toBe(0)
      expect(server.logs()).toContain('"msg":"listening"')
      expect(server.logs()).toContain('"msg":"stopped"')
    } finally {
      await server.stop('SIGKILL')
    }
  })

  test('unreachable Redis at start: one clear line naming the masked URL, exit 1', async () => {
    const port = freePort()
    const server = await spawnServerProcess({ REDIS_URL: `redis://:s3cret@127.0.0.1:${port}` })
    expect(await server.exited()).toBe(1)
    const stderr = server.logs().trim()
    expect(stderr).toStartWith(`edge-analytics: cannot reach Redis at redis://:***@127.0.0.1:${port}`)
    expect(stderr).toContain('set REDIS_URL')
    expect(stderr).not.toContain('s3cret')
    expect(stderr).not.toContain('    at ')
  })

  test('unreachable Postgres at start: one clear line naming the masked URL, exit 1', async () => {
    const port = freePort()
    const server = await spawnServerProcess({ DATABASE_URL: `postgres://app:pw@127.0.0.1:${port}/analytics` })
    expect(await server.exited()).toBe(1)
    const stderr = server.logs().trim()
    expect(stderr).toStartWith(
      `edge-analytics: cannot reach Postgres at postgres://app:***@127.0.0.1:${port}/analytics`,
    )
    expect(stderr).not.toContain('    at ')
  })

  test('start without URLs says what to set', async () => {
    const server = await spawnServerProcess({ REDIS_URL: undefined, DATABASE_URL: undefined })
    expect(await server.exited()).toBe(1)
    expect(server.logs()).toContain('REDIS_URL is not set')
  })
})
