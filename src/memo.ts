/**
 * A function remembered per key, with at most `limit` keys kept: once full, each new key
 * evicts the oldest one. The hot paths that use it (referrer hosts, User-Agents, client
 * addresses) see few distinct keys from real traffic and any number from a script, so memory
 * has to stay bounded, and a flood should not flush every hot entry at once (as clearing would).
 * A hit costs one `Map.get`; the order is not refreshed on a hit, which would cost a delete and a
 * set on every call.
 *
 * Keys are held in memory only, for as long as they stay among the last `limit` distinct ones.
 *
 * @example
 * const lengthOf = memo(1000, (s: string) => s.length)
 * lengthOf('abc') // 3, computed once
 */
export function memo<V extends string | object>(limit: number, compute: (key: string) => V): (key: string) => V {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`memo: limit must be a positive integer (got ${limit})`)
  const cache = new Map<string, V>()
  return (key) => {
    let value = cache.get(key)
    if (value === undefined) {
      value = compute(key)
      // a Map iterates in insertion order: its first key is the oldest
      if (cache.size >= limit) cache.delete(cache.keys().next().value as string)
      cache.set(key, value)
    }
    return value
  }
}
