/**
 * Event JSON (the original pattern's field names) checked with compiled TypeBox validators and
 * turned into {@link CountedEvent}s. Every problem is reported as `{index, field, reason}`.
 *
 * A server event may also carry the browser's address and User-Agent (`client_ip`, `user_agent`:
 * both or neither), which its back end forwards from the browser's request. They are handed back
 * beside the events (`senders`), never inside them: the counters and the log never see them.
 *
 * @example
 * const { events, errors, senders } = validateEvents(json, { source: 'server', now: Date.now() })
 */
import Type from 'typebox'
import { Compile } from 'typebox/compile'
import {
  CONTROL_CHARACTERS,
  isPrintable,
  isText,
  isUserId,
  MAX_BEACON_EVENTS,
  MAX_CLIENT_IP_LENGTH,
  MAX_CLIENT_USER_AGENT_LENGTH,
  MAX_DIMENSION_VALUE_LENGTH,
  MAX_FEATURE_NAME_LENGTH,
  MAX_HOSTNAME_LENGTH,
  MAX_PROPERTIES,
  MAX_PROPERTY_LENGTH,
  MAX_RAW_PATH_LENGTH,
  MAX_REFERRER_LENGTH,
  MAX_SERVER_EVENTS,
  MAX_TIMESTAMP_AGE_MS,
  MAX_TIMESTAMP_LENGTH,
  MAX_TIMESTAMP_SKEW_MS,
  MAX_USER_ID_LENGTH,
  PRINTABLE_PATTERN,
  USER_ID_RULE,
} from './limits.ts'
import { normalizePath } from './path.ts'
import {
  BROWSER_TYPES,
  type CountedEvent,
  canonicalType,
  EVENT_TYPES,
  isBrowserType,
  isEventType,
  type Sender,
} from './types.ts'
import { bounded, hostname, INVALID, scrubEmails } from './values.ts'

const text = (maxLength: number) => Type.String({ minLength: 1, maxLength, pattern: PRINTABLE_PATTERN })
/** Printable text that may be empty (a page load with no referrer sends ''). */
const maybeEmpty = (maxLength: number) => Type.String({ maxLength, pattern: PRINTABLE_PATTERN })

/** What a host name may hold: letters, digits, dots, dashes, and an IPv6 address's brackets and colons. */
const HOSTNAME_PATTERN = '^[A-Za-z0-9.:\\[\\]_-]+$'

/** The UTM parameters a page view carries on a page load's first view. */
const UTM_KEYS = ['utm_source', 'utm_medium', 'utm_campaign'] as const

/** `properties`: the ones with a meaning of their own, and other scalars. */
const PropertiesSchema = Type.Object(
  {
    feature_name: Type.Optional(text(MAX_FEATURE_NAME_LENGTH)),
    path: Type.Optional(text(MAX_RAW_PATH_LENGTH)),
    referrer: Type.Optional(maybeEmpty(MAX_REFERRER_LENGTH)),
    // any text: a campaign link's %0A must not cost the page view (control characters are
    // removed when the value is counted)
    utm_source: Type.Optional(Type.String({ maxLength: MAX_PROPERTY_LENGTH })),
    utm_medium: Type.Optional(Type.String({ maxLength: MAX_PROPERTY_LENGTH })),
    utm_campaign: Type.Optional(Type.String({ maxLength: MAX_PROPERTY_LENGTH })),
    hostname: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_HOSTNAME_LENGTH, pattern: HOSTNAME_PATTERN })),
  },
  {
    // Other properties are accepted and kept out of the counters.
    additionalProperties: Type.Union([
      Type.String({ maxLength: MAX_PROPERTY_LENGTH }),
      Type.Number(),
      Type.Boolean(),
      Type.Null(),
    ]),
    maxProperties: MAX_PROPERTIES,
  },
)

export const EventSchema = Type.Object(
  {
    event_type: Type.String(),
    user_id: Type.Optional(
      Type.Union([text(MAX_USER_ID_LENGTH), Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })]),
    ),
    properties: Type.Optional(PropertiesSchema),
    timestamp: Type.Optional(Type.Union([Type.String({ maxLength: MAX_TIMESTAMP_LENGTH }), Type.Number()])),
  },
  { additionalProperties: false },
)

/** The longest IPv4 text (`255.255.255.255`). */
const MAX_IPV4_LENGTH = 15

/**
 * A server event: an event, and optionally the browser's address and User-Agent, forwarded by the
 * back end from the browser's request so that the event joins that visitor's visit (both or
 * neither; checked by hand, see {@link validateEvents}). They are hashed as a beacon's are, then
 * dropped: never stored, never logged.
 */
export const ServerEventSchema = Type.Object(
  {
    ...EventSchema.properties,
    client_ip: Type.Optional(
      Type.Union(
        [
          Type.String({ format: 'ipv4', maxLength: MAX_IPV4_LENGTH }),
          Type.String({ format: 'ipv6', maxLength: MAX_CLIENT_IP_LENGTH }),
        ],
        {
          description:
            "the browser's IPv4 or IPv6 address, as the back end saw the browser's request (with user_agent); " +
            'hashed into the visitor, never stored',
          examples: ['203.0.113.9', '2001:db8::7'],
        },
      ),
    ),
    user_agent: Type.Optional(
      Type.String({
        maxLength: MAX_CLIENT_USER_AGENT_LENGTH,
        description:
          "the User-Agent header of the browser's request, as sent (with client_ip); hashed into the visitor, " +
          "never stored. A crawler's is not counted, as its beacons are not",
      }),
    ),
  },
  { additionalProperties: false },
)

/** The fields only a server event may have: a beacon's address and User-Agent are its request's. */
const SERVER_ONLY_FIELDS = ['client_ip', 'user_agent'] as const

const check = Compile(EventSchema)
const checkServer = Compile(ServerEventSchema)
type Checker = typeof check | typeof checkServer

/** The general validator's verdict on one event (the schema only, not the event type). */
export const schemaAccepts = (value: unknown): boolean => check.Check(value)

/**
 * The common shapes of an event, accepted without the general validator: only `event_type`,
 * `user_id` and `properties` holding only `path`, `feature_name`, `referrer` and the UTM
 * values. It accepts a subset of what
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
          if (!isText(v, MAX_RAW_PATH_LENGTH)) return false
        } else if (name === 'feature_name') {
          if (!isText(v, MAX_FEATURE_NAME_LENGTH)) return false
        } else if (name === 'referrer') {
          if (!isPrintable(v, MAX_REFERRER_LENGTH)) return false
        } else if (name === 'utm_source' || name === 'utm_medium' || name === 'utm_campaign') {
          if (typeof v !== 'string' || v.length > MAX_PROPERTY_LENGTH) return false
        } else return false
      }
    } else return false
  }
  return 'event_type' in raw
}

/**
 * Human reasons for fields whose schema is a union (TypeBox reports each branch otherwise). A Map,
 * not an object literal: a field is named by the sender, and `constructor` or `__proto__` must
 * not find Object.prototype's members here.
 */
const UNION_REASONS = new Map([
  ['user_id', `must be a string of 1-${MAX_USER_ID_LENGTH} printable characters or a non-negative integer`],
  ['timestamp', 'must be an ISO-8601 string or epoch milliseconds'],
  ['client_ip', 'must be an IPv4 or IPv6 address'],
])

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
  /** property keys whose values are counted (COUNTED_PROPERTIES) */
  countedProperties?: readonly string[]
}

export interface Validated {
  events: CountedEvent[]
  errors: FieldError[]
  /**
   * Server events only, when any of them carries `client_ip` and `user_agent`: each event's
   * (by index), undefined for one without
   */
  senders?: (Sender | undefined)[]
}

function schemaErrors(
  value: unknown,
  index: number,
  checker: Checker,
  source: ValidateOptions['source'],
): FieldError[] {
  const byField = new Map<string, string>()
  for (const e of checker.Errors(value)) {
    let field = e.instancePath.replace(/^\//, '').replaceAll('/', '.')
    let reason = e.message
    if (e.keyword === 'additionalProperties' || e.keyword === 'boolean') {
      // reported again on the offending property itself ('boolean' keyword)
      if (e.keyword === 'additionalProperties') continue
      reason = 'is not a known field'
    }
    const union = field.includes('.') ? undefined : UNION_REASONS.get(field)
    if (union) reason = union
    else if (field.startsWith('properties.') && !RESERVED_PROPERTIES.has(field.slice('properties.'.length))) {
      reason = `must be a string of at most ${MAX_PROPERTY_LENGTH} characters, a number, a boolean or null`
    }
    if (e.keyword === 'pattern') reason = 'must not contain control characters'
    if (source === 'browser' && (SERVER_ONLY_FIELDS as readonly string[]).includes(field))
      reason = "is for server events (POST /analytics/events): a beacon's address and User-Agent are its request's own"
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
  if (!fastAccept(value)) {
    const checker = options.source === 'server' ? checkServer : check
    if (!checker.Check(value))
      errors.push(...schemaErrors(value, index, checker, options.source).filter((e) => e.field !== 'event_type'))
    // The schema counts a string's length in code points; a user id is held to isUserId's rule
    // (in UTF-16 units), the one reads, JWTs and the fast path use, so every id counted can be
    // looked up.
    else if (typeof raw.user_id === 'string' && !isUserId(raw.user_id))
      errors.push({ index, field: 'user_id', reason: `must be ${USER_ID_RULE}` })
  }

  // the browser's address and User-Agent come together: one alone names no visitor
  if (options.source === 'server' && (raw.client_ip === undefined) !== (raw.user_agent === undefined)) {
    const [missing, given] = raw.client_ip === undefined ? ['client_ip', 'user_agent'] : ['user_agent', 'client_ip']
    if (!errors.some((e) => e.index === index && e.field === missing))
      errors.push({ index, field: missing, reason: `is required with ${given}: send both, or neither` })
  }

  let at = options.now
  // Beacons count at receive time: a browser's clock is not trusted.
  if (options.source === 'server' && raw.timestamp !== undefined && errors.length === before) {
    const ts = parseTimestamp(raw.timestamp as string | number, options.now)
    if (ts.reason) errors.push({ index, field: 'timestamp', reason: ts.reason })
    else at = ts.at!
  }
  if (errors.length > before) return undefined

  const props = raw.properties as Record<string, unknown> | undefined
  const event: CountedEvent = { type: canonicalType(type as CountedEvent['type']), at }
  if (raw.user_id !== undefined) event.userId = String(raw.user_id)
  if (!props) return event
  if (props.feature_name) event.feature = scrubEmails(props.feature_name as string)
  if (type === 'page_view') {
    if (props.path) event.path = normalizePath(props.path as string, options.keepQueryParams)
    if (typeof props.referrer === 'string') {
      event.referrer = props.referrer
      const utm: NonNullable<CountedEvent['utm']> = {}
      let any = false
      for (const key of UTM_KEYS) {
        const value = dimensionValue(props[key])
        if (value === undefined) continue
        utm[UTM_NAMES[key]] = value
        any = true
      }
      if (any) event.utm = utm
    }
    if (options.source === 'server' && typeof props.hostname === 'string')
      event.hostname = hostname(props.hostname) ?? INVALID
  }
  const counted = options.countedProperties
  if (counted && counted.length > 0) {
    const found: string[] = []
    for (const key of counted) {
      // own keys only: COUNTED_PROPERTIES=constructor must not count Object's constructor
      const value = dimensionValue(Object.hasOwn(props, key) ? props[key] : undefined)
      if (value !== undefined) found.push(key, value)
    }
    if (found.length > 0) event.props = found
  }
  // the other scalars are kept in the event log only, bounded as dimension values are
  let logged: string[] | undefined
  for (const key of Object.keys(props)) {
    if (RESERVED_PROPERTIES.has(key) || counted?.includes(key)) continue
    if (!isPrintable(key, MAX_LOG_PROPERTY_KEY_LENGTH)) continue
    const value = dimensionValue(props[key])
    if (value === undefined) continue
    logged ??= []
    logged.push(key, value)
    if (logged.length >= 2 * MAX_LOG_PROPERTIES) break
  }
  if (logged) event.logProps = logged
  return event
}

/** Properties an event log row keeps besides the counted ones, at most. */
export const MAX_LOG_PROPERTIES = 20
/** A property key longer than this, or with a control character, is not kept in the log. */
export const MAX_LOG_PROPERTY_KEY_LENGTH = 64

const UTM_NAMES = { utm_source: 'source', utm_medium: 'medium', utm_campaign: 'campaign' } as const

/**
 * Properties with a meaning and a schema of their own: counted already, or read to find visits.
 * The others are scalars, counted only when COUNTED_PROPERTIES lists them (which these may not be).
 */
export const RESERVED_PROPERTIES: ReadonlySet<string> = new Set(Object.keys(PropertiesSchema.properties))

/**
 * A scalar property as a dimension value: as text, without control characters, e-mail addresses
 * as `:x`, trimmed and bounded (MAX_DIMENSION_VALUE_LENGTH characters, MAX_VALUE_BYTES bytes);
 * undefined for null, an absent key, or nothing left.
 */
function dimensionValue(raw: unknown): string | undefined {
  if (raw === undefined || raw === null) return undefined
  const text = String(raw).replace(CONTROL_CHARACTERS, '').trim()
  return text === '' ? undefined : bounded(scrubEmails(text), MAX_DIMENSION_VALUE_LENGTH)
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
  let senders: (Sender | undefined)[] | undefined
  for (let i = 0; i < list.length; i++) {
    const event = validateOne(list[i], i, options, errors)
    if (!event) continue
    events.push(event)
    const raw = list[i] as { client_ip?: string; user_agent?: string }
    if (options.source === 'server' && raw.client_ip !== undefined) {
      senders ??= Array.from({ length: list.length }, () => undefined)
      senders[i] = { ip: raw.client_ip, userAgent: raw.user_agent! }
    }
  }
  if (errors.length > 0) return { events: [], errors }
  return senders ? { events, errors, senders } : { events, errors }
}
