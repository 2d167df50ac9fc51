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
 * address(request, () => server.requestIP(request)?.address) // '203.0.113.9'
 */
import { BlockList, isIP } from 'node:net'
import type { TrustProxy } from '../config.ts'

/**
 * The socket peer's address, or a function that looks it up: Bun's `requestIP` costs a system
 * call, which behind trusted proxies is needed only when X-Forwarded-For is missing.
 */
export type PeerAddress = string | undefined | (() => string | undefined)

export type ClientAddress = (request: Request, peer: PeerAddress) => string

const peerOf = (peer: PeerAddress): string => (typeof peer === 'function' ? peer() : peer) ?? ''

function forwardedFor(request: Request): string[] {
  return (request.headers.get('x-forwarded-for') ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean)
}

export function clientAddress(trust: TrustProxy): ClientAddress {
  if ('hops' in trust) {
    const { hops } = trust
    if (hops === 0) return (_request, peer) => peerOf(peer)
    // any peer is believed, `hops` proxies deep
    return (request, peer) => {
      const entries = forwardedFor(request)
      return entries[Math.max(0, entries.length - hops)] ?? peerOf(peer)
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
    let address = peerOf(peer)
    if (!trusted(address)) return address
    const entries = forwardedFor(request)
    for (let i = entries.length - 1; i >= 0; i--) {
      address = entries[i]!
      if (!trusted(address)) return address
    }
    return address
  }
}
