/**
 * APPLY_BATCH's arguments read back by the description of their layout alone
 * (src/counters/apply-layout.ts), never by offsets of its own: the header by name, then every
 * section, each record as an object of its values (keys resolved from KEYS, counts as numbers)
 * and of its lists. A section added to the description is read here with no change.
 *
 * @example
 * const { header, sections } = decodeScriptArgs(keys, args)
 * sections.capped[0] // { seen, cap, member, key, prefix, by }: keys by name, counts as numbers
 */
import {
  APPLY_HEADER,
  APPLY_SECTIONS,
  type HeaderName,
  type List,
  type Part,
  type Value,
} from '../src/counters/apply-layout.ts'

type Sections = typeof APPLY_SECTIONS
type ValueOf<V extends Value> = V['type'] extends 'int' ? number : string

/** A record of a section as read: its values by name, and each list by the name of its count. */
export type RecordOf<P extends readonly Part[]> = {
  [K in P[number] as K extends Value ? K['name'] : K extends List ? K['count'] : never]: K extends Value
    ? ValueOf<K>
    : K extends List
      ? RecordOf<K['each']>[]
      : never
}

export type DecodedSections = { [S in Sections[number] as S['name']]: RecordOf<S['record']>[] }

export interface DecodedArgs {
  header: Record<HeaderName, number>
  sections: DecodedSections
}

/** Reads every argument, and fails on one it cannot read or one left over. */
export function decodeScriptArgs(keys: readonly string[], args: readonly string[]): DecodedArgs {
  let at = 0
  const next = (what: string): string => {
    if (at >= args.length) throw new Error(`ARGV ends before ${what} (at ${at + 1})`)
    return args[at++]!
  }
  const int = (what: string): number => {
    const raw = next(what)
    const n = Number(raw)
    if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(n)) throw new Error(`ARGV[${at}] ${what}: not a count: ${raw}`)
    return n
  }
  const count = (what: string): number => {
    const n = int(what)
    if (n < 0) throw new Error(`ARGV[${at}] ${what}: a negative count`)
    return n
  }
  const value = (v: Value): string | number => {
    if (v.type === 'string') return next(v.name)
    const n = int(v.name)
    if (v.type === 'int') return n
    if (n < 1 || n > keys.length) throw new Error(`ARGV[${at}] ${v.name}: no KEYS[${n}] (${keys.length} keys)`)
    return keys[n - 1]!
  }
  const record = (parts: readonly Part[]): Record<string, unknown> => {
    const r: Record<string, unknown> = {}
    for (const part of parts) {
      if ('name' in part) r[part.name] = value(part)
      else r[part.count] = Array.from({ length: count(part.count) }, () => record(part.each))
    }
    return r
  }
  const header = {} as Record<HeaderName, number>
  for (const arg of APPLY_HEADER) header[arg.name] = int(arg.name)
  const sections: Record<string, unknown[]> = {}
  for (const section of APPLY_SECTIONS) {
    sections[section.name] = Array.from({ length: count(section.count) }, () => record(section.record))
  }
  if (at !== args.length) throw new Error(`${args.length - at} arguments left after the last section`)
  return { header, sections: sections as unknown as DecodedSections }
}

/** What the arguments write, as the script applies them (capped members not decided: as sent). */
export function scriptWrites(keys: readonly string[], args: readonly string[]) {
  const { header, sections } = decodeScriptArgs(keys, args)
  const incr = new Map<string, Map<string, number>>()
  for (const { key, ones, more } of sections.incr) {
    const fields = incr.get(key) ?? new Map<string, number>()
    incr.set(key, fields)
    const add = (field: string, by: number) => fields.set(field, (fields.get(field) ?? 0) + by)
    for (const { field } of ones) add(field, 1)
    for (const { field, by } of more) add(field, by)
  }
  const pfadd = new Map<string, Set<string>>()
  for (const { n, count } of sections.pfadd) {
    for (const { key } of n) pfadd.set(key, new Set([...(pfadd.get(key) ?? []), ...count.map((c) => c.element)]))
  }
  return { header, incr, capped: sections.capped, pfadd, sections }
}
