/**
 * The one codec of counter hash fields: every field the write path builds is encoded here, and
 * every reader (flush, stats, top, dashboard, users, live) decodes it here. Adding a kind of
 * counter is one entry in {@link FIELDS}.
 *
 * Layouts. Parts are joined with `|`. Event types, days and hours never contain `|`; the last
 * part of a kind with a `value` (user id, feature name, path) may, so only the leading
 * separators are split when decoding.
 *
 * | kind | hash | field |
 * |---|---|---|
 * | `live` | live hourly hash of one day | `${type}\|${HH}` |
 * | `ld` | live daily hash of one `TIME_ZONE` day: a type's count of the day | `${type}` |
 * | `lh` | the same hash: a type's count of a local hour (`HH`) of that day | `${type}\|${HH}` |
 * | `d` | pending daily | `${day}\|${type}` |
 * | `h` | pending time of day, by UTC quarter-hour | `${YYYY-MM-DD}T${HH}:${MM}\|${type}` |
 * | `u` | pending per-user daily | `${day}\|${type}\|${user}` |
 * | `f` | pending per-feature daily | `${day}\|${type}\|${feature}` |
 * | `p` | pending per-page daily | `${day}\|${path}` |
 * | `x` | pending per-dimension daily | `${day}\|${type}\|${dimension}\|${value}` |
 * | `v` | days whose visitor estimate must be re-read | `${day}` |
 *
 * Dimension names (`source`, `prop:plan`, ...) never contain `|` either. The capped kinds (`u`, `f`,
 * `p`, `x`) are written by a Lua script that appends either the value or
 * `(other)` to a prefix: {@link capPrefix} gives that prefix, so the script never builds a field.
 *
 * @example
 * encodeField('u', { day: '2026-11-28', type: 'feature_used', value: 'a|b' }) // '2026-11-28|feature_used|a|b'
 * decodeField('u', '2026-11-28|feature_used|a|b') // { day: '2026-11-28', type: 'feature_used', value: 'a|b' }
 */

export interface FieldParts {
  live: { type: string; hour: string }
  ld: { type: string }
  lh: { type: string; hour: string }
  d: { day: string; type: string }
  /**
   * `quarter` is `YYYY-MM-DDTHH:MM` (UTC, MM one of 00, 15, 30, 45); a field written before
   * quarters, `YYYY-MM-DDTHH`, holds a whole hour and counts as its first quarter
   */
  h: { quarter: string; type: string }
  u: { day: string; type: string; value: string }
  f: { day: string; type: string; value: string }
  p: { day: string; value: string }
  /** `type` is an event type, or `visit` for the dimensions of visits */
  x: { day: string; type: string; dimension: string; value: string }
  v: { day: string }
}

export type FieldKind = keyof FieldParts
/** Kinds whose value a browser sends, capped per day by the group commit's script. */
export type CappedKind = 'u' | 'f' | 'p' | 'x'
/** The parts of a capped kind before its value. */
export type Head<K extends CappedKind> = Omit<FieldParts[K], 'value'>

/** Splits `s` at its first `n` '|' separators into n + 1 parts (the last keeps any other '|'). */
function split(s: string, n: number): string[] {
  const parts: string[] = []
  let from = 0
  for (let i = 0; i < n; i++) {
    const at = s.indexOf('|', from)
    if (at < 0) break
    parts.push(s.slice(from, at))
    from = at + 1
  }
  parts.push(s.slice(from))
  return parts
}

interface Codec<K extends FieldKind> {
  encode(parts: FieldParts[K]): string
  decode(field: string): FieldParts[K]
}

const FIELDS: { [K in FieldKind]: Codec<K> } = {
  live: {
    encode: ({ type, hour }) => `${type}|${hour}`,
    decode(field) {
      const [type = '', hour = ''] = split(field, 1)
      return { type, hour }
    },
  },
  ld: {
    encode: ({ type }) => type,
    decode: (field) => ({ type: field }),
  },
  lh: {
    encode: ({ type, hour }) => `${type}|${hour}`,
    decode(field) {
      const [type = '', hour = ''] = split(field, 1)
      return { type, hour }
    },
  },
  d: {
    encode: ({ day, type }) => `${day}|${type}`,
    decode(field) {
      const [day = '', type = ''] = split(field, 1)
      return { day, type }
    },
  },
  h: {
    encode: ({ quarter, type }) => `${quarter}|${type}`,
    decode(field) {
      const [quarter = '', type = ''] = split(field, 1)
      return { quarter: quarter.length === 13 ? `${quarter}:00` : quarter, type }
    },
  },
  u: {
    encode: ({ day, type, value }) => `${day}|${type}|${value}`,
    decode(field) {
      const [day = '', type = '', value = ''] = split(field, 2)
      return { day, type, value }
    },
  },
  f: {
    encode: ({ day, type, value }) => `${day}|${type}|${value}`,
    decode(field) {
      const [day = '', type = '', value = ''] = split(field, 2)
      return { day, type, value }
    },
  },
  p: {
    encode: ({ day, value }) => `${day}|${value}`,
    decode(field) {
      const [day = '', value = ''] = split(field, 1)
      return { day, value }
    },
  },
  x: {
    encode: ({ day, type, dimension, value }) => `${day}|${type}|${dimension}|${value}`,
    decode(field) {
      const [day = '', type = '', dimension = '', value = ''] = split(field, 3)
      return { day, type, dimension, value }
    },
  },
  v: {
    encode: ({ day }) => day,
    decode: (field) => ({ day: field }),
  },
}

export function encodeField<K extends FieldKind>(kind: K, parts: FieldParts[K]): string {
  return FIELDS[kind].encode(parts)
}

export function decodeField<K extends FieldKind>(kind: K, field: string): FieldParts[K] {
  return FIELDS[kind].decode(field)
}

/** The field of a capped kind without its value: the script appends the value or `(other)`. */
export function capPrefix<K extends CappedKind>(kind: K, head: Head<K>): string {
  return (FIELDS[kind] as Codec<CappedKind>).encode({ ...head, value: '' } as FieldParts[CappedKind])
}
