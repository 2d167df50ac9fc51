/**
 * The arguments of a batch's Lua call, read back by the description of their layout
 * (src/counters/apply-layout.ts) alone: what the encoder writes carries every merged count,
 * capped member and visitor, and the script applies exactly that.
 */
import { describe, expect, test } from 'bun:test'
import { APPLY_BATCH } from '../src/counters/apply.lua.ts'
import { APPLY_HEADER, APPLY_SECTIONS } from '../src/counters/apply-layout.ts'
import { utcCalendar } from '../src/counters/calendar.ts'
import { type Caps, countEvent, countRecentVisitors, countVisitors } from '../src/counters/increments.ts'
import { createKeys } from '../src/counters/keys.ts'
import { Admissions, MergedOps } from '../src/counters/merge.ts'
import { runScript } from '../src/db/script.ts'
import { type CountedEvent, EVENT_TYPES } from '../src/events/types.ts'
import { OTHER } from '../src/events/values.ts'
import { decodeScriptArgs, scriptWrites } from './apply-args.ts'
import { collect, type Op } from './ops.ts'
import { prng } from './prng.ts'
import { testContext, testPrefix } from './services.ts'

const LOG = { rows: 'r', sequence: 'seq', dropped: 'dropped', daily: 'd', quarters: 'h', dimensions: 'x' }
const TTLS = {
  ttl: 604_800,
  seenTtl: 172_800,
  recentTtl: 600,
  sessionMs: 1_800_000,
  dimCap: 1000,
  maxRows: 10,
}
const DAY = Date.parse('2026-11-28T00:00:00Z')

/** A batch of random events over two days, with few distinct values, so that many merge. */
function randomBatch(r: ReturnType<typeof prng>, visitors: number) {
  const value = (name: string, n: number) => `${name}${r.int(n)}`
  const events: { event: CountedEvent; by: number }[] = []
  for (let i = 1 + r.int(60); i > 0; i--) {
    const event: CountedEvent = { type: r.pick(EVENT_TYPES), at: DAY + r.int(2 * 86_400_000) }
    if (r.next() < 0.5) event.userId = value('u', 8)
    if (r.next() < 0.4) event.feature = value('f', 6)
    if (r.next() < 0.5) event.path = value('/p', 10)
    if (r.next() < 0.3) event.props = ['plan', value('plan', 3), ...(r.next() < 0.5 ? ['variant', value('v', 2)] : [])]
    events.push({ event, by: 1 + (r.next() < 0.8 ? 0 : r.int(4)) })
  }
  const hashes = Array.from({ length: visitors }, (_, i) => `h${i}`)
  return { events, hashes, at: events[0]!.event.at }
}

/**
 * What a batch must send, worked out from its ops as data: plain counts summed per key and field
 * (a capped member whose answer is remembered counts by its name or as `(other)`), the other
 * capped members summed per set, field prefix and member, and the visitor hashes per key.
 */
function expectedOf(ops: readonly Op[], admissions: Admissions | undefined) {
  const incr = new Map<string, Map<string, number>>()
  const add = (key: string, field: string, by: number) => {
    const fields = incr.get(key) ?? new Map<string, number>()
    incr.set(key, fields.set(field, (fields.get(field) ?? 0) + by))
  }
  const capped = new Map<string, Extract<Op, { op: 'capped' }>>()
  const pfadd = new Map<string, Set<string>>()
  const recent = new Set<string>()
  for (const op of ops) {
    if (op.op === 'incr') add(op.key, op.field, op.by)
    else if (op.op === 'pfadd') {
      pfadd.set(op.key, (pfadd.get(op.key) ?? new Set()).add(op.element))
      if (op.recent) recent.add(op.key)
    } else {
      const admitted = admissions?.get(op.seen, op.member)
      if (admitted !== undefined) add(op.key, op.prefix + (admitted ? op.member : OTHER), op.by)
      else {
        const id = `${op.seen}\n${op.prefix}\n${op.member}`
        const prev = capped.get(id)
        capped.set(id, prev ? { ...prev, by: prev.by + op.by } : { ...op })
      }
    }
  }
  return { incr, capped, pfadd, recent }
}

describe('the layout', () => {
  test("the script's opening comment names every KEYS group, header argument, section and record value", () => {
    const comment = APPLY_BATCH.source.split('\n').filter((line) => line.startsWith('--'))
    const text = comment.join('\n')
    expect(text).toContain('-- KEYS: every key the batch writes')
    for (const [k, arg] of APPLY_HEADER.entries()) expect(text).toContain(`-- ARGV[${k + 1}] ${arg.name}: ${arg.doc}`)
    expect(text).toContain(`-- ARGV[${APPLY_HEADER.length + 1}..]: ${APPLY_SECTIONS.length} sections`)
    expect(comment).toContain('--   incr:   g, then g x (key, ones, field x ones, more, (field, by) x more)')
    expect(comment).toContain('--   capped: m, then m x (seen, cap, member, key, prefix, by)')
    expect(comment).toContain('--   pfadd:  p, then p x (n, key x n, count, element x count)')
    for (const line of comment) expect(line.length).toBeLessThanOrEqual(100)
    // the header is read by the names it is described with
    expect(APPLY_BATCH.source).toContain(`local ${APPLY_HEADER.map((a) => a.name).join(', ')} = tonumber(ARGV[1]),`)
  })
})

describe('the script call of a batch', () => {
  const keys = createKeys('p')
  const shard = keys.shards[0]!

  test('encode → decode gives back every merged count, capped member and visitor (seeded random batches)', () => {
    const r = prng(20261128)
    for (let round = 0; round < 200; round++) {
      const { events, hashes, at } = randomBatch(r, r.next() < 0.05 ? 1500 : r.int(40))
      const caps: Caps | undefined = r.next() < 0.8 ? { users: 3, features: 3, paths: 4, dimensions: 2 } : undefined
      // an instance that has seen some members before: their answers are remembered
      const admissions = r.next() < 0.5 ? new Admissions(64, 2000) : undefined
      if (admissions) {
        for (const { event } of events) {
          const ops: Op[] = []
          countEvent(event, { keys: shard, calendar: utcCalendar, caps }, 1, collect(ops))
          for (const op of ops)
            if (op.op === 'capped' && r.next() < 0.4) admissions.set(op.seen, op.member, r.next() < 0.7)
        }
      }
      // a minute with some of the day's visitors, and the next with others
      const minutes = [hashes.slice(0, r.int(hashes.length + 1)), hashes.filter(() => r.next() < 0.5)]
      const merged = new MergedOps(admissions)
      const ops: Op[] = []
      for (const sink of [merged, collect(ops)]) {
        for (const { event, by } of events) countEvent(event, { keys: shard, calendar: utcCalendar, caps }, by, sink)
        if (hashes.length > 0) countVisitors(sink, shard, keys, utcCalendar.day(at), hashes)
        for (const [k, minute] of minutes.entries())
          countRecentVisitors(sink, keys, Math.floor(at / 60_000) + k, minute)
      }
      const want = expectedOf(ops, admissions)

      const script = merged.toScriptArgs(TTLS)
      const got = scriptWrites(script.keys, script.args)
      const seen = new Set([...want.capped.values()].map((c) => c.seen))
      const recent = [...want.recent].filter((key) => want.pfadd.has(key))
      expect(got.header).toMatchObject({ ...TTLS, nSeen: seen.size, nRecent: recent.length, nSession: 0 })
      expect(new Set(script.keys).size).toBe(script.keys.length)
      expect(new Set(script.keys.slice(0, seen.size))).toEqual(seen)
      expect(new Set(script.keys.slice(seen.size, seen.size + recent.length))).toEqual(new Set(recent))
      expect(got.incr).toEqual(want.incr)
      // the capped records: each set, prefix and member once, with its summed count, as asked
      expect(got.capped).toEqual(merged.asked.map(({ position: _, ...c }) => c))
      expect(new Map(got.capped.map((c) => [`${c.seen}\n${c.prefix}\n${c.member}`, { op: 'capped', ...c }]))).toEqual(
        want.capped,
      )
      expect(got.pfadd).toEqual(want.pfadd)
      expect(merged.size).toBe(
        got.sections.incr.reduce((n, g) => n + g.ones.length + g.more.length, 0) +
          got.capped.length +
          [...want.pfadd.values()].reduce((n, set) => n + set.size, 0),
      )
    }
  })

  test('keys given the same visitors share them; a key with other visitors gets its own record', () => {
    const r = prng(17)
    for (let round = 0; round < 50; round++) {
      const merged = new MergedOps()
      const visitors = new Map<string, Set<string>>()
      const hashes = Array.from({ length: 1 + r.int(30) }, (_, i) => `h${i}`)
      for (const pfKey of ['day', 'minute', 'other-minute']) {
        for (const h of hashes) {
          if (pfKey === 'other-minute' && r.next() < 0.5) continue
          merged.pfadd(pfKey, h, pfKey !== 'day')
          visitors.set(pfKey, (visitors.get(pfKey) ?? new Set()).add(h))
        }
      }
      const { keys, args } = merged.toScriptArgs(TTLS)
      expect(scriptWrites(keys, args).pfadd).toEqual(visitors)
      // a hash is sent once for the day and the minute, which have the same ones, and once more
      // for the other minute only when that minute's hashes are not the same
      const other = visitors.get('other-minute') ?? new Set()
      const separate = other.has('h0') && other.size !== hashes.length
      expect(args.filter((a) => a === 'h0')).toHaveLength(separate ? 2 : 1)
    }
  })

  test("server events to join a visit: each sent with its time, visitor and row, their visits' keys among the sessions", () => {
    const merged = new MergedOps()
    const other = { ...LOG, rows: 'r5', sequence: 'seq5' }
    merged.visit(
      {
        log: LOG,
        session: shard.session('a1'),
        seen: ['seen:src'],
        at: DAY,
        host: 'shop.example.com',
        head: 'a1',
        rows: 'row0',
      },
      1,
    )
    merged.join({ log: other, session: shard.session('b2'), at: DAY + 5, visitor: 'b2', row: 'row1' })
    merged.join({ log: LOG, session: shard.session('a1'), at: DAY + 9, visitor: 'a1', row: 'row2' })
    merged.row('row3', other)
    merged.row('row4', other)
    expect(merged.rowCount).toBe(5)
    const { keys: sent, args } = merged.toScriptArgs(TTLS)
    const { header, sections } = decodeScriptArgs(sent, args)
    // each site's log once, in the order first named; records name theirs by position
    expect(sections.logs).toEqual(
      [LOG, other].map((l) => ({
        rows: l.rows,
        seq: l.sequence,
        dropped: l.dropped,
        daily: l.daily,
        quarters: l.quarters,
        dimensions: l.dimensions,
      })),
    )
    expect(sections.joins).toEqual([
      { log: 2, session: shard.session('b2'), at: DAY + 5, visitor: 'b2', row: 'row1' },
      { log: 1, session: shard.session('a1'), at: DAY + 9, visitor: 'a1', row: 'row2' },
    ])
    expect(sections.rows).toEqual([{ log: 2, packed: `row3\x1drow4` }])
    // the sessions' keys (a visit's TTL is its own) stand together: one for each visitor
    expect(header.nSession).toBe(2)
    const sessions = sent.slice(header.nSeen + header.nRecent, header.nSeen + header.nRecent + header.nSession)
    expect(new Set(sessions)).toEqual(new Set([shard.session('a1'), shard.session('b2')]))
  })

  test('the decoder refuses arguments that do not follow the layout', () => {
    const merged = new MergedOps()
    merged.incr('k', 'f', 1)
    merged.capped('seen', 2, 'm', 'k', 'x|', 3)
    const { keys, args } = merged.toScriptArgs(TTLS)
    expect(decodeScriptArgs(keys, args).sections.capped).toEqual([
      { seen: 'seen', cap: 2, member: 'm', key: 'k', prefix: 'x|', by: 3 },
    ])
    expect(() => decodeScriptArgs(keys, [...args, 'extra'])).toThrow('1 arguments left after the last section')
    expect(() => decodeScriptArgs(keys, args.slice(0, -1))).toThrow('ARGV ends before')
    expect(() => decodeScriptArgs(keys.slice(0, 1), args)).toThrow(/no KEYS\[\d+\] \(1 keys\)/)
  })
})

describe('the script applies what the arguments say', () => {
  test('counts, capped members decided in order, visitors and TTLs, in real Redis (seeded random batches)', async () => {
    const { redis } = await testContext()
    const r = prng(7)
    for (let round = 0; round < 20; round++) {
      const keys = createKeys(testPrefix())
      const shard = keys.shards[0]!
      const { events, hashes, at } = randomBatch(r, r.int(20))
      const caps = { users: 1 + r.int(4), features: 1 + r.int(4), paths: 1 + r.int(6), dimensions: 1 + r.int(3) }
      const merged = new MergedOps()
      for (const { event, by } of events) countEvent(event, { keys: shard, calendar: utcCalendar, caps }, by, merged)
      countVisitors(merged, shard, keys, utcCalendar.day(at), hashes)
      countRecentVisitors(merged, keys, Math.floor(at / 60_000), hashes)
      const script = merged.toScriptArgs(TTLS)
      const { header, incr, capped, pfadd } = scriptWrites(script.keys, script.args)

      // the script's work, step by step: the counts, then each capped member in order
      const hashes_ = new Map<string, Map<string, number>>()
      for (const [key, fields] of incr) hashes_.set(key, new Map(fields))
      const sets = new Map<string, Set<string>>()
      const refused: number[] = []
      for (const [j, c] of capped.entries()) {
        const set = sets.get(c.seen) ?? new Set<string>()
        sets.set(c.seen, set)
        let field = c.prefix + c.member
        if (!set.has(c.member)) {
          if (set.size < c.cap) set.add(c.member)
          else {
            field = c.prefix + OTHER
            refused.push(j + 1)
          }
        }
        const fields = hashes_.get(c.key) ?? new Map<string, number>()
        hashes_.set(c.key, fields.set(field, (fields.get(field) ?? 0) + c.by))
      }

      const [refusedNow, dropped, absent] = (await runScript(redis, APPLY_BATCH, script.keys, script.args)) as [
        number[],
        number,
        number[],
      ]
      expect([refusedNow, dropped]).toEqual([refused, 0])
      // the keys it found absent when it set their TTL: named, and not written
      for (const k of absent) expect(await redis.exists(script.keys[k - 1]!)).toBe(0)
      for (const [key, fields] of hashes_) {
        const stored = await redis.hGetAll(key)
        expect(new Map(Object.entries(stored).map(([f, n]) => [f, Number(n)]))).toEqual(fields)
      }
      for (const [seen, members] of sets) expect(new Set(await redis.sMembers(seen))).toEqual(members)
      for (const [key, elements] of pfadd) expect(await redis.pfCount(key)).toBe(elements.size)
      for (const [k, key] of script.keys.entries()) {
        // (the log's keys are named whether or not the batch writes them)
        if (!(await redis.exists(key))) continue
        const ttl = k < header.nSeen ? TTLS.seenTtl : k < header.nSeen + header.nRecent ? TTLS.recentTtl : TTLS.ttl
        // (a second may pass between the call and the read)
        expect({ key, ttl: Math.max(await redis.ttl(key), ttl - 2) }).toEqual({ key, ttl })
      }
    }
  })
})

describe('TTLs renewed at most once a minute', () => {
  test('a key the batcher renewed lately keeps its TTL; every other key gets its own; expires names those', async () => {
    const { redis } = await testContext()
    const keys = createKeys(testPrefix())
    const shard = keys.shards[0]!
    const at = Date.parse('2026-11-28T12:00:00Z')
    const merged = new MergedOps()
    // a server's event of no visit: its row names the site's log keys, the visit counters among them
    merged.row(
      countEvent({ type: 'page_view', at, path: '/a' }, { keys: shard, calendar: utcCalendar }, 1, merged),
      shard.log,
    )
    const live = shard.liveHourly('2026-11-28')
    // the live hash exists with a short TTL, as if an earlier batch of this instance gave it one
    await redis.hSet(live, 'x', '1')
    await redis.expire(live, 100)
    const script = merged.toScriptArgs({ ...TTLS, fresh: (key) => key === live })
    const expired = scriptWrites(script.keys, script.args).sections.expire.map((r) => r.key)
    expect(expired).not.toContain(live)
    expect(expired).toEqual(script.expires)
    expect(script.expires).not.toContain(live)
    expect(script.expires).toContain(shard.pending('d'))
    const [, , absent] = (await runScript(redis, APPLY_BATCH, script.keys, script.args)) as [number[], number, number[]]
    // the log's keys the batch named and did not write: the batcher does not take them for renewed
    expect(absent.map((k) => script.keys[k - 1])).toContain(shard.pending('x'))
    expect(await redis.ttl(live)).toBeLessThanOrEqual(100)
    expect(await redis.ttl(shard.pending('d'))).toBeGreaterThan(TTLS.ttl - 3)
  })
})

describe('cap admissions remembered', () => {
  const keys = createKeys('p')
  const shard = keys.shards[0]!
  const caps = { users: 10, features: 10, paths: 2, dimensions: 10 }
  const pageView = (merged: MergedOps, path: string) =>
    countEvent(
      { type: 'page_view', at: Date.parse('2026-11-28T12:00:00Z'), path },
      { keys: shard, caps, calendar: utcCalendar },
      1,
      merged,
    )

  test('a member the script admitted or refused becomes a plain HINCRBY of its name or of (other)', () => {
    const admissions = new Admissions(10, 100)
    const first = new MergedOps(admissions)
    for (const path of ['/a', '/b', '/c']) pageView(first, path)
    expect(first.asked).toHaveLength(3)
    // the script answers that the third capped record (/c) found the set full
    first.learn([3])

    const next = new MergedOps(admissions)
    for (const path of ['/a', '/c', '/d']) pageView(next, path)
    // only /d, never seen, is asked about; /a counts by name and /c as (other), in the hash itself
    expect(next.asked.map((c) => c.member)).toEqual(['/d'])
    const { keys: scriptKeys, args } = next.toScriptArgs(TTLS)
    const writes = scriptWrites(scriptKeys, args)
    const pending = writes.incr.get(shard.pending('p'))
    expect([pending?.get('2026-11-28|/a'), pending?.get('2026-11-28|(other)')]).toEqual([1, 1])
    expect(writes.capped.map((c) => c.member)).toEqual(['/d'])
  })

  test('without admissions every capped member is asked about, as before', () => {
    const merged = new MergedOps()
    for (const path of ['/a', '/a', '/b']) pageView(merged, path)
    merged.learn([])
    expect(merged.asked.map((c) => [c.member, c.by])).toEqual([
      ['/a', 2],
      ['/b', 1],
    ])
  })
})
