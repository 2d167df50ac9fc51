/**
 * Waiting on a condition instead of on time: polls `check` until it holds, and fails with a
 * message naming what it waited for once `timeoutMs` has passed.
 *
 * @example
 * await waitFor(() => socket.closed(), { what: 'the socket to close', timeoutMs: 5000 })
 */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  { what, timeoutMs = 10_000, everyMs = 10 }: { what: string; timeoutMs?: number; everyMs?: number },
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await Bun.sleep(everyMs)
  }
}
