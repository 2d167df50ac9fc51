/**
 * Waiting on a condition instead of a time: a test that sleeps "long enough" fails on a slow
 * machine and wastes time on a fast one. `waitFor` polls until the condition holds and fails
 * with a message naming what it waited for.
 *
 * @example
 * proxy.close()
 * await waitFor(() => !redis.isReady, { what: 'the client to see Redis gone' })
 */

export interface WaitOptions {
  /** what the test waits for, for the failure message; a function is asked at the deadline */
  what: string | (() => string)
  /** give up after this long; below the test's own timeout, so the message is seen (5 s) */
  timeoutMs?: number
  /** pause between checks (10 ms) */
  intervalMs?: number
}

type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>

/**
 * Resolves with the condition's first truthy value. An error thrown by the condition ends the
 * wait at once: a condition that can fail while waiting (a server not up yet) catches it.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  { what, timeoutMs = 5000, intervalMs = 10 }: WaitOptions,
): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await condition()
    if (value) return value as Truthy<T>
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`)
    }
    await Bun.sleep(intervalMs)
  }
}
