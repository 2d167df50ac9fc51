/**
 * Cookieless visitors: a keyed hash of (the period's random salt, client IP, User-Agent), added to
 * the day's HyperLogLog. The salt lives in Redis, shared by every instance, for its period
 * ({@link SaltPeriod}, VISITOR_SALT_PERIOD) and two days more, after which nobody (us included)
 * can link a hash to an IP again. Neither the IP nor the User-Agent is ever stored.
 *
 * A beacon's address is its request's; a server event's is the browser's, forwarded by its back
 * end (`client_ip`, `user_agent`): both are hashed here, the same way, so a back end's event finds
 * the visitor its browser's beacons were. An address is hashed in one form ({@link visitorAddress}),
 * however the one who saw it wrote it.
 *
 * @example
 * const visitors = new VisitorHasher(redis, keys)
 * const hash = await visitors.hash(Date.now(), '203.0.113.9', request.headers.get('user-agent'))
 */
import { randomBytes } from 'node:crypto'
import type { Redis } from '../db/redis.ts'
import { type Calendar, utcCalendar } from './calendar.ts'
import type { Keys } from './keys.ts'

/**
 * How long one salt is used. A visitor's hash is the same all through it, so the unique visitors
 * of any range inside it are exact (Monday's visitor who comes back on Tuesday is one visitor of
 * the week); across two periods a returning visitor counts once in each. The longer the period,
 * the longer the same person's hash lives (in no table: a HyperLogLog keeps no element).
 */
export type SaltPeriod = 'day' | 'month' | 'year'

/** A salt outlives its period by two days, for events counted late and instances with slow clocks. */
const SALT_MARGIN_SECONDS = 2 * 86_400
const PERIOD_SECONDS: Record<SaltPeriod, number> = { day: 86_400, month: 31 * 86_400, year: 366 * 86_400 }

/** The period a day (`YYYY-MM-DD`) is in: the day, its month or its year. */
export const periodOf = (day: string, period: SaltPeriod): string =>
  period === 'day' ? day : period === 'month' ? day.slice(0, 7) : day.slice(0, 4)

export class VisitorHasher {
  /** at most two periods' salts are ever cached */
  private readonly salts = new Map<string, Promise<string>>()
  /** the salts already fetched (as hash seeds), so the common case needs no promise at all */
  private readonly ready = new Map<string, bigint>()

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly calendar: Calendar = utcCalendar,
    private readonly period: SaltPeriod = 'year',
  ) {}

  private salt(name: string): Promise<string> {
    let salt = this.salts.get(name)
    if (!salt) {
      salt = this.fetchSalt(name)
      this.salts.set(name, salt)
      salt.then(
        (value) => this.ready.set(name, seedOf(value)),
        // a failed fetch is retried by the next request, not cached
        () => this.salts.delete(name),
      )
      for (const old of this.salts.keys()) {
        if (old < name) {
          this.salts.delete(old)
          this.ready.delete(old)
        }
      }
    }
    return salt
  }

  private async fetchSalt(name: string): Promise<string> {
    const mine = randomBytes(16).toString('hex')
    // SET NX GET: sets ours if none exists, else returns the one another instance set first.
    const existing = await this.redis.set(this.keys.salt(name), mine, {
      condition: 'NX',
      GET: true,
      expiration: { type: 'EX', value: PERIOD_SECONDS[this.period] + SALT_MARGIN_SECONDS },
    })
    return existing ?? mine
  }

  /**
   * 16 hex characters: plenty for a HyperLogLog, useless for anything else. The salt is the one of
   * the period `at` falls in.
   */
  hash(at: number, ip: string, userAgent: string): string | Promise<string> {
    const name = periodOf(this.calendar.day(at), this.period)
    const salt = this.ready.get(name)
    const address = visitorAddress(ip)
    if (salt !== undefined) return keyedHash(salt, address, userAgent)
    return this.salt(name).then((s) => keyedHash(seedOf(s), address, userAgent))
  }
}

const MAPPED_IPV4 = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/

/**
 * An address in the one form a visitor is hashed from, so that one client is one visitor whoever
 * reported it: IPv4 as it is; IPv6 in its canonical text (lower-case, zeros compressed:
 * `2001:DB8:0:0::7` is `2001:db8::7`); an IPv4-mapped IPv6 address (`::ffff:203.0.113.9`, what a
 * dual-stack socket reports for an IPv4 client, a Node back end's `req.ip` among them) as the IPv4
 * address it holds. Anything else (no address: '') as it is. An IPv4 beacon pays one `includes`.
 *
 * @example
 * visitorAddress('::ffff:127.0.0.1') // '127.0.0.1'
 * visitorAddress('2001:DB8::7')      // '2001:db8::7'
 */
export function visitorAddress(ip: string): string {
  if (!ip.includes(':')) return ip
  const host = URL.parse(`http://[${ip}]/`)?.hostname
  if (!host) return ip
  const v6 = host.slice(1, -1)
  const mapped = MAPPED_IPV4.exec(v6)
  if (!mapped) return v6
  const high = Number.parseInt(mapped[1]!, 16)
  const low = Number.parseInt(mapped[2]!, 16)
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`
}

/** The first 64 bits of the period's random salt, as the hash's secret seed. */
const seedOf = (salt: string): bigint => BigInt(`0x${salt.slice(0, 16)}`)

/**
 * wyhash seeded with the period's secret: 64 bits, 20× cheaper than an HMAC on the beacon path
 * (measured: 2 µs per request). It is enough here: the value only ever goes into a HyperLogLog,
 * whose registers keep no element; and whoever knew the salt could test every IPv4 address
 * against an HMAC just as well. What protects visitors is that the salt is random, secret and
 * gone two days after its period.
 */
function keyedHash(seed: bigint, ip: string, userAgent: string): string {
  return Bun.hash.wyhash(`${ip}\n${userAgent}`, seed).toString(16).padStart(16, '0')
}
