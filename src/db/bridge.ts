/**
 * A WebSocket-to-TCP bridge so the Neon serverless driver can reach any plain Postgres.
 *
 * The Neon driver speaks the Postgres wire protocol inside WebSocket binary messages; Neon's own
 * proxy unwraps them. Local, CI and self-hosted Postgres have no such proxy, so the service runs
 * this one in-process, bound to loopback. It forwards bytes to exactly one target (the host and
 * port of DATABASE_URL) and ignores any address a client asks for, so it cannot be used to reach
 * anything else.
 *
 * Loopback is not a boundary: any local process can connect, and a trust-auth Postgres would give
 * it superuser SQL. So the only path that upgrades carries a secret made at start and known only
 * to this process; every other request is answered 404 before a connection to Postgres is made.
 * A request with an `Origin` header comes from a browser and gets 403, whatever its path.
 *
 * @example
 * const bridge = await startBridge({ host: '127.0.0.1', port: 5432 })
 * neonConfig.wsProxy = () => bridge.wsProxy()
 * // later:
 * await bridge.stop()
 */

import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { Server, ServerWebSocket, Socket } from 'bun'

export interface Bridge {
  /** loopback port the bridge listens on */
  readonly port: number
  /**
   * The driver's `wsProxy` address (`127.0.0.1:<port>/v1/<secret>`). It carries the secret: hand
   * it to the driver, never to a log.
   */
  wsProxy(): string
  /** open WebSocket ↔ TCP pairs */
  connections(): number
  /** closes the listener and every open pair */
  stop(): Promise<void>
}

interface Pair {
  tcp?: Socket<Pair>
  ws?: ServerWebSocket<Pair>
  /** bytes from the driver not yet accepted by the TCP socket (connect pending or back-pressure) */
  backlog: Uint8Array[]
  closed: boolean
}

function flushBacklog(pair: Pair): void {
  const tcp = pair.tcp
  if (!tcp) return
  while (pair.backlog.length > 0) {
    const chunk = pair.backlog[0]!
    const written = tcp.write(chunk)
    if (written < chunk.byteLength) {
      pair.backlog[0] = chunk.subarray(Math.max(written, 0))
      return
    }
    pair.backlog.shift()
  }
}

function closePair(pair: Pair): void {
  if (pair.closed) return
  pair.closed = true
  pair.tcp?.end()
  pair.ws?.close()
}

/**
 * The largest WebSocket message the bridge takes from a client; a larger one closes that
 * connection (1009) and its socket to Postgres. One message carries what the driver writes at
 * once, at most a statement with its parameters: the flusher keeps those under 8 MB (see
 * UPSERT_CHUNK_ROWS in src/flush/write.ts) and everything else the service sends is far smaller.
 */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024

/** Compares in constant time, so the answer's timing says nothing about how much of it matched. */
function samePath(got: string, expected: Uint8Array): boolean {
  const bytes = Buffer.from(got)
  return bytes.byteLength === expected.byteLength && timingSafeEqual(bytes, expected)
}

export async function startBridge(target: { host: string; port: number }): Promise<Bridge> {
  const pairs = new Set<Pair>()
  const path = `/v1/${randomBytes(32).toString('base64url')}`
  const expectedPath = Buffer.from(path)

  const server: Server<Pair> = Bun.serve<Pair>({
    hostname: '127.0.0.1',
    port: 0,
    fetch(req, srv) {
      // Browsers always send Origin on a WebSocket upgrade and the driver never does: a web page
      // that found the port is refused before anything else is looked at.
      if (req.headers.has('origin')) return new Response(null, { status: 403 })
      if (!samePath(new URL(req.url).pathname, expectedPath)) return new Response(null, { status: 404 })
      if (srv.upgrade(req, { data: { backlog: [], closed: false } })) return undefined
      return new Response('WebSocket only', { status: 426 })
    },
    websocket: {
      maxPayloadLength: MAX_FRAME_BYTES,
      // Query results can be large; never drop a frame on the way back to the driver.
      backpressureLimit: 1 << 30,
      idleTimeout: 0,
      async open(ws) {
        const pair = ws.data
        pair.ws = ws
        pairs.add(pair)
        try {
          pair.tcp = await Bun.connect<Pair>({
            hostname: target.host,
            port: target.port,
            data: pair,
            socket: {
              data(_sock, chunk) {
                pair.ws?.sendBinary(chunk)
              },
              drain() {
                flushBacklog(pair)
              },
              close() {
                closePair(pair)
              },
              error() {
                closePair(pair)
              },
            },
          })
          if (pair.closed) pair.tcp.end()
          else flushBacklog(pair)
        } catch {
          closePair(pair)
        }
      },
      message(ws, message) {
        const bytes = typeof message === 'string' ? new TextEncoder().encode(message) : message
        ws.data.backlog.push(bytes)
        flushBacklog(ws.data)
      },
      close(ws) {
        closePair(ws.data)
        pairs.delete(ws.data)
      },
    },
  })

  return {
    port: server.port as number,
    wsProxy: () => `127.0.0.1:${server.port}${path}`,
    connections: () => pairs.size,
    async stop() {
      for (const pair of pairs) closePair(pair)
      pairs.clear()
      await server.stop(true)
    },
  }
}
