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
export const isBrowserType = (v: unknown): v is EventType => typeof v === 'string' && browser.has(v)

/** An event after validation: what the counters need, nothing else. */
export interface CountedEvent {
  type: EventType
  /** epoch ms of the UTC bucket it counts in */
  at: number
  userId?: string
  feature?: string
  /** normalized page path (page_view only) */
  path?: string
}
