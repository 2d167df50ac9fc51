/**
 * Cookieless visitors: a keyed hash of (the period's random salt, client IP, User-Agent), added to
 * the day's HyperLogLog. The salt lives in Redis, shared by every instance, for its period
 * ({@link SaltPeriod}, VISITOR_SALT_PERIOD) and two days more, after which nobody (us included)
 * can link a hash to an IP again. Neither the IP nor the User-Agent is ever stored.
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

  /** 16 hex characters: plenty for a HyperLogLog, useless for anything else. */
  hash(at: number, ip: string, userAgent: string): string | Promise<string> {
    const name = periodOf(this.calendar.day(at), this.period)
    const salt = this.ready.get(name)
    if (salt !== undefined) return keyedHash(salt, ip, userAgent)
    return this.salt(name).then((s) => keyedHash(seedOf(s), ip, userAgent))
  }
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
