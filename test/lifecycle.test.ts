import { describe, expect, test } from 'bun:test'
import { freshDatabaseUrl, redisUrl, testPrefix } from './services.ts'

async function waitForUrl(url: string, timeoutMs = 15_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await fetch(url)
    } catch (err) {
      if (Date.now() > deadline) throw err
      await Bun.sleep(100)
    }
  }
}

const freePort = () => {
  const l = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = l.port
  l.stop(true)
  return port
}

describe('service lifecycle', () => {
  test('starts, migrates, answers, and exits 0 on SIGTERM', async () => {
    const port = freePort()
    const proc = Bun.spawn(['bun', 'src/index.ts'], {
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        REDIS_URL: await redisUrl(),
        DATABASE_URL: await freshDatabaseUrl(),
        REDIS_PREFIX: testPrefix(),
      },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    try {
      const res = await waitForUrl(`http://127.0.0.1:${port}/readyz`)
      expect(res.status).toBe(200)
      proc.kill('SIGTERM')
      expect(await proc.exited).toBe(0)
      const logs = await new Response(proc.stderr).text()
      expect(logs).toContain('"msg":"listening"')
      expect(logs).toContain('"msg":"stopped"')
    } finally {
      proc.kill('SIGKILL')
    }
  })

  test('unreachable Redis at start: one clear line naming the masked URL, exit 1', async () => {
    const port = freePort()
    const proc = Bun.spawn(['bun', 'src/index.ts'], {
      env: {
        ...process.env,
        REDIS_URL: `redis://:s3cret@127.0.0.1:${port}`,
        DATABASE_URL: await freshDatabaseUrl(),
      },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    expect(await proc.exited).toBe(1)
    const stderr = (await new Response(proc.stderr).text()).trim()
    expect(stderr).toStartWith(`edge-analytics: cannot reach Redis at redis://:***@127.0.0.1:${port}`)
    expect(stderr).toContain('set REDIS_URL')
    expect(stderr).not.toContain('s3cret')
    expect(stderr).not.toContain('    at ')
  })

  test('unreachable Postgres at start: one clear line naming the masked URL, exit 1', async () => {
    const port = freePort()
    const proc = Bun.spawn(['bun', 'src/index.ts'], {
      env: {
        ...process.env,
        REDIS_URL: await redisUrl(),
        DATABASE_URL: `postgres://app:pw@127.0.0.1:${port}/analytics`,
      },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    expect(await proc.exited).toBe(1)
    const stderr = (await new Response(proc.stderr).text()).trim()
    expect(stderr).toStartWith(
      `edge-analytics: cannot reach Postgres at postgres://app:***@127.0.0.1:${port}/analytics`,
    )
    expect(stderr).not.toContain('    at ')
  })

  test('start without URLs says what to set', async () => {
    const env = { ...process.env }
    delete env.REDIS_URL
    delete env.DATABASE_URL
    const proc = Bun.spawn(['bun', 'src/index.ts'], { env, stdout: 'pipe', stderr: 'pipe' })
    expect(await proc.exited).toBe(1)
    expect(await new Response(proc.stderr).text()).toContain('REDIS_URL is not set')
  })
})
