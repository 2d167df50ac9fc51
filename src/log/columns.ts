/**
 * Log rows as the parameters of one bulk `INSERT … SELECT … FROM unnest(…)`: one array per
 * column, cut into chunks whose statement fits one WebSocket frame of the driver.
 *
 * Every value is sent as text, as Postgres reads it, and checked there: a row that Postgres would
 * refuse is refused for its data (a SQLSTATE of class 22), so the flush sets its batch aside
 * rather than retrying it forever (invariant I7). The two values converted here are checked here
 * with the same kind of error: an instant outside years 0001-9999 and a visitor hash that is not
 * 16 hex digits.
 *
 * @example
 * for (const { params } of chunks(rows)) await client.query(INSERT_EVENTS, params)
 */
import { VISIT_DIMENSIONS } from '../events/types.ts'
import { END_MS, FIRST_MS } from './partitions.ts'
import type { LogRow } from './row.ts'

/**
 * The statement. The arrays are unnested in the select list, where Postgres steps through them
 * together row by row; `FROM unnest($1, $2, …)` first copies each array's elements into a
 * tuplestore of its own, and took twice as long to insert the same rows (measured with
 * bench/log-store.ts). The instant goes as epoch ms, exact (`NaN` is refused as bigint input), and
 * becomes the timestamptz here.
 */
export const INSERT_EVENTS = `INSERT INTO analytics_events (at, visit_id, visitor, site, began, event_type, path,
    hostname, feature, user_id, source, utm_source, utm_medium, utm_campaign, entry_page, browser, os, device,
    country, visit_hostname, props)
  SELECT timestamptz 'epoch' + unnest($1::bigint[]) * interval '1 millisecond', unnest($2::bigint[]),
    unnest($3::bigint[]), unnest($4::smallint[]), unnest($5::boolean[]), unnest($6::text[]), unnest($7::text[]),
    unnest($8::text[]), unnest($9::text[]), unnest($10::text[]), unnest($11::text[]), unnest($12::text[]),
    unnest($13::text[]), unnest($14::text[]), unnest($15::text[]), unnest($16::text[]), unnest($17::text[]),
    unnest($18::text[]), unnest($19::text[]), unnest($20::text[]), unnest($21::jsonb[])`

const COLUMNS = 21

/**
 * The most a chunk's statement may take. The driver sends a statement's parameters in one Bind
 * message, written in one WebSocket frame, and the bridge closes a connection whose frame is over
 * MAX_FRAME_BYTES (16 MiB, src/db/bridge.ts): like the counters' UPSERT_CHUNK_ROWS
 * (src/flush/write.ts), a chunk stays under 8 MB, half of it. The statement's text, the 21
 * parameters' length words and the messages around them take under 2 KB of the rest.
 */
export const CHUNK_BYTES = 8_000_000 - 4096

/**
 * Rows of a chunk at most. Each value is bounded by the length {@link rowBound} counts: the driver
 * writes an array element as `"text",`, with `"` and `\` escaped, so a value of n UTF-16 units
 * takes at most 3n + 3 bytes (a NULL 5), and that is what is counted, numbers included. The widest
 * row the limits allow (src/events/limits.ts, values.ts) without properties: epoch ms (15) 48,
 * visit id and visitor (20) 63 each, site 21, began 6, type (21) 66, path and entry page (512)
 * 1,539 each, hostname, visit hostname and source (253) 762 each, feature (100) 303, user id (128)
 * 387, three UTM values (100) 909, browser, OS and device (bowser's names, under 40) 369, country
 * 30, props NULL 5: 7,634 bytes, so 1,047 rows in {@link CHUNK_BYTES}. Properties have no such
 * bound: 32 values of 1,000 characters are about 200 KB as escaped JSON, and their keys are
 * bounded only by the body (1 MiB for a server batch), so a count fixed for the widest possible
 * row would be a few rows. A chunk therefore ends when the next row's bound would take it past
 * {@link CHUNK_BYTES}, and at this many rows: the bench's rows (bench/log-store.ts) are bounded at
 * about 530 bytes (they take 230), which would allow 15,000 a chunk, but 5,000 wrote them fastest
 * and with the least CPU per row (2,000 about the same, 20,000 half as much CPU again).
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

/**
 * Consecutive rows in chunks within {@link CHUNK_BYTES} and `maxRows` ({@link CHUNK_ROWS}; the
 * bench tries others). The array literals are made here rather than by the driver: it escapes
 * every element with two regular expressions and joins them by repeated concatenation, which
 * took a third of the write's time and grew faster than the rows.
 */
export function* chunks(rows: readonly LogRow[], maxRows = CHUNK_ROWS): Generator<Chunk> {
  // the rows of a visit share its visitor: convert each hash once
  const visitors = new Map<string, string>()
  const values: (string | null)[] = new Array(COLUMNS)
  let elements = emptyColumns()
  let count = 0
  let bytes = 0
  for (const row of rows) {
    fill(values, row, visitors)
    const size = rowBound(values)
    if (count > 0 && (count === maxRows || bytes + size > CHUNK_BYTES)) {
      yield { params: elements.map(literal), rows: count }
      elements = emptyColumns()
      count = 0
      bytes = 0
    }
    for (let i = 0; i < COLUMNS; i++) {
      const v = values[i]!
      elements[i]!.push(v === null ? 'NULL' : BARE[i] ? v : quoted(v))
    }
    count++
    bytes += size
  }
  if (count > 0) yield { params: elements.map(literal), rows: count }
}

/**
 * The columns whose values are made here from numbers (epoch ms, visitor, site, began), so they
 * hold nothing to quote. Every other value is quoted: an unquoted `1,2` would be two elements and
 * shift the rows after it into the wrong columns.
 */
const BARE = [true, false, true, true, true, ...Array<boolean>(COLUMNS - 5).fill(false)]

const ESCAPED = /["\\]/g

const quoted = (v: string): string =>
  v.includes('"') || v.includes('\\') ? `"${v.replace(ESCAPED, '\\$&')}"` : `"${v}"`

const literal = (elements: string[]): string => `{${elements.join(',')}}`

const emptyColumns = (): string[][] => Array.from({ length: COLUMNS }, () => [])

/** The most bytes a row's values take in the statement: {@link CHUNK_ROWS} says how. */
export function rowBound(values: readonly (string | null)[]): number {
  let bytes = 0
  for (const v of values) bytes += v === null ? 5 : 3 * v.length + 3
  return bytes
}

/** One row's values, in the statement's column order, as text. */
export const rowValues = (row: LogRow): (string | null)[] => fill(new Array(COLUMNS), row, new Map())

function fill(values: (string | null)[], row: LogRow, visitors: Map<string, string>): (string | null)[] {
  const at = row.at
  if (!Number.isSafeInteger(at) || at < FIRST_MS || at >= END_MS) {
    throw new LogRowRefused('22008', `event time ${at} is not an instant of years 0001-9999 in epoch ms`)
  }
  if (!Number.isSafeInteger(row.site)) throw new LogRowRefused('22P02', `site ${row.site} is not an integer`)
  let visitor: string | null = null
  if (row.visitor !== null) {
    visitor = visitors.get(row.visitor) ?? null
    if (visitor === null) {
      visitor = visitorNumber(row.visitor)
      visitors.set(row.visitor, visitor)
    }
  }
  values[0] = String(at)
  values[1] = row.visitId
  values[2] = visitor
  values[3] = String(row.site)
  values[4] = row.began ? 't' : 'f'
  values[5] = row.type
  values[6] = row.path
  values[7] = row.hostname
  values[8] = row.feature
  values[9] = row.userId
  const visit = row.visit
  for (let i = 0; i < VISIT_DIMENSIONS.length; i++)
    values[10 + i] = visit ? (visit[VISIT_DIMENSIONS[i]!] ?? null) : null
  values[20] = row.props && hasKeys(row.props) ? JSON.stringify(row.props) : null
  return values
}

function hasKeys(o: object): boolean {
  for (const _ in o) return true
  return false
}
