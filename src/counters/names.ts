/**
 * The strings the group commit builds for every event, each built once and then reused: counter
 * keys, fields and the caps' prefixes and sets. A batch merges its counts in maps keyed by these
 * strings; a string built afresh for each event is a new object whose hash is computed again on
 * every lookup (and a concatenation must be flattened first), which cost more than counting.
 * Built through the codec (fields.ts) and the key layout (keys.ts), so nothing here decides a
 * layout.
 *
 * Every cache is keyed first by a day, a quarter or an hour, and forgets everything once it holds
 * {@link MAX_PERIODS} of them: a running instance writes only around now.
 *
 * @example
 * const names = new Names()
 * names.dayField(day, 'page_view') === names.dayField(day, 'page_view') // the same string object
 */
import { capPrefix, encodeField } from './fields.ts'
import type { ShardKeys } from './keys.ts'

/** Days, quarters or hours remembered per cache before it starts over. */
const MAX_PERIODS = 64

/**
 * A cache of strings by a period and up to two more parts. A miss is `get`, then `put` of the
 * string made: no closure is made per lookup, which runs for every counter of every event.
 */
class Strings {
  private byPeriod = new Map<string, Map<string, Map<string, string>>>()

  get(period: string, a: string, b: string): string | undefined {
    return this.byPeriod.get(period)?.get(a)?.get(b)
  }

  put(period: string, a: string, b: string, s: string): string {
    let byA = this.byPeriod.get(period)
    if (!byA) {
      if (this.byPeriod.size >= MAX_PERIODS) this.byPeriod = new Map()
      byA = new Map()
      this.byPeriod.set(period, byA)
    }
    let byB = byA.get(a)
    if (!byB) {
      byB = new Map()
      byA.set(a, byB)
    }
    byB.set(b, s)
    return s
  }
}

export class Names {
  private readonly live = new Strings()
  private readonly liveDay = new Strings()
  private readonly liveDayHours = new Strings()
  private readonly daily = new Strings()
  private readonly quarters = new Strings()
  private readonly prefixes = { u: new Strings(), f: new Strings(), p: new Strings(), x: new Strings() }
  private readonly liveKeys = new Strings()
  private readonly liveDayKeys = new Strings()
  private readonly seenKeys = { u: new Strings(), f: new Strings(), p: new Strings(), x: new Strings() }

  /** The live feed's field of a type in a UTC hour (`HH`). */
  liveField(type: string, hour: string): string {
    return this.live.get(hour, type, '') ?? this.live.put(hour, type, '', encodeField('live', { type, hour }))
  }

  /** The live daily hash's field (`ld`) of a type. */
  liveDayField(type: string): string {
    return this.liveDay.get('', type, '') ?? this.liveDay.put('', type, '', encodeField('ld', { type }))
  }

  /** The live daily hash's field (`lh`) of a type in a local hour (`HH`) of TIME_ZONE. */
  liveDayHourField(type: string, hour: string): string {
    return (
      this.liveDayHours.get(hour, type, '') ?? this.liveDayHours.put(hour, type, '', encodeField('lh', { type, hour }))
    )
  }

  /** A daily field (`d`) of a type. */
  dayField(day: string, type: string): string {
    return this.daily.get(day, type, '') ?? this.daily.put(day, type, '', encodeField('d', { day, type }))
  }

  /** The field (`v`) that marks a day whose visitors the flush must re-read. */
  visitorDayField(day: string): string {
    return this.daily.get(day, '', '') ?? this.daily.put(day, '', '', encodeField('v', { day }))
  }

  /** A time-of-day field (`h`) of a type in a UTC quarter. */
  quarterField(quarter: string, type: string): string {
    return (
      this.quarters.get(quarter, type, '') ?? this.quarters.put(quarter, type, '', encodeField('h', { quarter, type }))
    )
  }

  /** A capped kind's field without its value (`type` unused for `p`, `dimension` only for `x`). */
  prefix(kind: 'u' | 'f' | 'p' | 'x', day: string, type: string, dimension = ''): string {
    const cache = this.prefixes[kind]
    const known = cache.get(day, type, dimension)
    if (known !== undefined) return known
    const made =
      kind === 'x'
        ? capPrefix('x', { day, type, dimension })
        : kind === 'p'
          ? capPrefix('p', { day })
          : capPrefix(kind, { day, type })
    return cache.put(day, type, dimension, made)
  }

  /** A shard's live hash of a UTC day. */
  liveKey(shard: ShardKeys, day: string): string {
    return this.liveKeys.get(day, shard.base, '') ?? this.liveKeys.put(day, shard.base, '', shard.liveHourly(day))
  }

  /** A shard's live hash of a day of TIME_ZONE. */
  liveDayKey(shard: ShardKeys, day: string): string {
    return this.liveDayKeys.get(day, shard.base, '') ?? this.liveDayKeys.put(day, shard.base, '', shard.liveDaily(day))
  }

  /** A shard's cap set of a kind (and dimension) on a day. */
  seenKey(shard: ShardKeys, kind: 'u' | 'f' | 'p' | 'x', day: string, dimension?: string): string {
    const cache = this.seenKeys[kind]
    const d = dimension ?? ''
    return cache.get(day, shard.base, d) ?? cache.put(day, shard.base, d, shard.seen(kind, day, dimension))
  }
}
