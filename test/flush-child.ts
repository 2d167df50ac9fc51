/**
 * A flusher in a process of its own (test/fixtures/flush-child.ts), for tests that kill one
 * mid-flush or race two, and the reading of what it prints.
 *
 * @example
 * const proc = flushChild({ MODE: 'crash', CRASH_AT: 'moved', REDIS_URL, DATABASE_URL, REDIS_PREFIX })
 * await readLine(proc.stdout, /AT [a-z-]+/) // 'AT moved'
 */
import { join } from 'node:path'

export function flushChild(env: Record<string, string>) {
  return Bun.spawn(['bun', join(import.meta.dir, 'fixtures/flush-child.ts')], {
    env: { ...process.env, ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
}

/** The first match of `pattern` in what `stream` prints, within `timeoutMs`. */
export async function readLine(
  stream: ReadableStream<Uint8Array>,
  pattern: RegExp,
  timeoutMs = 15_000,
): Promise<string> {
  const reader = stream.getReader()
  const decoder = new TextDecoder()
  let text = ''
  const deadline = Date.now() + timeoutMs
  try {
    while (Date.now() < deadline) {
      const { done, value } = await reader.read()
      if (done) break
      text += decoder.decode(value)
      const m = pattern.exec(text)
      if (m) return m[0]
    }
  } finally {
    reader.releaseLock()
  }
  throw new Error(`child never printed ${pattern}: ${text}`)
}
