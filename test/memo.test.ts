import { describe, expect, test } from 'bun:test'
import { BoundedMap, memo } from '../src/memo.ts'

/** A memo of `limit` keys over a function that records which keys it was asked for. */
function counted(limit: number) {
  const computed: string[] = []
  const f = memo(limit, (key: string) => {
    computed.push(key)
    return `value of ${key}`
  })
  return { f, computed }
}

describe('memo', () => {
  test('computes a key once while it is kept', () => {
    const { f, computed } = counted(10)
    expect([f('a'), f('b'), f('a'), f('a'), f('b')]).toEqual([
      'value of a',
      'value of b',
      'value of a',
      'value of a',
      'value of b',
    ])
    expect(computed).toEqual(['a', 'b'])
  })

  test('once full, a new key evicts the oldest, and only that one', () => {
    const { f, computed } = counted(3)
    for (const key of ['a', 'b', 'c', 'd']) f(key)
    computed.length = 0
    f('b')
    f('c')
    f('d')
    expect(computed).toEqual([])
    f('a') // evicted by d: computed again, and evicts b
    expect(computed).toEqual(['a'])
    f('c')
    f('b')
    expect(computed).toEqual(['a', 'b'])
  })

  test('a flood of distinct keys keeps at most `limit` of them', () => {
    const { f, computed } = counted(100)
    for (let i = 0; i < 10_000; i++) f(`flood-${i}`)
    computed.length = 0
    for (let i = 9_900; i < 10_000; i++) f(`flood-${i}`)
    expect(computed).toEqual([])
    f('flood-9899')
    expect(computed).toEqual(['flood-9899'])
  })

  test('a limit must be a positive integer', () => {
    expect(() => memo(0, String)).toThrow(RangeError)
    expect(() => memo(1.5, String)).toThrow(RangeError)
  })
})

describe('BoundedMap', () => {
  test('holds at most its limit; setting a key it holds evicts nothing', () => {
    const map = new BoundedMap<number, string>(2)
    map.set(1, 'a').set(2, 'b').set(2, 'B')
    expect([map.size, map.get(1), map.get(2)]).toEqual([2, 'a', 'B'])
    map.set(3, 'c')
    expect([map.size, map.get(1), map.get(2), map.get(3)]).toEqual([2, undefined, 'B', 'c'])
  })
})
