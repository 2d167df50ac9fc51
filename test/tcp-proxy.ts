/**
 * A loopback TCP proxy a test can cut: `close()` drops every connection and stops listening, so
 * the service behind it looks unreachable; `reopen()` listens again on the same port.
 */
import type { Socket, TCPSocketListener } from 'bun'

interface Link {
  peer?: Socket<Link>
  pending: Uint8Array[]
}

export interface TcpProxy {
  port: number
  /** client connections accepted since the start */
  readonly accepted: number
  /** client connections open now */
  readonly open: number
  close(): void
  reopen(): void
  /** keeps connections open but forwards nothing (a service that hangs) until resumed */
  stall(): void
  resume(): void
}

export function tcpProxy(target: { host: string; port: number }): TcpProxy {
  const sockets = new Set<Socket<Link>>()
  let accepted = 0
  let open = 0
  let stalled = false
  let listener: TCPSocketListener<Link> | undefined
  let port = 0

  const listen = () => {
    listener = Bun.listen<Link>({
      hostname: '127.0.0.1',
      port,
      socket: {
        async open(client) {
          client.data = { pending: [] }
          sockets.add(client)
          accepted++
          open++
          try {
            const upstream = await Bun.connect<Link>({
              hostname: target.host,
              port: target.port,
              data: { peer: client, pending: [] },
              socket: {
                data: (_s, chunk) => {
                  if (!stalled) client.write(chunk)
                },
                close: () => void client.end(),
                error: () => void client.end(),
              },
            })
            sockets.add(upstream)
            client.data.peer = upstream
            for (const chunk of client.data.pending) upstream.write(chunk)
            client.data.pending = []
          } catch {
            client.end()
          }
        },
        data(client, chunk) {
          if (stalled) return
          if (client.data.peer) client.data.peer.write(chunk)
          else client.data.pending.push(new Uint8Array(chunk))
        },
        close(client) {
          open--
          client.data.peer?.end()
          sockets.delete(client)
        },
      },
    })
    port = listener.port
  }
  listen()

  return {
    get port() {
      return port
    },
    get accepted() {
      return accepted
    },
    get open() {
      return open
    },
    close() {
      listener?.stop(true)
      listener = undefined
      for (const s of sockets) s.terminate()
      sockets.clear()
    },
    reopen() {
      if (!listener) listen()
    },
    stall() {
      stalled = true
    },
    resume() {
      stalled = false
    },
  }
}

/**
 * A proxy in front of the host and port of `url`, and `url` rewritten to go through it. Only the
 * host and port change: the scheme, credentials, path (Redis's database index, Postgres's
 * database) and query stay, so a client through the proxy reaches the same data as a direct one.
 *
 * @example
 * const { proxy, url } = proxyFor('redis://:pw@10.0.0.5:6380/7', 6379)
 * // url is redis://:pw@127.0.0.1:<proxy.port>/7
 */
export function proxyFor(url: string, defaultPort: number): { proxy: TcpProxy; url: string } {
  const target = new URL(url)
  const proxy = tcpProxy({ host: target.hostname, port: Number(target.port || defaultPort) })
  const through = new URL(url)
  through.hostname = '127.0.0.1'
  through.port = String(proxy.port)
  return { proxy, url: through.toString() }
}
