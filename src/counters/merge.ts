/**
 * The ops of one group-commit batch merged so that each (key, field) and each capped member
 * appears once, and turned into the KEYS and ARGV of APPLY_BATCH (apply.lua.ts, whose header
 * describes the layout).
 *
 * @example
 * const merged = new MergedOps()
 * merged.merge(opsFor(event, ctx, 3))
 * const { keys, args } = merged.toScriptArgs(604_800, 172_800)
 */
import type { Op } from './increments.ts'

/** Lua's unpack() has a stack limit of a few thousand values; PFADD calls are split below it. */
const PFADD_CHUNK = 1000

type Capped = Extract<Op, { op: 'capped' }>

/** Ops merged so that each (key, field) and each capped member appears once. */
export class MergedOps {
  readonly incr = new Map<string, Map<string, number>>()
  readonly capped = new Map<string, Capped>()
  readonly pfadd = new Map<string, Set<string>>()

  merge(ops: readonly Op[]): void {
    for (const op of ops) {
      if (op.op === 'incr') {
        let fields = this.incr.get(op.key)
        if (!fields) {
          fields = new Map()
          this.incr.set(op.key, fields)
        }
        fields.set(op.field, (fields.get(op.field) ?? 0) + op.by)
      } else if (op.op === 'capped') {
        const id = `${op.seen}\n${op.key}\n${op.prefix}\n${op.member}`
        const prev = this.capped.get(id)
        if (prev) prev.by += op.by
        else this.capped.set(id, { ...op })
      } else {
        if (op.recent) this.recent.add(op.key)
        let set = this.pfadd.get(op.key)
        if (!set) {
          set = new Set()
          this.pfadd.set(op.key, set)
        }
        set.add(op.element)
      }
    }
  }

  /** Removes and returns the PFADDs (for keys outside the batch's slot). */
  takePfadds(): Map<string, Set<string>> {
    const pfadd = new Map(this.pfadd)
    this.pfadd.clear()
    return pfadd
  }

  /** Keys that live only minutes (the recent visitors' HyperLogLogs): `recentTtl`, not `ttl`. */
  readonly recent = new Set<string>()

  /** KEYS and ARGV of APPLY_BATCH. */
  toScriptArgs(ttls: { ttl: number; seenTtl: number; recentTtl: number }): { keys: string[]; args: string[] } {
    const keys: string[] = []
    const index = new Map<string, number>()
    const idx = (key: string) => {
      let i = index.get(key)
      if (i === undefined) {
        keys.push(key)
        i = keys.length
        index.set(key, i)
      }
      return String(i)
    }
    // Seen sets first, then the recent keys: the script gives each group its own TTL.
    for (const c of this.capped.values()) idx(c.seen)
    const nSeen = keys.length
    // (only those this call adds to: a shard of several leaves its visitors to another call)
    for (const key of this.recent) if (this.pfadd.has(key)) idx(key)
    const nRecent = keys.length - nSeen

    const args: string[] = [
      String(ttls.ttl),
      String(ttls.seenTtl),
      String(nSeen),
      String(ttls.recentTtl),
      String(nRecent),
    ]
    const incr: string[] = []
    let n = 0
    for (const [key, fields] of this.incr) {
      const k = idx(key)
      for (const [field, by] of fields) {
        incr.push(k, field, String(by))
        n++
      }
    }
    args.push(String(n), ...incr, String(this.capped.size))
    for (const c of this.capped.values()) {
      args.push(idx(c.seen), String(c.cap), c.member, idx(c.key), c.prefix, String(c.by))
    }
    const pf: string[] = []
    let p = 0
    for (const [key, set] of this.pfadd) {
      const k = idx(key)
      const elements = [...set]
      for (let i = 0; i < elements.length; i += PFADD_CHUNK) {
        const chunk = elements.slice(i, i + PFADD_CHUNK)
        pf.push(k, String(chunk.length), ...chunk)
        p++
      }
    }
    args.push(String(p), ...pf)
    return { keys, args }
  }
}
