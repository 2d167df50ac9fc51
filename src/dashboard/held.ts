/**
 * How many flush batches are held (set aside because Postgres refused their data), from the
 * public `GET /readyz`: a viewer token cannot read the admin route that lists them, and every
 * reader of the dashboard should know that some counts are not in Postgres yet.
 *
 * @example
 * await heldBatches() // 0, or the number /readyz names in `held_batches`
 */

/** 0 when the answer does not say (Redis unreachable, an older server, no answer at all). */
export async function heldBatches(): Promise<number> {
  try {
    const res = await fetch('readyz', { cache: 'no-store', headers: { accept: 'application/json' } })
    const body = (await res.json()) as { held_batches?: unknown }
    const held = body.held_batches
    return typeof held === 'number' && Number.isInteger(held) && held > 0 ? held : 0
  } catch {
    return 0
  }
}
