/**
 * The app of `testApp()` run in a worker thread, with a deadline on every request. A handler that
 * never yields (a loop that does not end) blocks its whole thread, timers included, so a deadline
 * kept on the thread that runs the app could never fire. Kept here, it ends the worker and fails
 * the request instead of hanging the run.
 *
 * @example
 * const app = await guardedApp((await testContext()).config, 1000)
 * const { status, body, ms } = await app.get('/analytics/stats', { authorization: 'Bearer …' })
 * await app.close()
 */
import type { Message, Reply } from './guarded-app-worker.ts'
import type { TestContext } from './services.ts'

export interface Answer {
  status: number
  body: string
  /** time the worker took from handing the request to the app to reading the whole body */
  ms: number
}

const START_DEADLINE_MS = 20_000

export async function guardedApp(config: TestContext['config'], deadlineMs: number) {
  const worker = new Worker(new URL('./guarded-app-worker.ts', import.meta.url).href)
  let settle: ((reply: Reply) => void) | undefined
  let fail: ((error: Error) => void) | undefined
  let ended = false
  worker.onmessage = (e: MessageEvent<Reply>) => settle?.(e.data)
  worker.onerror = (e) => fail?.(new Error(`the app's worker failed: ${e.message}`))

  const ask = (message: Message, label: string, ms: number): Promise<Reply> =>
    new Promise((resolve, reject) => {
      if (ended) return reject(new Error(`${label}: the app's worker was ended by an earlier deadline`))
      const timer = setTimeout(() => {
        ended = true
        worker.terminate()
        reject(new Error(`no answer within ${ms} ms: ${label}`))
      }, ms)
      settle = (reply) => {
        clearTimeout(timer)
        if ('error' in reply) reject(new Error(`${label}: ${reply.error}`))
        else resolve(reply)
      }
      fail = (error) => {
        clearTimeout(timer)
        reject(error)
      }
      worker.postMessage(message)
    })

  await ask({ config }, 'start', START_DEADLINE_MS)
  return {
    /** GET `path`; rejects when no answer comes within the deadline (the worker is then ended). */
    async get(path: string, headers: Record<string, string> = {}): Promise<Answer> {
      return (await ask({ path, headers }, `GET ${path}`, deadlineMs)) as Answer
    },
    /** Closes the worker's clients and ends it. */
    async close(): Promise<void> {
      if (!ended) await ask({ close: true }, 'close', START_DEADLINE_MS).catch(() => {})
      ended = true
      worker.terminate()
    },
  }
}
