import { describe, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import { type Bridge, MAX_FRAME_BYTES } from '../src/db/bridge.ts'
import { openDatabase } from '../src/db/pool.ts'
import { errorMessage } from '../src/log.ts'
import { freshDatabaseUrl } from './services.ts'
import { proxyFor } from './tcp-proxy.ts'
import { waitFor } from './wait.ts'

/** Sends a WebSocket upgrade request over a raw socket and resolves with the answer's status. */
async function upgradeStatus(port: number, path: string, headers: Record<string, string> = {}): Promise<number> {
  const { promise, resolve, reject } = Promise.withResolvers<number>()
  let head = ''
  const socket = await Bun.connect({
    hostname: '127.0.0.1',
    port,
    socket: {
      data(s, chunk) {
        head += chunk.toString('latin1')
        const status = /^HTTP\/1\.1 (\d{3}) /.exec(head)
        if (status) {
          resolve(Number(status[1]))
          s.end()
        }
      },
      close: () => reject(new Error(`closed before a status line: ${JSON.stringify(head)}`)),
      error: (_s, err) => reject(err),
    },
  })
  const lines = [
    `GET ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    'Connection: Upgrade',
    'Upgrade: websocket',
    'Sec-WebSocket-Version: 13',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ]
  socket.write(`${lines.join('\r\n')}\r\n\r\n`)
  return promise
}

/** The bridge's database behind a TCP proxy that counts the connections made to Postgres. */
async function countedDatabase() {
  const { proxy, url } = proxyFor(await freshDatabaseUrl(), 5432)
  const db = await openDatabase(url, { max: 2 })
  return { db, bridge: db.bridge!, proxy }
}

const secretOf = (bridge: Bridge) => bridge.wsProxy().split('/').at(-1)!

describe('Neon driver through the WebSocket bridge', () => {
  test('a transaction commits, another rolls back', async () => {
    const db = await openDatabase(await freshDatabaseUrl(), { max: 2 })
    try {
      expect(db.bridge).toBeDefined()
      await db.pool.query('CREATE TABLE t (k text PRIMARY KEY, n bigint NOT NULL)')
      const c = await db.pool.connect()
      try {
        await c.query('BEGIN')
        await c.query("INSERT INTO t VALUES ('committed', 1)")
        await c.query('COMMIT')
        await c.query('BEGIN')
        await c.query("INSERT INTO t VALUES ('rolled-back', 1)")
        await c.query('ROLLBACK')
      } finally {
        c.release()
      }
      const rows = await db.pool.query('SELECT k FROM t ORDER BY k')
      expect(rows.rows.map((r) => r.k)).toEqual(['committed'])
    } finally {
      await db.close()
    }
  })

  test('a multi-row unnest upsert adds to existing rows', async () => {
    const db = await openDatabase(await freshDatabaseUrl(), { max: 2 })
    try {
      await db.pool.query('CREATE TABLE t (k text PRIMARY KEY, n bigint NOT NULL)')
      const upsert = `INSERT INTO t (k, n) SELECT * FROM unnest($1::text[], $2::bigint[])
                      ON CONFLICT (k) DO UPDATE SET n = t.n + EXCLUDED.n`
      const keys = Array.from({ length: 1000 }, (_, i) => `key-${i}`)
      await db.pool.query(upsert, [keys, keys.map(() => 1)])
      await db.pool.query(upsert, [keys.slice(0, 10), keys.slice(0, 10).map(() => '9007199254740')])
      const r = await db.pool.query('SELECT count(*)::int AS rows, sum(n)::text AS total FROM t')
      expect(r.rows[0]).toEqual({ rows: 1000, total: String(1000 + 10 * 9007199254740) })
    } finally {
      await db.close()
    }
  })

  test('a connection lost mid-query fails that query, not the process', async () => {
    const db = await openDatabase(await freshDatabaseUrl(), { max: 2 })
    try {
      const c = await db.pool.connect()
      const ended = new Promise((resolve) => c.once('end', resolve))
      const pid = (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid
      // the expectation is attached before the kill: the query may fail before the kill's own
      // answer arrives, and a rejection nobody is waiting for yet fails the test run
      const failure = c.query('SELECT pg_sleep(30)').then(
        () => 'no error',
        (err: Error) => err.message,
      )
      await db.pool.query('SELECT pg_terminate_backend($1)', [pid])
      expect(await failure).toMatch(/terminat/i)
      await ended
      c.release()
      expect((await db.pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
    } finally {
      await db.close()
    }
  })

  test('survives 200 concurrent queries and closes its sockets on shutdown', async () => {
    const db = await openDatabase(await freshDatabaseUrl(), { max: 50 })
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => db.pool.query('SELECT $1::int AS i, pg_sleep(0.01)', [i])),
    )
    expect(results.map((r) => r.rows[0].i)).toEqual(Array.from({ length: 200 }, (_, i) => i))
    expect(db.bridge!.connections()).toBeGreaterThan(1)
    await db.close()
    expect(db.bridge!.connections()).toBe(0)
  })
})

describe('the bridge accepts only the driver', () => {
  test('an upgrade without the secret path is refused and opens no connection to Postgres', async () => {
    const { db, bridge, proxy } = await countedDatabase()
    try {
      for (const path of ['/', '/v1', '/v2', `/v1/${randomBytes(32).toString('base64url')}`, '/v1/?address=x:5432']) {
        expect(await upgradeStatus(bridge.port, path)).toBe(404)
      }
      expect(bridge.connections()).toBe(0)
      // the driver itself still gets through, and its connection is the only one Postgres saw
      expect((await db.pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
      expect(proxy.accepted).toBe(1)
    } finally {
      await db.close()
      proxy.close()
    }
  })

  test('an upgrade that carries an Origin header is refused, even on the secret path', async () => {
    const { db, bridge, proxy } = await countedDatabase()
    const path = `/v1/${secretOf(bridge)}`
    try {
      for (const origin of ['http://localhost:3000', 'https://example.com', 'null']) {
        expect(await upgradeStatus(bridge.port, path, { Origin: origin })).toBe(403)
      }
      expect(proxy.accepted).toBe(0)
      // the same request without the header is the driver's, and upgrades
      expect(await upgradeStatus(bridge.port, path)).toBe(101)
    } finally {
      await db.close()
      proxy.close()
    }
  })

  test('a frame over the cap closes its own connection and its socket to Postgres, and no other', async () => {
    const { db, bridge, proxy } = await countedDatabase()
    const client = await db.pool.connect()
    try {
      expect(proxy.open).toBe(1)
      const ws = new WebSocket(`ws://${bridge.wsProxy()}`)
      const closed = new Promise<number>((resolve) => ws.addEventListener('close', (e) => resolve(e.code)))
      await new Promise((resolve, reject) => {
        ws.addEventListener('open', resolve)
        ws.addEventListener('error', reject)
      })
      await waitFor(() => proxy.open === 2, { what: 'the bridge to connect to Postgres' })
      ws.send(new Uint8Array(MAX_FRAME_BYTES + 1))
      expect(await closed).toBe(1009) // message too big
      await waitFor(() => proxy.open === 1, { what: 'the socket to Postgres to close' })
      expect(bridge.connections()).toBe(1)
      expect((await client.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }])
    } finally {
      client.release()
      await db.close()
      proxy.close()
    }
  })

  test('the secret is random per bridge and stays out of what is logged', async () => {
    const db = await openDatabase(await freshDatabaseUrl(), { max: 1 })
    const other = await openDatabase(await freshDatabaseUrl(), { max: 1 })
    const secret = secretOf(db.bridge!)
    try {
      expect(secret).toMatch(/^[\w-]{43}$/)
      expect(secretOf(other.bridge!)).not.toBe(secret)
      expect(Bun.inspect(db.bridge)).not.toContain(secret)
      await db.bridge!.stop()
      // what the flusher and the health check log when the bridge cannot be reached
      const failure = await db.pool.query('SELECT 1').then(
        () => undefined,
        (err: unknown) => err,
      )
      expect(failure).toBeDefined()
      expect(errorMessage(failure)).not.toContain(secret)
    } finally {
      await db.close()
      await other.close()
    }
  })
})
