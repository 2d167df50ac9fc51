/**
 * Bounded memory for the hot paths that see few distinct keys from real traffic and any number
 * from a script (referrer hosts, User-Agents, client addresses): at most `limit` entries, so a
 * flood cannot grow memory, and a key in use stays while the flood goes by.
 *
 * Two generations: new keys go into the young map; when it holds half the limit it becomes the
 * old one, and the old one is dropped whole. A key found in the old map moves to the young one,
 * so a key used at least once per `limit / 2` new keys is never dropped. Nothing is evicted one
 * entry at a time: JavaScriptCore finds a Map's oldest live entry by walking over the deleted
 * ones before it, which made oldest-first eviction cost 15 µs per new key at 10,000 entries.
 *
 * Keys are held in memory only, for as long as they stay in one of the two generations.
 *
 * @example
 * const lengthOf = memo(1000, (s: string) => s.length)
 * lengthOf('abc') // 3, computed once
 */

/** A map of at most `limit` entries that forgets the keys not used for the longest. */
export class BoundedMap<K, V> {
  #young = new Map<K, V>()
  #old = new Map<K, V>()
  readonly #half: number

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 2) throw new RangeError(`limit must be an integer ≥ 2 (got ${limit})`)
    this.#half = Math.floor(limit / 2)
  }

  get size(): number {
    return this.#young.size + this.#old.size
  }

  /** Forgets every entry. */
  clear(): void {
    this.#young = new Map()
    this.#old = new Map()
  }

  get(key: K): V | undefined {
    const young = this.#young.get(key)
    if (young !== undefined) return young
    const old = this.#old.get(key)
    if (old !== undefined) {
      this.#old.delete(key)
      this.set(key, old)
    }
    return old
  }

  set(key: K, value: V): this {
    if (this.#young.size >= this.#half && !this.#young.has(key)) {
      this.#old = this.#young
      this.#young = new Map()
    }
    this.#young.set(key, value)
    return this
  }
}

/** `compute`, remembered for the keys in use (at most `limit` of them). */
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
