/**
 * The union computed in src/counters/hll.ts against Redis's own: the same registers as PFMERGE,
 * the same PFCOUNT, for sparse and dense sets of every size.
 */
import { describe, expect, test } from 'bun:test'
import { RESP_TYPES } from 'redis'
import { denseSet, mergeSets, registersOf } from '../src/counters/hll.ts'
import { testContext } from './services.ts'

describe('HyperLogLog union', () => {
  test('equals PFMERGE, register for register, for sparse and dense sets; PFCOUNT reads it', async () => {
    const { redis, config } = await testContext()
    const bytes = redis.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer })
    const key = (name: string) => `{${config.redisPrefix}}:hll-test:${name}`
    const get = async (name: string) => (await bytes.get(key(name))) as unknown as Buffer

    // sizes from empty (sparse) through the sparse-to-dense switch to well past it
    const sizes = [0, 1, 7, 300, 2_000, 20_000]
    for (const [i, n] of sizes.entries()) {
      await redis.del(key(`s${i}`))
      await redis.pfAdd(
        key(`s${i}`),
        Array.from({ length: n }, (_, j) => `v-${(i * 7_919 + j * 3) % 30_000}`),
      )
    }
    const sets = await Promise.all(sizes.map((_, i) => get(`s${i}`)))
    expect(sets.map((s) => s[4])).toContain(0) // some dense
    expect(sets.map((s) => s[4])).toContain(1) // some sparse

    // each set read alone, then every pair and all together
    const groups = [
      ...sizes.map((_, i) => [i]),
      ...sizes.flatMap((_, i) => sizes.map((_, j) => [i, j]).filter(([a, b]) => a! < b!)),
      sizes.map((_, i) => i),
    ]
    for (const group of groups) {
      await redis.del(key('redis'))
      await redis.pfMerge(
        key('redis'),
        group.map((i) => key(`s${i}`)),
      )
      const theirs = await get('redis')
      const ours = mergeSets(group.map((i) => sets[i]!))!
      expect({ group, same: Buffer.compare(registersOf(ours), registersOf(theirs)) === 0 }).toEqual({
        group,
        same: true,
      })
      await redis.set(key('ours'), ours)
      expect({ group, count: await redis.pfCount(key('ours')) }).toEqual({
        group,
        count: await redis.pfCount(key('redis')),
      })
    }
    // a dense set written back unchanged is byte for byte Redis's (but for the cached count)
    const dense = sets.find((s) => s[4] === 0)!
    expect(denseSet(registersOf(dense)).subarray(16)).toEqual(dense.subarray(16))
    expect(mergeSets([])).toBeNull()
  })

  test('bytes that are not a HyperLogLog are refused', () => {
    expect(() => registersOf(Buffer.from('HYLX0000000000000000'))).toThrow('not a Redis HyperLogLog')
    expect(() => registersOf(Buffer.from([0x48, 0x59, 0x4c, 0x4c, 0, ...new Array(20).fill(0)]))).toThrow('wrong size')
    // a sparse set whose runs stop short of the last register
    expect(() => registersOf(Buffer.from([0x48, 0x59, 0x4c, 0x4c, 1, ...new Array(11).fill(0), 0x7f, 0xfe]))).toThrow(
      'does not cover',
    )
  })
})
