/**
 * The event types of the original pattern, and which of them a browser may send.
 */
import { BROWSER_TYPES } from './browser-types.ts'

export const EVENT_TYPES = [
  'generation_started',
  'generation_completed',
  'generation_failed',
  'user_signup',
  'user_login',
  'feature_used',
  'asset_downloaded',
  'asset_shared',
  'page_view',
  'subscription_started',
  'subscription_canceled',
] as const

export type EventType = (typeof EVENT_TYPES)[number]

export { BROWSER_TYPES }

const all = new Set<string>(EVENT_TYPES)
const browser = new Set<string>(BROWSER_TYPES)

export const isEventType = (v: unknown): v is EventType => typeof v === 'string' && all.has(v)

const canonical = new Map<string, EventType>(EVENT_TYPES.map((t) => [t, t]))
/**
 * The one string object of an event type (a name parsed from JSON is a new one each time): the
 * group commit's maps look it up once per event, and a string seen before hashes for free.
 */
export const canonicalType = (name: EventType): EventType => canonical.get(name) ?? name
export const isBrowserType = (v: unknown): v is EventType => typeof v === 'string' && browser.has(v)

/**
 * The daily and hourly counters of visits sit beside those of the event types, under this name,
 * which no event can have. Every read of "all event types" leaves it out.
 */
export const VISIT = 'visit'

/** The dimensions every visit is counted under, once each (the UTM ones only when it has them). */
export const VISIT_DIMENSIONS = [
  'source',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'entry_page',
  'browser',
  'os',
  'device',
  'country',
  'hostname',
] as const
export type VisitDimension = (typeof VISIT_DIMENSIONS)[number]

/**
 * The dimensions whose values come from a closed set whatever a client sends: the User-Agent's
 * families (bowser's names, else `(unknown)`) and two-letter country codes. They need no cap, and
 * counting them skips the cap's set in Redis.
 */
export const BOUNDED_DIMENSIONS: ReadonlySet<VisitDimension> = new Set(['browser', 'os', 'device', 'country'])

/** A visit's value under each dimension; absent UTM values are not counted. */
export type Visit = Record<Exclude<VisitDimension, `utm_${string}`>, string> &
  Partial<Record<Extract<VisitDimension, `utm_${string}`>, string>>

/** A counted property's dimension name: `prop:<key>`. */
export const propDimension = (key: string): string => `prop:${key}`

/**
 * Who sent a request: the client address and User-Agent a visitor is hashed from. A beacon's are
 * its request's; a server event's are the browser's, forwarded by its back end. Used for the hash,
 * then dropped: never stored, never logged.
 */
export interface Sender {
  ip: string
  userAgent: string
}

/** An event after validation: what the counters need, nothing else. */
export interface CountedEvent {
  type: EventType
  /** epoch ms of the UTC bucket it counts in */
  at: number
  userId?: string
  feature?: string
  /** normalized page path (page_view only) */
  path?: string
  /**
   * page_view only, on a page load's first view: where the load came from (the full URL as sent,
   * '' for none). Used to decide whether the view is a visit, then only its host is kept.
   */
  referrer?: string
  /** UTM values sent with it, trimmed and capped */
  utm?: { source?: string; medium?: string; campaign?: string }
  /** the page's host, as a server batch says it (beacons take it from their Origin) */
  hostname?: string
  /** counted properties (COUNTED_PROPERTIES) present on it: key, value, key, value... */
  props?: string[]
  /** its other scalar properties, kept in the event log only: key, value, key, value... */
  logProps?: string[]
}
