/**
 * Filters over the event log: the one definition of what a filter means, executed as SQL over
 * `analytics_events` and as JavaScript over the rows not yet flushed, which agree on every row.
 *
 * @example
 * const filters = parseFilters(query.filters)        // 422 FilterError on bad input
 * const fold = await probeCaseFold(pool)              // once per pool
 * const { bounds, labels } = bucketsOf('day', from, to, tz)
 * const counts = await readLog(pool, visits, { filters, bounds, fold }, pendingRows)
 */
export { type Buckets, bucketOf, bucketsOf } from './buckets.ts'
export { type EventsQuery, events, eventTypes, type TypeCounts } from './events.ts'
export {
  type Dimension,
  EVENT_DIMENSIONS,
  type Filter,
  isVisitFilter,
  OPERATORS,
  type Operator,
  splitFilters,
} from './filter.ts'
export { type CaseFold, caseFold, ICU_FOLD, probeCaseFold } from './fold.ts'
export { matches, type RowTest } from './match.ts'
export {
  FILTER_DIMENSIONS,
  FilterError,
  MAX_FILTER_VALUE_BYTES,
  MAX_FILTER_VALUES,
  MAX_FILTERS,
  MAX_PROP_KEY_LENGTH,
  parseFilters,
} from './parse.ts'
export { type Quality, visitQuality, visitQualityBy } from './quality.ts'
export { type LogMetric, type LogQuery, visitorKey } from './query.ts'
export { readLog } from './read.ts'
export {
  codePointOrder,
  type EventTopsStored,
  eventTopDimensions,
  eventTops,
  type TopQuery,
  type TopResult,
  top,
  topOfEventTops,
} from './top.ts'
export { type VisitorCounts, visitors } from './visitors.ts'
export { visits } from './visits.ts'
export { filterSql, whereSql } from './where.ts'
