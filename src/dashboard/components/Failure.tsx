/**
 * A read that failed, in place of what it would have shown: what failed, why, and a retry. A read
 * refused because a service is down only says it waits: the outage notice says why, and the page
 * tries again by itself (outage.ts).
 */
import { serviceName } from '../format.ts'
import type { Read } from '../reads.ts'

export function Failure<T>({ what, read, class: cls }: { what: string; read: Read<T>; class?: string }) {
  if (read.state !== 'error') return null
  const { status, reason, unavailable } = read.error
  if (unavailable)
    return (
      <div class={`failure waiting ${cls ?? ''}`} data-waiting={unavailable.service}>
        <p>
          <strong>{what}</strong>: waiting for {serviceName(unavailable.service)}…
        </p>
      </div>
    )
  return (
    <div class={`failure ${cls ?? ''}`} role="alert" data-failed={what}>
      <p>
        <strong>{what}</strong> could not be read: {reason}
        {status > 0 && !reason.startsWith('HTTP') ? ` (HTTP ${status})` : ''}.
      </p>
      <button type="button" onClick={read.retry}>
        Retry
      </button>
    </div>
  )
}
