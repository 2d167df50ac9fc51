/**
 * Today's counts (the day of TIME_ZONE) from the live feed (`GET /analytics/live`), kept current
 * without polling, for the dashboard's strip; feed.ts holds the connection.
 *
 * @example
 * const stop = openLive({ token: readToken, onToday: render, onStatus: show, onRefused: signOut })
 */

import type { EventType } from '../events/types.ts'
import { pageSite } from './api.ts'
import { type FeedStatus, openFeed } from './feed.ts'

export type LiveStatus = FeedStatus

export interface LiveToday {
  /** the day of TIME_ZONE (of UTC from a server that does not send it) */
  day: string
  visitors: number
  visitorsNow?: number
  totals: Partial<Record<EventType, number>>
}

export interface LiveOptions {
  token: () => string | undefined
  onToday: (today: LiveToday) => void
  /** `reason` says why the feed stopped for good (a refusal no retry changes) */
  onStatus: (status: LiveStatus, reason?: string) => void
  onRefused: () => void
}

export function openLive(options: LiveOptions): () => void {
  let today: LiveToday | undefined
  /** whether the server sends `today` (the day of TIME_ZONE); older servers only send UTC hours */
  let zoned = false
  return openFeed({
    token: options.token,
    site: pageSite(),
    onStatus: options.onStatus,
    onRefused: options.onRefused,
    onSnapshot(s) {
      zoned = s.today !== undefined
      const totals: LiveToday['totals'] = {}
      if (s.today) Object.assign(totals, s.today.totals)
      else for (const [type, t] of Object.entries(s.types)) totals[type as EventType] = t.total
      today = { day: s.today?.day ?? s.day, visitors: s.visitors, visitorsNow: s.visitors_now, totals }
      options.onToday(today)
    },
    onCounts(c) {
      if (!today) return
      let totals = today.totals
      let day = today.day
      if (zoned) {
        // a new day of TIME_ZONE comes whole; otherwise only the changed types come
        if (c.today) {
          totals = c.today.day === day ? { ...totals, ...c.today.totals } : { ...c.today.totals }
          day = c.today.day
        }
      } else {
        totals = { ...totals }
        for (const [type, t] of Object.entries(c.types)) totals[type as EventType] = t.total
        day = c.day
      }
      today = {
        day,
        visitors: c.visitors ?? today.visitors,
        visitorsNow: c.visitors_now ?? today.visitorsNow,
        totals,
      }
      options.onToday(today)
    },
  })
}
