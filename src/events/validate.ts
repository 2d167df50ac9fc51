/**
 * Event JSON (the original pattern's field names) checked with compiled TypeBox validators and
 * turned into {@link CountedEvent}s. Every problem is reported as `{index, field, reason}`.
 *
 * @example
 * const { events, errors } = validateEvents(json, { source: 'server', now: Date.now() })
 */
import Type from 'typebox'
import { Compile } from 'typebox/compile'
import { normalizePath } from './path.ts'
import { BROWSER_TYPES, type CountedEvent, EVENT_TYPES, isBrowserType, isEventType } from './types.ts'

export const MAX_BEACON_EVENTS = 50
export const MAX_SERVER_EVENTS = 1000
export const MAX_TIMESTAMP_AGE_MS = 30 * 86_400_000
export const MAX_TIMESTAMP_SKEW_MS = 5 * 60_000

/**
 * No control characters: they have no place in ids, names or paths, and break log lines (and
 * Postgres text cannot hold a NUL).
 */
const printable = '^[^\\u0000-\\u001f\\u007f]*$'
const text = (maxLength: number) => Type.String({ minLength: 1, maxLength, pattern: printable })

/** Longest user id, in UTF-16 units. */
const USER_ID_MAX = 128

const EventSchema = Type.Object(
  {
    event_type: Type.String(),
    user_id: Type.Optional(
      Type.Union([text(USER_ID_MAX), Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })]),
    ),
    properties: Type.Optional(
      Type.Object(
        {
          feature_name: Type.Optional(text(100)),
          path: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, pattern: printable })),
        },
        {
          // Other properties are accepted and kept out of the counters.
          additionalProperties: Type.Union([
            Type.String({ maxLength: 1000 }),
            Type.Number(),
            Type.Boolean(),
            Type.Null(),
          ]),
          maxProperties: 32,
        },
      ),
    ),
    timestamp: Type.Optional(Type.Union([Type.String({ maxLength: 40 }), Type.Number()])),
  },
  { additionalProperties: false },
)

const check = Compile(EventSchema)

/** The general validator's verdict on one event (the schema only, not the event type). */
export const schemaAccepts = (value: unknown): boolean => check.Check(value)

const PRINTABLE = new RegExp(printable)
const isText = (v: unknown, maxLength: number): boolean =>
  typeof v === 'string' && v.length >= 1 && v.length <= maxLength && PRINTABLE.test(v)

/**
 * The rule for a user id given as a string, wherever one comes from: an event's `user_id`, a
 * JWT's `sub`, a read's `:id`. What an event may carry, a read may look up, and nothing else.
 *
 * @example
 * isUserId('u_123') // true
 * isUserId('u\u0000') // false
 */
export const isUserId = (v: unknown): v is string => isText(v, USER_ID_MAX)

/** {@link isUserId}'s rule, for reasons given to clients. */
export const USER_ID_RULE = `1-${USER_ID_MAX} characters, none of them control characters`

/**
 * The common shapes of an event, accepted without the general validator: only `event_type`,
 * `user_id` and `properties` holding only `path` and `feature_name`. It accepts a subset of what
 * {@link EventSchema} accepts (a test checks this on random input) and says false for anything
 * else, which then goes through the compiled schema and its error messages. Lengths are checked
 * in UTF-16 units, which never undercount code points, so "short enough here" is short enough
 * for the schema too. The general validator cost about a tenth of the beacon's CPU time.
 */
export function fastAccept(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const raw = value as Record<string, unknown>
  for (const key in raw) {
    if (key === 'event_type') {
      if (typeof raw.event_type !== 'string') return false
    } else if (key === 'user_id') {
      const id = raw.user_id
      if (!(isUserId(id) || (Number.isSafeInteger(id) && (id as number) >= 0))) return false
    } else if (key === 'properties') {
      const props = raw.properties
      if (typeof props !== 'object' || props === null || Array.isArray(props)) return false
      for (const name in props) {
        const v = (props as Record<string, unknown>)[name]
        if (name === 'path') {
          if (!isText(v, 2048)) return false
        } else if (name !== 'feature_name' || !isText(v, 100)) return false
      }
    } else return false
  }
  return 'event_type' in raw
}

/** Human reasons for fields whose schema is a union (TypeBox reports each branch otherwise). */
const UNION_REASONS: Record<string, string> = {
  user_id: 'must be a string of 1-128 printable characters or a non-negative integer',
  timestamp: 'must be an ISO-8601 string or epoch milliseconds',
}

export interface FieldError {
  index: number
  field: string
  reason: string
}

export interface ValidateOptions {
  source: 'browser' | 'server'
  /** receive time, epoch ms */
  now: number
  /** query parameters kept in page paths */
  keepQueryParams?: readonly string[]
}

export interface Validated {
  events: CountedEvent[]
  errors: FieldError[]
}

function schemaErrors(value: unknown, index: number): FieldError[] {
  const byField = new Map<string, string>()
  for (const e of check.Errors(value)) {
    let field = e.instancePath.replace(/^\//, '').replaceAll('/', '.')
    let reason = e.message
    if (e.keyword === 'additionalProperties' || e.keyword === 'boolean') {
      // reported again on the offending property itself ('boolean' keyword)
      if (e.keyword === 'additionalProperties') continue
      reason = 'is not a known field'
    }
    const top = field.split('.')[0] ?? ''
    if (top in UNION_REASONS && !field.includes('.')) reason = UNION_REASONS[top]!
    else if (field.startsWith('properties.') && !['properties.feature_name', 'properties.path'].includes(field)) {
      reason = 'must be a string of at most 1000 characters, a number, a boolean or null'
    }
    if (e.keyword === 'pattern') reason = 'must not contain control characters'
    if (!field) field = '(event)'
    if (!byField.has(field)) byField.set(field, reason)
  }
  return [...byField].map(([field, reason]) => ({ index, field, reason }))
}

function parseTimestamp(raw: string | number, now: number): { at?: number; reason?: string } {
  let at: number
  if (typeof raw === 'number') {
    if (!Number.isInteger(raw) || raw <= 0) return { reason: 'epoch milliseconds must be a positive integer' }
    at = raw
  } else {
    if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(raw))
      return { reason: 'must be an ISO-8601 date-time like 2026-01-31T12:00:00Z' }
    at = Date.parse(raw)
    if (Number.isNaN(at)) return { reason: 'is not a valid date' }
  }
  if (at < now - MAX_TIMESTAMP_AGE_MS) return { reason: 'is more than 30 days old' }
  if (at > now + MAX_TIMESTAMP_SKEW_MS) return { reason: 'is more than 5 minutes in the future' }
  return { at }
}

function validateOne(value: unknown, index: number, options: ValidateOptions, errors: FieldError[]) {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    errors.push({ index, field: '(event)', reason: 'must be a JSON object' })
    return undefined
  }
  const raw = value as Record<string, unknown>
  const before = errors.length
  const type = raw.event_type
  if (!isEventType(type)) {
    errors.push({
      index,
      field: 'event_type',
      reason:
        type === undefined
          ? 'is required'
          : `must be one of ${(options.source === 'browser' ? BROWSER_TYPES : EVENT_TYPES).join(', ')}`,
    })
  } else if (options.source === 'browser' && !isBrowserType(type)) {
    errors.push({
      index,
      field: 'event_type',
      reason: `${type} is server-only: send it to POST /analytics/events with the ingest token`,
    })
  }
  if (!fastAccept(value) && !check.Check(value))
    errors.push(...schemaErrors(value, index).filter((e) => e.field !== 'event_type'))

  let at = options.now
  // Beacons count at receive time: a browser's clock is not trusted.
  if (options.source === 'server' && raw.timestamp !== undefined && errors.length === before) {
    const ts = parseTimestamp(raw.timestamp as string | number, options.now)
    if (ts.reason) errors.push({ index, field: 'timestamp', reason: ts.reason })
    else at = ts.at!
  }
  if (errors.length > before) return undefined

  const props = raw.properties as { feature_name?: string; path?: string } | undefined
  const event: CountedEvent = { type: type as CountedEvent['type'], at }
  if (raw.user_id !== undefined) event.userId = String(raw.user_id)
  if (props?.feature_name) event.feature = props.feature_name
  if (type === 'page_view' && props?.path) event.path = normalizePath(props.path, options.keepQueryParams)
  return event
}

/**
 * Validates one event or an array of events. Returns every event when all are valid, else the
 * errors (and no events: a batch is all-or-nothing).
 */
export function validateEvents(body: unknown, options: ValidateOptions): Validated {
  const max = options.source === 'browser' ? MAX_BEACON_EVENTS : MAX_SERVER_EVENTS
  const list = Array.isArray(body) ? body : options.source === 'browser' ? [body] : undefined
  if (!list) {
    return { events: [], errors: [{ index: -1, field: '(body)', reason: 'must be a JSON array of events' }] }
  }
  if (list.length === 0) return { events: [], errors: [{ index: -1, field: '(body)', reason: 'has no events' }] }
  if (list.length > max) {
    return {
      events: [],
      errors: [{ index: -1, field: '(body)', reason: `has ${list.length} events; at most ${max} per request` }],
    }
  }
  const events: CountedEvent[] = []
  const errors: FieldError[] = []
  for (let i = 0; i < list.length; i++) {
    const event = validateOne(list[i], i, options, errors)
    if (event) events.push(event)
  }
  return errors.length > 0 ? { events: [], errors } : { events, errors }
}
