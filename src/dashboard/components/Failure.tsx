/**
 * A read that failed, in place of what it would have shown: what failed, why, and a retry.
 */
import type { Read } from '../reads.ts'

export function Failure<T>({ what, read, class: cls }: { what: string; read: Read<T>; class?: string }) {
  if (read.state !== 'error') return null
  const { status, reason } = read.error
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
