/**
 * A small seeded PRNG (mulberry32) for fuzz tests, so a failure can be replayed from its seed.
 *
 * @example
 * const r = prng(20261128)
 * r.pick(['day', 'hour']) // the same answer for the same seed, every run
 */
export function prng(seed: number) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number) => Math.floor(next() * n)
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!
  return { next, int, pick }
}
