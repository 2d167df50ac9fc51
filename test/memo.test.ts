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

  test('a key in use stays through a flood of others; one left alone is forgotten', () => {
    const { f, computed } = counted(100)
    f('hot')
    f('cold')
    for (let i = 0; i < 10_000; i++) {
      f(`flood-${i}`)
      // used once per 40 new keys, well within a generation of 50
      if (i % 40 === 0) f('hot')
    }
    expect(computed.filter((key) => key === 'hot')).toEqual(['hot'])
    computed.length = 0
    f('cold')
    expect(computed).toEqual(['cold'])
  })

  test('the last limit / 2 distinct keys are always kept', () => {
    const { f, computed } = counted(100)
    for (let i = 0; i < 1_000; i++) f(`key-${i}`)
    computed.length = 0
    for (let i = 950; i < 1_000; i++) f(`key-${i}`)
    expect(computed).toEqual([])
  })

  test('a limit must be an integer of at least 2', () => {
    expect(() => memo(1, String)).toThrow(RangeError)
    expect(() => memo(2.5, String)).toThrow(RangeError)
  })
})

describe('BoundedMap', () => {
  test('never holds more than its limit, under any flood', () => {
    for (const limit of [2, 3, 10, 101]) {
      const map = new BoundedMap<number, number>(limit)
      let most = 0
      for (let i = 0; i < 5_000; i++) {
        map.set(i, i)
        if (i % 7 === 0) map.get(i - 3) // promotions from the old generation too
        most = Math.max(most, map.size)
      }
      expect({ limit, most }).toEqual({ limit, most: limit - (limit % 2) })
    }
  })

  test('setting a key it holds replaces the value', () => {
    const map = new BoundedMap<string, string>(10)
    map.set('a', '1').set('a', '2')
    expect([map.get('a'), map.size]).toEqual(['2', 1])
  })
})
