/**
 * A notice while flush batches are held: how many, that their counts are kept and shown, and
 * where an admin looks (README, "Held flush batches"); `held` comes from `/readyz` (readiness.ts).
 */
export function Held({ held }: { held: number }) {
  if (held === 0) return null
  const one = held === 1
  const [it, its] = one ? ['it', 'its'] : ['them', 'their']
  return (
    <div class="notice" role="status" data-notice="held" data-held={held}>
      <p>
        <strong>{one ? '1 flush batch is held' : `${held} flush batches are held`}:</strong> Postgres refused {its}{' '}
        data, so {one ? 'it was' : 'they were'} set aside and later batches were written past {it}. Nothing is lost:{' '}
        {its} counts are kept in Redis and are in every number on this page. An admin can list {it} at{' '}
        <code>GET /analytics/flush/held</code>, then retry or export {it}: see “Held flush batches” in the README.
      </p>
    </div>
  )
}

/**
 * A notice while the event log misses rows: past EVENTS_PENDING_MAX rows waiting for Postgres,
 * new rows were kept out of the log (the counters counted them). `dropped` comes from `/readyz`.
 */
export function LogDropped({ dropped }: { dropped: number }) {
  if (dropped === 0) return null
  return (
    <div class="notice" role="status" data-notice="log-dropped" data-dropped={dropped}>
      <p>
        <strong>The event log is missing {dropped.toLocaleString('en')} events:</strong> while Postgres could not take
        them, Redis held as many log rows as <code>EVENTS_PENDING_MAX</code> allows and kept the rest out of the log.
        Numbers without filters count them all; filtered numbers miss them. <code>GET /analytics/log/check</code> names
        the days.
      </p>
    </div>
  )
}
