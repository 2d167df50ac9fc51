/**
 * What every event type is called on a screen: the one list the dashboard (its numbers, chart and
 * live strip) and the live screen both show, in the order they show them (what a product team
 * reads first leads). The dashboard's script and the live screen's both bundle it.
 *
 * @example
 * EVENT_LABELS.page_view // { plural: 'Page views', one: 'page view' }
 * countLabel('user_signup', 1) // 'sign-up'
 */
import type { EventType } from './types.ts'

export interface EventLabel {
  /** a heading, capitalised: 'Page views' */
  plural: string
  /** after a count of one, in lower case: '1 page view' */
  one: string
}

export const EVENT_LABELS: Readonly<Record<EventType, EventLabel>> = {
  page_view: { plural: 'Page views', one: 'page view' },
  feature_used: { plural: 'Feature events', one: 'feature event' },
  user_signup: { plural: 'Sign-ups', one: 'sign-up' },
  user_login: { plural: 'Logins', one: 'login' },
  generation_started: { plural: 'Generations started', one: 'generation started' },
  generation_completed: { plural: 'Generations completed', one: 'generation completed' },
  generation_failed: { plural: 'Generations failed', one: 'generation failed' },
  subscription_started: { plural: 'Subscriptions started', one: 'subscription started' },
  subscription_canceled: { plural: 'Subscriptions canceled', one: 'subscription canceled' },
  asset_downloaded: { plural: 'Downloads', one: 'download' },
  asset_shared: { plural: 'Shares', one: 'share' },
}

/** Every event type in the order screens show them. */
export const LABELLED_TYPES = Object.keys(EVENT_LABELS) as EventType[]

/** The words after a count, in lower case: of 1 page view, of 0 or 2 page views. */
export const countLabel = (type: EventType, count: number): string =>
  count === 1 ? EVENT_LABELS[type].one : EVENT_LABELS[type].plural.toLowerCase()
