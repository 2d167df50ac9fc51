/**
 * Bounded memory for the hot paths that see few distinct keys from real traffic and any number
 * from a script (referrer hosts, User-Agents, client addresses): at most `limit` entries, and
 * once full each new key evicts the oldest one, so a flood cannot grow memory, and does not
 * flush every hot entry at once as clearing would. A hit costs one `Map.get`; the order is not
 * refreshed on a hit, which would cost a delete and a set on every call.
 *
 * Keys are held in memory only, for as long as they stay among the last `limit` distinct ones.
 *
 * @example
 * const lengthOf = memo(1000, (s: string) => s.length)
 * lengthOf('abc') // 3, computed once
 */

/** A Map of at most `limit` entries that forgets its oldest first. */
export class BoundedMap<K, V> {
  readonly #map = new Map<K, V>()

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer (got ${limit})`)
  }

  get size(): number {
    return this.#map.size
  }

  get(key: K): V | undefined {
    return this.#map.get(key)
  }

  set(key: K, value: V): this {
    // a Map iterates in insertion order: its first key is the oldest
    if (this.#map.size >= this.limit && !this.#map.has(key)) this.#map.delete(this.#map.keys().next().value as K)
    this.#map.set(key, value)
    return this
  }
}

/** `compute`, remembered for the last `limit` distinct keys. */
export function memo<V extends string | object>(limit: number, compute: (key: string) => V): (key: string) => V {
  const cache = new BoundedMap<string, V>(limit)
  return (key) => {
    let value = cache.get(key)
    if (value === undefined) {
      value = compute(key)
      cache.set(key, value)
    }
    return value
  }
}
