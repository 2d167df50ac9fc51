/**
 * Reads as component state. Every component asks for what it shows; since effects of one render
 * run together, every read of a view goes out at once, and identical ones share a request (api.ts).
 *
 * @example
 * const [visits, previous] = useReads<StatsAnswer>(api, [urlNow, urlBefore])
 * if (visits.state === 'error') return <Failure what="Visits" read={visits} />
 */
import { createContext } from 'preact'
import { useContext, useLayoutEffect, useState } from 'preact/hooks'
import type { Api, ApiError } from './api.ts'

export type Read<T> =
  | { state: 'loading' }
  | { state: 'ok'; data: T }
  | { state: 'error'; error: ApiError; retry: () => void }

export const ApiContext = createContext<Api | null>(null)

/**
 * Whether the view's first reads, its numbers and chart, are in. A breakdown's read of the event
 * log (visit quality, conversions, a funnel, any filtered top) waits for them: the server has two
 * cores here, and those heavier reads sent at the same time slowed the numbers a person looks at
 * first. True where nothing holds reads back.
 */
export const FirstReadsIn = createContext(true)

export const useFirstReadsIn = (): boolean => useContext(FirstReadsIn)

/** `url` once the view's first reads are in (FirstReadsIn), null (not read yet) before. */
export const useAfterFirstReads = (url: string | null): string | null => (useFirstReadsIn() ? url : null)

export function useApi(): Api {
  const api = useContext(ApiContext)
  if (!api) throw new Error('no Api above this component')
  return api
}

/** Answers that arrive within this long of each other are shown in one render. */
const COALESCE_MS = 40

/**
 * The answers of `urls`, in order; a null url is not read (it stays loading). A new `round` reads
 * them again (after `api.forget`, from the server), and the answers of the last round stay shown
 * until the new ones are in, so a view kept current by the live feed never blinks; a read of the
 * round answered 503 for a service that is down keeps the last round's answer too (outage.ts). Answers
 * arriving together are shown together: a page of numbers re-laid out once, not once per answer.
 */
export function useReads<T>(urls: (string | null)[], round = 0): Read<T>[] {
  const api = useApi()
  const asked = urls.join('\n')
  const key = `${round}\n${asked}`
  const [retries, setRetries] = useState(0)
  const [answers, setAnswers] = useState<{ key: string; asked: string; reads: Read<T>[] }>({
    key: '',
    asked: '',
    reads: [],
  })

  // a layout effect: the reads go out as soon as the view is rendered, not after the next frame
  useLayoutEffect(() => {
    let current = true
    let timer: ReturnType<typeof setTimeout> | undefined
    // a new round of the same reads starts from the last round's answers, a retry from nothing
    const again = answers.key !== key && answers.asked === asked
    const reads: Read<T>[] = again ? answers.reads.slice() : urls.map(() => ({ state: 'loading' }))
    let waiting = urls.filter((url) => url !== null).length
    const show = () => {
      clearTimeout(timer)
      timer = undefined
      if (current) setAnswers({ key, asked, reads: reads.slice() })
    }
    const settle = (i: number, read: Read<T>) => {
      if (!current) return
      reads[i] = read
      waiting--
      if (waiting === 0) show()
      else timer ??= setTimeout(show, COALESCE_MS)
    }
    // a retry shows its reads loading again; a new key already does
    if (answers.key === key) show()
    urls.forEach((url, i) => {
      if (url === null) return
      api.get<T>(url).then(
        (data) => settle(i, { state: 'ok', data }),
        (error: ApiError) => {
          // a service down keeps what was shown: the outage notice says why it is not current
          const shown = reads[i]
          if (error.unavailable && shown?.state === 'ok') return settle(i, shown)
          const retry = () => {
            api.forget(url)
            setRetries((r) => r + 1)
          }
          settle(i, { state: 'error', error, retry })
        },
      )
    })
    return () => {
      current = false
      clearTimeout(timer)
    }
    // urls are compared by their joined key
  }, [key, retries, api])

  if (answers.key === key || (answers.asked === asked && answers.reads.length > 0)) return answers.reads
  return urls.map(() => ({ state: 'loading' }))
}

export function useRead<T>(url: string | null, round = 0): Read<T> {
  return useReads<T>([url], round)[0] ?? { state: 'loading' }
}
