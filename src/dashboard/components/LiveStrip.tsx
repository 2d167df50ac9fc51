/**
 * Now: visitors of the last five minutes (from servers that count them) and today's counts, from
 * the live feed, within a second of each event and without polling. While the feed reconnects,
 * the strip says so and its numbers are dimmed; so it does while reads say Redis is down (`paused`):
 * the feed then keeps its connection and heartbeats, but its numbers stop. It counts all traffic
 * whatever the filters on (the feed has no filters), and says so while some are on.
 */

import { useEffect, useState } from 'preact/hooks'
import { countLabel, LABELLED_TYPES } from '../../events/labels.ts'
import { pageSite } from '../api.ts'
import { formatCount, formatExact } from '../format.ts'
import { type LiveStatus, type LiveToday, openLive } from '../live.ts'
import { readToken } from '../token.ts'

const STATUS: Record<LiveStatus, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  stopped: 'Live feed stopped',
}

/** Page views always; every other type once counted today, in the order of every screen. */
const OTHERS = LABELLED_TYPES.filter((t) => t !== 'page_view')

function Figure({ name, value, label }: { name: string; value: number; label: string }) {
  return (
    <span class="figure" data-live={name} data-value={value} title={formatExact(value)}>
      <strong>{formatCount(value)}</strong> {label}
    </span>
  )
}

export interface LiveStripProps {
  /** false until the page's first numbers are in: the feed holds one of the browser's six connections */
  open: boolean
  onRefused: () => void
  onToday?: (today: LiveToday) => void
  /** why the numbers stopped while the feed stays connected (Redis down), if they did */
  paused?: string
  /** filters narrow the page's other numbers: the strip says its own are of all traffic */
  filtered?: boolean
}

export function LiveStrip({ open, onRefused, onToday, paused, filtered }: LiveStripProps) {
  const [status, setStatus] = useState<{ status: LiveStatus; reason?: string }>({ status: 'connecting' })
  const [today, setToday] = useState<LiveToday>()
  useEffect(() => {
    if (!open) return
    return openLive({
      token: readToken,
      onToday: (t) => {
        setToday(t)
        onToday?.(t)
      },
      onStatus: (s, reason) => setStatus({ status: s, reason }),
      onRefused,
    })
    // the feed is opened once; the callbacks it holds only sign out or report
  }, [open])
  const state = paused && status.status === 'live' ? 'paused' : status.status
  return (
    <section class="live" data-state={state} aria-label="Now">
      <span class="status" role="status">
        <span class="dot" aria-hidden="true" />
        {state === 'paused' ? `Paused: ${paused}` : STATUS[status.status]}
        {status.reason ? `: ${status.reason}` : ''}
        {filtered && (
          <span
            class="unfiltered"
            title="The filters narrow the numbers, the chart and the breakdowns; this strip counts all traffic"
          >
            {' · all traffic'}
          </span>
        )}
      </span>
      {today && (
        <span class="figures">
          {today.visitorsNow !== undefined && (
            <Figure
              name="visitors_now"
              value={today.visitorsNow}
              label={today.visitorsNow === 1 ? 'visitor now' : 'visitors now'}
            />
          )}
          <Figure
            name="visitors"
            value={today.visitors}
            label={today.visitors === 1 ? 'visitor today' : 'visitors today'}
          />
          <Figure
            name="page_view"
            value={today.totals.page_view ?? 0}
            label={countLabel('page_view', today.totals.page_view ?? 0)}
          />
          {OTHERS.filter((t) => (today.totals[t] ?? 0) > 0).map((t) => (
            <Figure key={t} name={t} value={today.totals[t] ?? 0} label={countLabel(t, today.totals[t] ?? 0)} />
          ))}
        </span>
      )}
      {/* the site shown is the wall screen's too */}
      <a class="to-live" href={pageSite() ? `live?site=${encodeURIComponent(pageSite()!)}` : 'live'}>
        Live screen
      </a>
    </section>
  )
}
