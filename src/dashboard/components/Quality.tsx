/**
 * What the visits were worth over the period: bounce rate, visit duration and views per visit,
 * each with its change from the previous period (and, comparing, that period's figure), under the
 * filters on, in the zone of the numbers. One stats read of a quality metric a period answers for
 * all three (its `quality`: the figures of the same visits); each element carries `data-quality`
 * and `data-value` (the figure the API answered, `null` for a period without visits). They are
 * not put on the chart: a figure is not a count.
 */
import { apiUrl, type StatsAnswer } from '../api.ts'
import type { Range } from '../period.ts'
import { formatQuality, QUALITY, type QualityMetric, qualityChange, qualityQuery } from '../quality.ts'
import { type Read, useFirstReadsIn, useReads } from '../reads.ts'
import { ChangeChip } from './ChangeChip.tsx'
import { Failure } from './Failure.tsx'

export interface QualityProps {
  range: Range
  previous: Range
  tz: string
  /** the `filters` parameter of every read (undefined: none) */
  filters?: string
  compare: boolean
  round: number
}

const figureOf = (r: Read<StatsAnswer> | undefined, id: QualityMetric) =>
  r?.state === 'ok' ? (r.data.quality?.[id] ?? null) : undefined

export function Quality({ range, previous, tz, filters, compare, round }: QualityProps) {
  // the first figure's read: its answer carries the other two
  const first = useFirstReadsIn()
  const urls = [range, previous].map((r) =>
    first ? apiUrl('analytics/stats', { ...qualityQuery(QUALITY[0]!.id, r, tz), filters }) : null,
  )
  const [current = { state: 'loading' }, earlier] = useReads<StatsAnswer>(urls, round)
  return (
    <section class="quality-numbers" aria-label="What the visits were worth">
      {QUALITY.map((q) => {
        if (current.state === 'error') return <Failure key={q.id} class="metric" what={q.label} read={current} />
        const value = figureOf(current, q.id)
        const before = figureOf(earlier, q.id)
        const delta = value !== undefined && before !== undefined ? qualityChange(q.id, value, before) : undefined
        return (
          <div
            key={q.id}
            class="metric"
            data-quality={q.id}
            data-value={value === undefined ? undefined : String(value)}
            data-before={before === undefined ? undefined : String(before)}
            aria-busy={value === undefined}
          >
            <span class="label">{q.label}</span>
            <span class="value">{value === undefined ? '…' : formatQuality(q.id, value)}</span>
            <span class="foot">
              {delta && <ChangeChip delta={delta} lowerIsBetter={q.lowerIsBetter} />}
              {compare && before !== undefined && <span class="before">vs {formatQuality(q.id, before)}</span>}
            </span>
          </div>
        )
      })}
    </section>
  )
}
