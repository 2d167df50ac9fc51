import { describe, expect, test } from 'bun:test'
import { waitFor } from './wait.ts'

describe('waitFor', () => {
  test('resolves with the first truthy value of the condition', async () => {
    let checks = 0
    const value = await waitFor(async () => ++checks >= 3 && `after ${checks} checks`, { what: 'three checks' })
    expect(value).toBe('after 3 checks')
  })

  test('fails at the deadline naming what it waited for, as it stands then', async () => {
    let checks = 0
    const error = await waitFor(() => ++checks < 0, {
      what: () => `a negative count (${checks} checks)`,
      timeoutMs: 50,
    }).catch((err: Error) => err)
    // polled until the deadline, and the message tells the state then, not at the start
    expect(checks).toBeGreaterThan(1)
    expect((error as Error).message).toBe(`timed out after 50 ms waiting for a negative count (${checks} checks)`)
  })

  test('an error in the condition ends the wait at once', async () => {
    const started = Date.now()
    const failing = waitFor(
      () => {
        throw new Error('the server exited')
      },
      { what: 'a server', timeoutMs: 5000 },
    )
    await expect(failing).rejects.toThrow('the server exited')
    expect(Date.now() - started).toBeLessThan(1000)
  })
})
