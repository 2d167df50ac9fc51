/**
 * Filters the server refuses: a read answered 422 naming `filters` drops the filters shown, as
 * an address's bad values are dropped, with a sentence that names them and gives the server's
 * reason. Only a refusal of the filters shown counts: a read of filters no longer shown, or a
 * suggestion's under other filters, drops nothing.
 *
 * @example
 * const unwatch = watchFilterRefusals(api, () => view, (next, problem) => show(next, problem))
 */
import type { Api } from './api.ts'
import { type Filter, filterLabel, filtersParam } from './filters.ts'
import type { View } from './view.ts'

/** What the notice says of filters the server refused: which, and the server's reason. */
export const refusedFilters = (filters: Filter[], reason: string): string =>
  `The server could not use the filters (${filters.map(filterLabel).join('; ')}): ${reason.replace(/\.$/, '')}. They were dropped: showing all traffic.`

/**
 * Calls `onRefused` with the view without its filters, and what to say, when a read of the
 * filters of `shown()` is answered 422 for them. `shown()` must give the new view as soon as
 * `onRefused` returns: the other reads of the same filters, refused too, then drop nothing more.
 * Returns an unwatch.
 */
export function watchFilterRefusals(
  api: Pick<Api, 'watch'>,
  shown: () => View,
  onRefused: (view: View, problem: string) => void,
): () => void {
  return api.watch(({ url, error }) => {
    if (error?.status !== 422 || error.parameter !== 'filters') return
    const { filters, ...rest } = shown()
    const param = filtersParam(filters)
    // the read's query (its URL is relative to the page)
    const asked = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '').get('filters')
    if (param === undefined || asked !== param) return
    onRefused(rest, refusedFilters(filters!, error.reason))
  })
}
