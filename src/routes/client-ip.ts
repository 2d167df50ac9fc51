/**
 * The client address of a request: the socket peer, or behind trusted proxies the
 * X-Forwarded-For entry the nearest untrusted hop wrote. It is used for the visitor hash and the
 * rate limit, then dropped: never stored, never logged.
 *
 * Each proxy appends the address it got the request from, so the client's own entry is found
 * from the right, never the left, which the client can write whatever it likes into.
 *
 * @example
 * const address = clientAddress({ proxies: ['10.0.0.0/8'] })
 * address(request, server) // '203.0.113.9' (server: the listening Bun server)
 */
import { BlockList, isIP } from 'node:net'
import type { TrustProxy } from '../config.ts'

/**
 * Where the socket peer's address is looked up: the listening Bun server. Its `requestIP` costs a
 * system call, which behind trusted proxies is needed only when X-Forwarded-For is missing, so it
 * is called only when the peer is the answer. Absent where there is no socket (`app.handle`).
 */
export interface Peer {
  requestIP(request: Request): { address: string } | null
}

export type ClientAddress = (request: Request, peer?: Peer) => string

const peerOf = (request: Request, peer: Peer | undefined): string => peer?.requestIP(request)?.address ?? ''

function forwardedFor(request: Request): string[] {
  return (request.headers.get('x-forwarded-for') ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean)
}

export function clientAddress(trust: TrustProxy): ClientAddress {
  if ('hops' in trust) {
    const { hops } = trust
    if (hops === 0) return (request, peer) => peerOf(request, peer)
    // any peer is believed, `hops` proxies deep
    return (request, peer) => {
      const entries = forwardedFor(request)
      return entries[Math.max(0, entries.length - hops)] ?? peerOf(request, peer)
    }
  }
  const proxies = new BlockList()
  for (const proxy of trust.proxies) {
    const [address = '', bits] = proxy.split('/')
    const family = isIP(address) === 4 ? 'ipv4' : 'ipv6'
    if (bits === undefined) proxies.addAddress(address, family)
    else proxies.addSubnet(address, Number(bits), family)
  }
  const trusted = (address: string): boolean => {
    const family = isIP(address)
    return family !== 0 && proxies.check(address, family === 4 ? 'ipv4' : 'ipv6')
  }
  // Only a trusted peer's header is read; from the right, every trusted proxy is skipped.
  return (request, peer) => {
    let address = peerOf(request, peer)
    if (!trusted(address)) return address
    const entries = forwardedFor(request)
    for (let i = entries.length - 1; i >= 0; i--) {
      address = entries[i]!
      if (!trusted(address)) return address
    }
    return address
  }
}
