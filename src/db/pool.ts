/**
 * Postgres through the Neon serverless driver's `Pool`.
 *
 * Against a Neon host the driver connects directly. Against any other Postgres it goes through
 * an in-process WebSocket bridge (see bridge.ts) with the settings measured to work against
 * trust, md5 and scram auth: plain ws, no pipelined TLS, no pipelined connect.
 *
 * @example
 * const db = await openDatabase('postgres://postgres@127.0.0.1:5432/analytics')
 * await db.pool.query('SELECT 1')
 * await db.close()
 */
import { Client, Pool, type PoolClient } from '@neondatabase/serverless'
import { HttpError, postgresDown, Unavailable } from '../errors.ts'
import { type Bridge, startBridge } from './bridge.ts'

export interface Database {
  pool: Pool
  /** present when the target is not Neon */
  bridge?: Bridge
  close(): Promise<void>
}

/** Neon's hosts need no bridge; everything else does. */
export function isNeonHost(hostname: string): boolean {
  return /\.neon\.(tech|build)$/i.test(hostname)
}

/** Builds a Client class whose connections go through `bridge`. */
function bridgedClient(bridge: Bridge): typeof Client {
  return class BridgedClient extends Client {
    constructor(config?: ConstructorParameters<typeof Client>[0]) {
      super(config)
      this.neonConfig.wsProxy = () => bridge.wsProxy()
      this.neonConfig.useSecureWebSocket = false
      this.neonConfig.pipelineTLS = false
      this.neonConfig.pipelineConnect = false
    }
  }
}

/**
 * A client whose server goes away emits 'error': on its pool while idle, on itself while checked
 * out (after failing its queries, which is how the caller learns of it). An 'error' nobody listens
 * to throws out of the socket's handler and ends the process, so both get a listener; the next
 * query simply gets a fresh connection.
 */
function survivesLostConnections(pool: Pool): void {
  pool.on('error', () => {})
  pool.on('connect', (client: PoolClient) => client.on('error', () => {}))
}

/** Settings every connection of a pool starts with. */
export interface SessionSettings {
  /** Postgres' statement_timeout, ms: a statement running longer is cancelled (SQLSTATE 57014) */
  statementTimeoutMs?: number
  /** Postgres' work_mem, e.g. '32MB' */
  workMem?: string
}

/**
 * The statement that sets them. JIT is always off: it made every read of
 * the event log slower here (its compile time exceeds what it saves on these statements).
 */
export function sessionSql(s: SessionSettings): string {
  const sets = ['SET jit = off']
  if (s.statementTimeoutMs !== undefined) sets.push(`SET statement_timeout = ${Math.trunc(s.statementTimeoutMs)}`)
  if (s.workMem !== undefined) {
    if (!/^[1-9][0-9]{0,6}(kB|MB|GB)$/.test(s.workMem)) throw new Error(`not a work_mem: ${s.workMem}`)
    sets.push(`SET work_mem = '${s.workMem}'`)
  }
  return sets.join('; ')
}

/**
 * Each new connection is set up before its first query: the pool emits 'connect' before it hands
 * the client out, and a client runs its queries in order.
 */
function startsWith(pool: Pool, settings: SessionSettings | undefined): void {
  if (!settings) return
  const sql = sessionSql(settings)
  pool.on('connect', (client: PoolClient) => void client.query(sql).catch(() => {}))
}

export async function openDatabase(
  databaseUrl: string,
  options: { max?: number; session?: SessionSettings } = {},
): Promise<Database> {
  const url = new URL(databaseUrl)
  const max = options.max ?? 10
  if (isNeonHost(url.hostname)) {
    const pool = new Pool({ connectionString: databaseUrl, max })
    survivesLostConnections(pool)
    startsWith(pool, options.session)
    return { pool, close: () => pool.end() }
  }
  const bridge = await startBridge({ host: url.hostname || '127.0.0.1', port: Number(url.port || 5432) })
  const pool = new Pool({ connectionString: databaseUrl, max })
  // The driver's Pool pins its own Client class in its constructor; swap in the bridged one.
  ;(pool as unknown as { Client: typeof Client }).Client = bridgedClient(bridge)
  survivesLostConnections(pool)
  startsWith(pool, options.session)
  return {
    pool,
    bridge,
    async close() {
      await pool.end().catch(() => {})
      await bridge.stop()
    },
  }
}

/**
 * The pool as the routes use it: a statement that ran past READ_TIMEOUT_MS throws a 503 that says
 * so. A query that fails because Postgres is down (no connection, or
 * a SQLSTATE of an outage), twice, throws {@link Unavailable}, which they answer 503 naming Postgres. A
 * statement Postgres refuses for itself is thrown as it is: a bug, a 500. The flusher keeps the
 * plain pool: it tells outages from refusals of a batch's data itself.
 */
/** Postgres cancelled the statement: it ran past statement_timeout (READ_TIMEOUT_MS). */
const cancelled = (err: unknown): boolean => (err as { code?: unknown } | null)?.code === '57014'

/**
 * A read that ran too long: said as such, not as an outage (no `service`: the dashboard shows the
 * reason on the read, not a banner that Postgres is down), and not sent again.
 */
function tooLong(cause: unknown): HttpError {
  const e = new HttpError(
    503,
    'the read took longer than READ_TIMEOUT_MS and Postgres stopped it; narrow the range or the filters, or raise READ_TIMEOUT_MS',
  )
  e.cause = cause
  return e
}

export function guardedPool(pool: Pool): Pool {
  const run = (...args: unknown[]) => (pool.query as (...a: unknown[]) => Promise<unknown>).apply(pool, args)
  const query = async (...args: unknown[]) => {
    try {
      return await run(...args)
    } catch (err) {
      if (cancelled(err)) throw tooLong(err)
      if (!postgresDown(err)) throw err
      // A connection kept from before a Postgres restart fails its first query and leaves the
      // pool; the routes only read, so the statement is sent once more on a fresh one.
      try {
        return await run(...args)
      } catch (again) {
        throw postgresDown(again) ? new Unavailable('Postgres', 'the history cannot be read', again) : again
      }
    }
  }
  return new Proxy(pool, {
    get(target, name) {
      if (name === 'query') return query
      const value = Reflect.get(target, name, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}
