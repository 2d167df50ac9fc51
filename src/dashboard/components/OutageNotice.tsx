/**
 * A notice while a service behind the reads is down (a 503 naming it): which one, what that
 * means for the numbers, and that the page tries again by itself (outage.ts). It goes once a read
 * is answered again, and the view is read afresh.
 */
import { serviceName } from '../format.ts'
import type { Outage } from '../outage.ts'

/** True whether the page had numbers or not: a page opened during the outage has none to keep. */
const SHOWN = 'Numbers already on the page are kept; what needs it waits.'

export function OutageNotice({ outage }: { outage: Outage | undefined }) {
  if (!outage) return null
  const name = serviceName(outage.service)
  return (
    <div class="notice outage" role="status" data-notice="outage" data-service={outage.service}>
      {outage.service === 'postgres' ? (
        <p>
          <strong>History is unavailable: Postgres does not answer.</strong> {SHOWN} Events are still counted (in Redis)
          and appear once it is back. Retrying…
        </p>
      ) : (
        <p>
          <strong>Live counts are unavailable: Redis does not answer.</strong> {SHOWN} The counts not yet flushed to
          Postgres cannot be read, and events sent now are refused (503) until {name} is back. Retrying…
        </p>
      )}
    </div>
  )
}
