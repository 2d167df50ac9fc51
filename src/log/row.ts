/**
 * The event log's row: one counted event, as the flush stores it and as filtered reads count it.
 * Every value is stored as it was counted (a value past its day's cap as `(other)`), so the log
 * and the counters agree; nothing here can name a person (no address, no User-Agent, no
 * referrer's path, no salt).
 *
 * In Redis a pending row is one string of fields separated by U+001F (no counted value holds a
 * control character: validation removes or refuses them). The group commit writes the event's
 * own fields; its Lua script appends the visit the event belongs to (apply.lua.ts), and, on the
 * first row of a visit in each pending segment, the visit's dimensions, so that every snapshot can
 * be stored without looking anything up.
 *
 * | # | field | |
 * |---|---|---|
 * | 0 | at | epoch ms, base 36 |
 * | 1 | type | event type, as one base-36 digit: its place in EVENT_TYPES |
 * | 2 | path | '' for none |
 * | 3 | hostname | the event's page host; '' for none, or, in a visit, for its visit's host |
 * | 4 | feature | '' for none |
 * | 5 | user | '' for none |
 * | 6 | props | `key U+001E value` pairs joined by U+001E, '' for none |
 * | 7 | visit | the visit id (base 36), '' for an event of no visit (server events) |
 * | 8 | began | '1' when the row began its visit, '0' when not; only with 9.. |
 * | 9 | visitor | the visitor hash (16 hex) |
 * | 10.. | dimensions | the visit's value under each of VISIT_DIMENSIONS, in order, '' for none |
 *
 * @example
 * const head = encodeHead(event, { path: '/pricing', hostname: 'shop.example.com' })
 * decodeRows(['kx1a2b3c\x1fpage_view\x1f/pricing\x1f…']) // LogRow[] with visit dimensions filled in
 */
import { EVENT_TYPES, type EventType, VISIT_DIMENSIONS, type VisitDimension } from '../events/types.ts'

/** An event type as one character in a pending row (EVENT_TYPES never reorders: it is the original pattern's list). */
const TYPE_CODES = new Map<string, string>(EVENT_TYPES.map((t, i) => [t, i.toString(36)]))
const typeOfCode = (c: string): EventType => EVENT_TYPES[Number.parseInt(c, 36)] ?? (c as EventType)

export const FIELD = '\x1f'
export const PAIR = '\x1e'
/** Separates the rows packed into one argument of the group commit's script. */
export const ROW = '\x1d'

/** One stored event. */
export interface LogRow {
  /** epoch ms */
  at: number
  /** the site it counts for (its keys in Redis say which: the row does not) */
  site: number
  type: EventType
  path: string | null
  hostname: string | null
  feature: string | null
  userId: string | null
  /** scalar properties as text (counted ones as counted), null for none */
  props: Record<string, string> | null
  /** the visit's id (a decimal 64-bit integer), null for an event of no visit */
  visitId: string | null
  /** whether this row began its visit */
  began: boolean
  /** the visitor hash (16 hex), null for an event of no visit */
  visitor: string | null
  /** the visit's value under each dimension (absent UTM values null); null for no visit */
  visit: Record<VisitDimension, string | null> | null
}

/** A row of an event at `at` with nothing else set: no page, no properties, no visit. */
export const eventRow = (at: number, type: EventType): LogRow => ({
  at,
  site: 0,
  type,
  path: null,
  hostname: null,
  feature: null,
  userId: null,
  props: null,
  visitId: null,
  began: false,
  visitor: null,
  visit: null,
})

/** The event's own fields (0..6), as the group commit writes them. */
export interface RowHead {
  at: number
  type: EventType
  path?: string
  hostname?: string
  feature?: string
  userId?: string
  /** key, value, key, value… */
  props?: readonly string[]
}

export function encodeHead(row: RowHead): string {
  let props = ''
  if (row.props) {
    for (let i = 0; i < row.props.length; i += 2) {
      if (i > 0) props += PAIR
      props += `${row.props[i]}${PAIR}${row.props[i + 1]}`
    }
  }
  return `${row.at.toString(36)}${FIELD}${TYPE_CODES.get(row.type)}${FIELD}${row.path ?? ''}${FIELD}${row.hostname ?? ''}${FIELD}${row.feature ?? ''}${FIELD}${row.userId ?? ''}${FIELD}${props}`
}

const orNull = (s: string | undefined): string | null => (s === undefined || s === '' ? null : s)

/** A visit id as the script writes it (base 36) → a decimal string Postgres takes as bigint. */
const visitIdOf = (s: string): string => BigInt.asIntN(64, base36(s)).toString()

function base36(s: string): bigint {
  let n = 0n
  for (const c of s) n = n * 36n + BigInt(Number.parseInt(c, 36))
  return n
}

/**
 * Rows of one pending segment (a snapshot, or what is pending), in order, with each row of a
 * visit given the dimensions its visit's first row in the segment carries. A row whose visit's
 * dimensions are not in the segment (they were dropped past the log's bound) keeps `visit` null.
 * Every row is `site`'s: a segment is one site's.
 */
export function decodeRows(raw: readonly string[], site = 0): LogRow[] {
  const visits = new Map<string, { visitor: string; visit: Record<VisitDimension, string | null> }>()
  const rows: LogRow[] = []
  for (const line of raw) {
    const f = line.split(FIELD)
    const visitRaw = f[7] ?? ''
    let props: Record<string, string> | null = null
    if (f[6]) {
      props = {}
      const pairs = f[6].split(PAIR)
      for (let i = 0; i + 1 < pairs.length; i += 2) props[pairs[i]!] = pairs[i + 1]!
    }
    const row: LogRow = {
      at: Number.parseInt(f[0]!, 36),
      site,
      type: typeOfCode(f[1]!),
      path: orNull(f[2]),
      hostname: orNull(f[3]),
      feature: orNull(f[4]),
      userId: orNull(f[5]),
      props,
      visitId: visitRaw === '' ? null : visitIdOf(visitRaw),
      began: f[8] === '1',
      visitor: null,
      visit: null,
    }
    if (visitRaw !== '') {
      if (f.length > 9) {
        const visit = {} as Record<VisitDimension, string | null>
        VISIT_DIMENSIONS.forEach((d, i) => {
          visit[d] = orNull(f[10 + i])
        })
        visits.set(visitRaw, { visitor: f[9]!, visit })
      }
      const known = visits.get(visitRaw)
      if (known) {
        row.visitor = known.visitor
        row.visit = known.visit
        // a page of a visit on the visit's own host does not repeat it
        if (row.hostname === null) row.hostname = known.visit.hostname
      }
    }
    rows.push(row)
  }
  return rows
}
