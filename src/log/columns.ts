/**
 * Log rows as the parameters of one bulk `INSERT … SELECT … FROM unnest(…)`: one array per
 * column, cut into chunks whose statement fits one WebSocket frame of the driver; and the visits'
 * rows they need (sql/009_log_layout.sql).
 *
 * Every value is sent as text, as Postgres reads it, and checked there: a row that Postgres would
 * refuse is refused for its data (a SQLSTATE of class 22), so the flush sets its batch aside
 * rather than retrying it forever (invariant I7). The two values converted here are checked here
 * with the same kind of error: an instant outside years 0001-9999 and a visitor hash that is not
 * 16 hex digits.
 *
 * @example
 * for (const { params } of chunks(rows, ids)) await client.query(INSERT_EVENTS, params)
 */
import { EVENT_TYPES, VISIT_DIMENSIONS } from '../events/types.ts'
import { END_MS, FIRST_MS, utcDay } from './partitions.ts'
import type { LogRow } from './row.ts'

/**
 * The statements. The arrays are unnested in the select list, where Postgres steps through them
 * together row by row; `FROM unnest($1, $2, …)` first copies each array's elements into a
 * tuplestore of its own, and took twice as long to insert the same rows (measured with
 * bench/log-store.ts). An instant goes as epoch ms, exact (`NaN` is refused as bigint input), and
 * becomes the timestamptz here. Strings go as their ids in `analytics_values` (values.ts), the
 * event type as its place in EVENT_TYPES.
 */
export const INSERT_EVENTS = `INSERT INTO analytics_events (at, visit_id, visitor, path, hostname, feature, event_type,
    site, user_id, props)
  SELECT timestamptz 'epoch' + unnest($1::bigint[]) * interval '1 millisecond', unnest($2::bigint[]),
    unnest($3::bigint[]), unnest($4::integer[]), unnest($5::integer[]), unnest($6::integer[]), unnest($7::smallint[]),
    unnest($8::smallint[]), unnest($9::text[]), unnest($10::jsonb[])`

/**
 * A visit's values once per (visit, UTC day of its rows), with what the batch's rows of that
 * visit and day add up to (sql/010_visit_aggregates.sql): how many, how many page views, the
 * first and last time, the visitor and the event types seen (sql/011_visit_visitors.sql). The day's row may be written by an earlier batch (a visit's rows are
 * flushed as they come, a batch set aside and released later, two instances): the conflict then
 * adds the counts, widens the times, adds the types, and sets `began_at`, the values and the
 * visitor where they are not known yet (a visit's values and visitor never change, so a known one
 * is kept, and a NULL never overwrites one).
 * A statement never holds a key twice ({@link visitRows} merges them), as ON CONFLICT DO UPDATE
 * requires.
 */
export const INSERT_VISITS = `INSERT INTO analytics_visits AS v (visit_id, began_at, day, ${VISIT_DIMENSIONS.join(', ')}, site,
    events, views, first_at, last_at, visitor, types)
  SELECT unnest($1::bigint[]), timestamptz 'epoch' + unnest($2::bigint[]) * interval '1 millisecond', unnest($3::date[]),
    ${VISIT_DIMENSIONS.map((_, i) => `unnest($${4 + i}::integer[])`).join(', ')}, unnest($${4 + VISIT_DIMENSIONS.length}::smallint[]),
    unnest($${5 + VISIT_DIMENSIONS.length}::integer[]), unnest($${6 + VISIT_DIMENSIONS.length}::integer[]),
    timestamptz 'epoch' + unnest($${7 + VISIT_DIMENSIONS.length}::bigint[]) * interval '1 millisecond',
    timestamptz 'epoch' + unnest($${8 + VISIT_DIMENSIONS.length}::bigint[]) * interval '1 millisecond',
    unnest($${9 + VISIT_DIMENSIONS.length}::bigint[]), unnest($${10 + VISIT_DIMENSIONS.length}::integer[])
  ON CONFLICT (visit_id, day) DO UPDATE SET began_at = coalesce(v.began_at, excluded.began_at),
    ${VISIT_DIMENSIONS.map((d) => `${d} = coalesce(v.${d}, excluded.${d})`).join(', ')},
    events = v.events + excluded.events, views = v.views + excluded.views,
    first_at = least(v.first_at, excluded.first_at), last_at = greatest(v.last_at, excluded.last_at),
    visitor = coalesce(v.visitor, excluded.visitor), types = v.types | excluded.types`

const COLUMNS = 10
const VISIT_COLUMNS = 10 + VISIT_DIMENSIONS.length

/** Where a row's type is stored: its place in EVENT_TYPES. */
export const TYPE_CODE: ReadonlyMap<string, number> = new Map(EVENT_TYPES.map((t, i) => [t, i]))

/**
 * The most a chunk's statement may take. The driver sends a statement's parameters in one Bind
 * message, written in one WebSocket frame, and the bridge closes a connection whose frame is over
 * MAX_FRAME_BYTES (16 MiB, src/db/bridge.ts): like the counters' UPSERT_CHUNK_ROWS
 * (src/flush/write.ts), a chunk stays under 8 MB, half of it. The statement's text, the
 * parameters' length words and the messages around them take under 2 KB of the rest.
 */
export const CHUNK_BYTES = 8_000_000 - 4096

/**
 * Rows of a chunk at most. Each value is bounded by the length {@link rowBound} counts: the driver
 * writes an array element as `"text",`, with `"` and `\` escaped, so a value of n UTF-16 units
 * takes at most 3n + 3 bytes (a NULL 5), and that is what is counted, numbers included. The widest
 * row the limits allow (src/events/limits.ts, values.ts) without properties: epoch ms (15) 48,
 * visit id and visitor (20) 63 each, three ids (10) 33 each, type (2) 9, site 21, user id (128)
 * 387, props NULL 5: 695 bytes. Properties have no such bound: 32 values of 1,000 characters are
 * about 200 KB as escaped JSON, and their keys are bounded only by the body (1 MiB for a server
 * batch), so a count fixed for the widest possible row would be a few rows. A chunk therefore ends
 * when the next row's bound would take it past {@link CHUNK_BYTES}, and at this many rows: 5,000
 * wrote the bench's rows fastest and with the least CPU per row (bench/log-store.ts).
 */
export const CHUNK_ROWS = 5_000

/** A row Postgres would refuse for its data, refused here the same way, with its SQLSTATE. */
export class LogRowRefused extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'LogRowRefused'
  }
}

const HEX16 = /^[0-9a-f]{16}$/

/** The visitor hash (16 hex) as the signed 64-bit integer stored in `visitor`. */
export function visitorNumber(hex: string): string {
  if (!HEX16.test(hex)) throw new LogRowRefused('22P02', `visitor ${JSON.stringify(hex)} is not 16 hex digits`)
  return BigInt.asIntN(64, BigInt(`0x${hex}`)).toString()
}

/** One chunk: the statement's parameters (an array literal per column) and how many rows. */
export interface Chunk {
  params: string[]
  rows: number
}

/** Ids of the log's strings (values.ts): a row's strings must all be there. */
export type ValueIds = ReadonlyMap<string, number>

/** Every string of the rows that the dictionary keeps: the event's path, host and feature, its visit's values. */
export function logStrings(rows: readonly LogRow[]): Set<string> {
  const out = new Set<string>()
  let lastVisit: LogRow['visit'] = null
  for (const row of rows) {
    if (row.path !== null) out.add(row.path)
    if (row.hostname !== null) out.add(row.hostname)
    if (row.feature !== null) out.add(row.feature)
    // the rows of a visit in a segment share its values' object (row.ts)
    const visit = row.visit
    if (visit === null || visit === lastVisit) continue
    lastVisit = visit
    for (const d of VISIT_DIMENSIONS) {
      const v = visit[d]
      if (v !== null && v !== undefined) out.add(v)
    }
  }
  return out
}

/**
 * Consecutive rows in chunks within {@link CHUNK_BYTES} and `maxRows` ({@link CHUNK_ROWS}; the
 * bench tries others). The array literals are made here rather than by the driver: it escapes
 * every element with two regular expressions and joins them by repeated concatenation, which
 * took a third of the write's time and grew faster than the rows.
 */
export function* chunks(rows: readonly LogRow[], ids: ValueIds, maxRows = CHUNK_ROWS): Generator<Chunk> {
  // the rows of a visit share its visitor: convert each hash once
  const visitors = new Map<string, string>()
  const values: (string | null)[] = new Array(COLUMNS)
  yield* arrays(
    (function* () {
      for (const row of rows) yield fill(values, row, ids, visitors)
    })(),
    BARE,
    maxRows,
  )
}

/** Rows of values (one array reused or not) as chunks of array literals. */
function* arrays(rows: Iterable<(string | null)[]>, bare: readonly boolean[], maxRows: number): Generator<Chunk> {
  const n = bare.length
  const empty = (): string[][] => Array.from({ length: n }, () => [])
  let elements = empty()
  let count = 0
  let bytes = 0
  for (const values of rows) {
    const size = rowBound(values)
    if (count > 0 && (count === maxRows || bytes + size > CHUNK_BYTES)) {
      yield { params: elements.map(literal), rows: count }
      elements = empty()
      count = 0
      bytes = 0
    }
    for (let i = 0; i < n; i++) {
      const v = values[i]!
      elements[i]!.push(v === null ? 'NULL' : bare[i] ? v : quoted(v))
    }
    count++
    bytes += size
  }
  if (count > 0) yield { params: elements.map(literal), rows: count }
}

/**
 * The columns whose values are made here from numbers (epoch ms, visitor, ids, type, site), so
 * they hold nothing to quote. Every other value is quoted: an unquoted `1,2` would be two elements
 * and shift the rows after it into the wrong columns. The visit id comes from Redis (row.ts makes
 * it a decimal), and is quoted all the same.
 */
const BARE = [true, false, true, true, true, true, true, true, false, false]
const VISIT_BARE = [false, true, true, ...Array<boolean>(VISIT_COLUMNS - 3).fill(true)]

const ESCAPED = /["\\]/g

const quoted = (v: string): string =>
  v.includes('"') || v.includes('\\') ? `"${v.replace(ESCAPED, '\\$&')}"` : `"${v}"`

const literal = (elements: string[]): string => `{${elements.join(',')}}`

/** The most bytes a row's values take in the statement: {@link CHUNK_ROWS} says how. */
export function rowBound(values: readonly (string | null)[]): number {
  let bytes = 0
  for (const v of values) bytes += v === null ? 5 : 3 * v.length + 3
  return bytes
}

/** One row's values, in the statement's column order, as text. */
export const rowValues = (row: LogRow, ids: ValueIds): (string | null)[] =>
  fill(new Array(COLUMNS), row, ids, new Map())

const idOf = (ids: ValueIds, s: string | null): string | null => {
  if (s === null) return null
  const id = ids.get(s)
  if (id === undefined) throw new Error(`no id for the log string ${JSON.stringify(s.slice(0, 100))}`)
  return String(id)
}

function checkRow(row: LogRow): void {
  const at = row.at
  if (!Number.isSafeInteger(at) || at < FIRST_MS || at >= END_MS) {
    throw new LogRowRefused('22008', `event time ${at} is not an instant of years 0001-9999 in epoch ms`)
  }
  if (!Number.isSafeInteger(row.site)) throw new LogRowRefused('22P02', `site ${row.site} is not an integer`)
}

function fill(values: (string | null)[], row: LogRow, ids: ValueIds, visitors: Map<string, string>): (string | null)[] {
  checkRow(row)
  let visitor: string | null = null
  if (row.visitor !== null) {
    visitor = visitors.get(row.visitor) ?? null
    if (visitor === null) {
      visitor = visitorNumber(row.visitor)
      visitors.set(row.visitor, visitor)
    }
  }
  const type = TYPE_CODE.get(row.type)
  if (type === undefined)
    throw new LogRowRefused('22P02', `event type ${JSON.stringify(row.type)} is not one of EVENT_TYPES`)
  values[0] = String(row.at)
  values[1] = row.visitId
  values[2] = visitor
  values[3] = idOf(ids, row.path)
  values[4] = idOf(ids, row.hostname)
  values[5] = idOf(ids, row.feature)
  values[6] = String(type)
  values[7] = String(row.site)
  values[8] = row.userId
  values[9] = row.props && hasKeys(row.props) ? JSON.stringify(row.props) : null
  return values
}

function hasKeys(o: object): boolean {
  for (const _ in o) return true
  return false
}

/**
 * The bit of a visit's `types` set when one of its rows has no visitor (its values dropped past
 * the log's bound, row.ts): its first and last times may then be of such a row, which no visitor
 * read counts, and the reads that need a visitor's times take that row's events instead.
 */
export const WITHOUT_VISITOR = 1 << 30

/** A visit's row of one UTC day: its values, when it began if that row is here, and what its rows here add up to. */
export interface VisitRow {
  visitId: string
  day: string
  beganAt: number | null
  site: number
  /** null when no row of it here carries its values (row.ts) */
  visit: LogRow['visit']
  /** the visitor hash (16 hex) of a row of it here that knows it, or null */
  visitor: string | null
  /**
   * bit t: a row of it here with its visitor is of type EVENT_TYPES[t] (the reads count no other:
   * row.ts); {@link WITHOUT_VISITOR}: a row of it here has none
   */
  types: number
  events: number
  views: number
  first: number
  last: number
}

/**
 * The visits' rows the log rows need: one per visit and UTC day of its rows, with `beganAt` from
 * the row that began it, its values from a row that carries them (null when none here does), and
 * the rows' aggregates, visitor and types. A row of no visit adds nothing.
 */
export function visitRows(rows: readonly LogRow[]): VisitRow[] {
  const out = new Map<string, VisitRow>()
  for (const row of rows) {
    if (row.visitId === null) continue
    const day = utcDay(row.at)
    if (day === undefined) continue // refused by chunks, for its data
    const key = `${row.visitId} ${day}`
    let v = out.get(key)
    if (!v) {
      v = {
        visitId: row.visitId,
        day,
        beganAt: null,
        site: row.site,
        visit: null,
        visitor: null,
        types: 0,
        events: 0,
        views: 0,
        first: row.at,
        last: row.at,
      }
      out.set(key, v)
    }
    if (row.began) v.beganAt = row.at
    if (v.visit === null && row.visit !== null) v.visit = row.visit
    if (row.visitor !== null) {
      v.visitor = row.visitor
      v.types |= 1 << (TYPE_CODE.get(row.type) ?? 0)
    } else v.types |= WITHOUT_VISITOR
    v.events += 1
    if (row.type === 'page_view') v.views += 1
    if (row.at < v.first) v.first = row.at
    if (row.at > v.last) v.last = row.at
  }
  return [...out.values()]
}

/** Visits' rows in chunks of {@link INSERT_VISITS}' parameters. */
export function* visitChunks(visits: readonly VisitRow[], ids: ValueIds, maxRows = CHUNK_ROWS): Generator<Chunk> {
  const values: (string | null)[] = new Array(VISIT_COLUMNS)
  const n = VISIT_DIMENSIONS.length
  yield* arrays(
    (function* () {
      for (const v of visits) {
        values[0] = v.visitId
        values[1] = v.beganAt === null ? null : String(v.beganAt)
        values[2] = v.day
        VISIT_DIMENSIONS.forEach((d, i) => {
          values[3 + i] = v.visit === null ? null : idOf(ids, v.visit[d] ?? null)
        })
        values[3 + n] = String(v.site)
        values[4 + n] = String(v.events)
        values[5 + n] = String(v.views)
        values[6 + n] = String(v.first)
        values[7 + n] = String(v.last)
        values[8 + n] = v.visitor === null ? null : visitorNumber(v.visitor)
        values[9 + n] = String(v.types)
        yield values
      }
    })(),
    VISIT_BARE,
    maxRows,
  )
}
