/**
 * The arguments of APPLY_BATCH (apply.lua.ts), described once as data: the header, then the
 * sections, each a count followed by that many records. The encoder (`MergedOps.toScriptArgs`,
 * merge.ts) writes the sections in this order, one writer per section by name; the script's
 * header comment and its reading of the header are generated from it; the tests read arguments
 * back by it alone (test/apply-args.ts). A new section is added here first: the encoder then
 * does not compile until it writes it, and the decoder reads it as it is described.
 *
 * @example
 * APPLY_SECTIONS.map((s) => s.name) // ['incr', 'capped', 'pfadd', 'logs', 'visits', 'joins', 'rows', 'expire']
 * luaLayoutComment() // the script's opening comment: every KEYS and ARGV, and each record
 */

/** One argument of a record: a key (sent as its 1-based index into KEYS), a count or a string. */
export interface Value {
  readonly name: string
  readonly type: 'key' | 'int' | 'string'
}

/** A list inside a record: a count, then that many groups of the values. */
export interface List {
  readonly count: string
  readonly each: readonly Value[]
}

export type Part = Value | List

export interface Section {
  readonly name: string
  /** the name of the section's record count, in the script */
  readonly count: string
  readonly record: readonly Part[]
  /** what the script does with a record */
  readonly doc: string
}

/** What KEYS holds, in order: the script gives each group its own TTL. */
export const APPLY_KEYS =
  'every key the batch writes, each once; KEYS[1..nSeen] are the per-day "seen" sets of the caps, ' +
  "the next nRecent the recent visitors' HyperLogLogs (one a minute), the next nSession the " +
  "visitors' current visits (their TTL is the visit's), the others counter hashes, the pending " +
  "rows and the days' HyperLogLogs."

/** ARGV[1..]: one whole number each, in this order. */
export const APPLY_HEADER = [
  { name: 'ttl', doc: 'seconds every counter key lives after this write' },
  { name: 'seenTtl', doc: 'seconds the "seen" sets live after this write' },
  { name: 'nSeen', doc: 'how many of KEYS are "seen" sets' },
  { name: 'recentTtl', doc: "seconds a recent visitors' HyperLogLog lives after this write" },
  { name: 'nRecent', doc: 'how many of KEYS, after the "seen" sets, are those' },
  { name: 'nSession', doc: "how many of KEYS, after those, are visitors' current visits" },
  { name: 'sessionMs', doc: 'milliseconds without an event after which a visit ends' },
  { name: 'dimCap', doc: 'values a capped visit dimension may have per day' },
  { name: 'maxRows', doc: 'pending log rows kept at most, per site; rows past it are dropped and counted' },
] as const

export type HeaderName = (typeof APPLY_HEADER)[number]['name']

const key = <N extends string>(name: N) => ({ name, type: 'key' }) as const
const int = <N extends string>(name: N) => ({ name, type: 'int' }) as const
const str = <N extends string>(name: N) => ({ name, type: 'string' }) as const

/** The sections after the header, in the order they are sent and read. */
export const APPLY_SECTIONS = [
  {
    name: 'incr',
    count: 'g',
    record: [key('key'), { count: 'ones', each: [str('field')] }, { count: 'more', each: [str('field'), int('by')] }],
    doc:
      'HINCRBY key field 1 for each of the first fields, HINCRBY key field by for the others: ' +
      "a key's fields go together, and a count of 1 is not sent",
  },
  {
    name: 'capped',
    count: 'm',
    record: [key('seen'), int('cap'), str('member'), key('key'), str('prefix'), int('by')],
    doc:
      "HINCRBY key prefix..member by, or prefix..'(other)' when member is new and seen already " + 'holds cap members',
  },
  {
    name: 'pfadd',
    count: 'p',
    record: [
      { count: 'n', each: [key('key')] },
      { count: 'count', each: [str('element')] },
    ],
    doc:
      "PFADD key element... for each key (the keys given the same elements, a batch's day and " +
      'minute of visitors, share them)',
  },
  {
    name: 'logs',
    count: 'l',
    record: [key('rows'), key('seq'), key('dropped'), key('daily'), key('quarters'), key('dimensions')],
    doc:
      "one site's (of the shard) pending log rows (a list), move sequence (it changes when pending " +
      'moves), hash of rows dropped past maxRows by UTC epoch day, and pending daily, quarter-hour ' +
      'and per-dimension counters, where its visits count; the records below name theirs by position',
  },
  {
    name: 'visits',
    count: 'v',
    record: [int('log'), key('session'), key('seen'), int('at'), str('host'), str('head'), str('rows')],
    doc:
      "one browser request of the site whose log is the log-th: at is its time in ms, host its page's host, head the rest of the visit it would " +
      'begin (visitor, candidate visit id, day, quarter, then the value under each other visit dimension, ' +
      'U+001F between), rows its log rows, U+001D between. With no visit in session whose last event is ' +
      'less than sessionMs before, the request begins one: it is counted (capped values ' +
      "in the day's seen sets from KEYS[seen] on, one per capped dimension) and becomes current. " +
      "Each row gets the visit's id; the first row of a visit in the pending segment also gets " +
      'whether it began the visit, the visitor and the dimensions as counted',
  },
  {
    name: 'joins',
    count: 'j',
    record: [int('log'), key('session'), int('at'), str('visitor'), str('row')],
    doc:
      "one server event of the log-th log's site sent with its browser's address and User-Agent: at is its time in ms, visitor the " +
      'hash of those, row its log row. With a visit in session whose last event is less than sessionMs ' +
      'before or after at, the event belongs to it: the row gets the visit id (and, as the first of the ' +
      "visit in the pending segment, the visit's values) and a later at becomes the visit's last event. " +
      'Otherwise the row is of no visit: a server event never begins one',
  },
  {
    name: 'rows',
    count: 'r',
    record: [int('log'), str('packed')],
    doc: "log rows of the log-th log's site, of events of no visit (server events), U+001D between",
  },
  {
    name: 'expire',
    count: 'e',
    record: [key('key')],
    doc:
      'the keys to give their TTL (by their group: the seen sets seenTtl, the recent visitors recentTtl, the ' +
      "others ttl): those this instance did not renew within the last minute; never a visit's",
  },
] as const satisfies readonly Section[]

export type SectionName = (typeof APPLY_SECTIONS)[number]['name']

/** The ARGV index (1-based, as in Lua) of the first section's count. */
export const FIRST_SECTION_ARG = APPLY_HEADER.length + 1

/** `(key, ones, field x ones, …)`: a record as the script's comment writes it. */
function recordText(record: readonly Part[]): string {
  const parts = record.map((part) => {
    if ('name' in part) return part.name
    const each = part.each.length === 1 ? part.each[0]!.name : `(${part.each.map((v) => v.name).join(', ')})`
    return `${part.count}, ${each} x ${part.count}`
  })
  return `(${parts.join(', ')})`
}

/** `text` in lines of at most `width` characters, each starting with `indent`. */
function wrap(text: string, indent: string, width = 100): string[] {
  const lines: string[] = []
  let line = indent
  for (const word of text.split(' ')) {
    if (line.length > indent.length && line.length + 1 + word.length > width) {
      lines.push(line)
      line = indent
    }
    line += line.length > indent.length ? ` ${word}` : word
  }
  lines.push(line)
  return lines
}

/** The script's opening comment: KEYS, each ARGV of the header, then each section's records. */
export function luaLayoutComment(): string {
  const lines = wrap(`KEYS: ${APPLY_KEYS}`, '-- ')
  for (const [k, arg] of APPLY_HEADER.entries()) lines.push(...wrap(`ARGV[${k + 1}] ${arg.name}: ${arg.doc}`, '-- '))
  lines.push(
    ...wrap(
      `ARGV[${FIRST_SECTION_ARG}..]: ${APPLY_SECTIONS.length} sections, each a count followed by that many ` +
        'records. Keys are given as indexes into KEYS.',
      '-- ',
    ),
  )
  const width = Math.max(...APPLY_SECTIONS.map((s) => s.name.length)) + 2
  for (const s of APPLY_SECTIONS) {
    lines.push(`--   ${`${s.name}:`.padEnd(width)}${s.count}, then ${s.count} x ${recordText(s.record)}`)
    lines.push(...wrap(s.doc, `--   ${' '.repeat(width)}`))
  }
  return lines.join('\n')
}

/** The script's first line of code: the header's values as locals, named as above. */
export function luaHeaderLocals(): string {
  const names = APPLY_HEADER.map((a) => a.name).join(', ')
  const values = APPLY_HEADER.map((_, k) => `tonumber(ARGV[${k + 1}])`).join(', ')
  return `local ${names} = ${values}`
}
