/**
 * The top-line numbers. Each is a button that puts its metric on the chart; its element carries
 * `data-metric` and `data-value`, the exact integer the API answered, for whoever checks it.
 */
import { change, formatCount, formatExact, formatShare } from '../format.ts'
import { type Metric, type MetricId, successRate } from '../metrics.ts'
import type { Read } from '../reads.ts'
import type { Part } from '../series.ts'
import { ChangeChip } from './ChangeChip.tsx'
import { Failure } from './Failure.tsx'

export interface MetricReads {
  metric: Metric
  /** whose days the number counts, when not those of the zone picked */
  note?: string
  current: Read<Part>
  previous: Read<Part>
}

const totalOf = (r: Read<Part> | undefined) => (r?.state === 'ok' ? r.data.total : undefined)

/** A server without the union of visitors answers its metric with 422: the number is left out. */
export const unanswered = (r: Read<unknown>) => r.state === 'error' && r.error.status === 422

const waiting = (r: Read<unknown>) => r.state === 'error' && r.error.unavailable !== undefined

/** Which numbers to show: the usual three, any event type with data, and the one on the chart. */
export function shownMetrics(reads: MetricReads[], selected: MetricId | undefined): MetricReads[] {
  const has = (id: MetricId) => {
    const r = reads.find((m) => m.metric.id === id)
    // a read waiting for a service says nothing of whether the metric has data
    return Boolean(totalOf(r?.current) || totalOf(r?.previous) || (r?.current.state === 'error' && !waiting(r.current)))
  }
  return reads.filter(({ metric, current }) => {
    if (metric.id === 'visitors' && unanswered(current)) return false
    if (metric.always || metric.id === selected) return true
    // completed and failed generations go together, for the success rate
    if (metric.id === 'generation_completed') return has('generation_completed') || has('generation_failed')
    if (metric.id === 'generation_failed') return has('generation_completed') || has('generation_failed')
    return has(metric.id)
  })
}

export interface NumbersProps {
  reads: MetricReads[]
  selected: MetricId | undefined
  compare: boolean
  /** why a number cannot be drawn by the chart (it is shown, and cannot be put on the chart) */
  undrawable: (id: MetricId) => string | undefined
  onSelect: (id: MetricId) => void
}

export function Numbers({ reads, selected, compare, undrawable, onSelect }: NumbersProps) {
  const failed = reads.find((m) => m.metric.id === 'generation_failed')
  return (
    <section class="numbers" aria-label="Totals for the period">
      {shownMetrics(reads, selected).map(({ metric, note, current, previous }) => {
        if (current.state === 'error')
          return <Failure key={metric.id} class="metric" what={metric.label} read={current} />
        const value = totalOf(current)
        const before = totalOf(previous)
        const delta = value !== undefined && before !== undefined ? change(value, before) : undefined
        // 'new' (nothing before) is a rise too
        const rate =
          metric.id === 'generation_completed' && value !== undefined
            ? successRate(value, totalOf(failed?.current) ?? 0)
            : undefined
        const why = undrawable(metric.id)
        return (
          <button
            key={metric.id}
            type="button"
            class="metric"
            data-metric={metric.id}
            data-value={value}
            aria-pressed={metric.id === selected}
            aria-busy={value === undefined}
            disabled={why !== undefined}
            title={why}
            onClick={() => onSelect(metric.id)}
          >
            <span class="label">{metric.label}</span>
            <span class="value" title={value !== undefined ? formatExact(value) : undefined}>
              {value === undefined ? '…' : formatCount(value)}
            </span>
            <span class="foot">
              {delta && <ChangeChip delta={delta} lowerIsBetter={metric.lowerIsBetter} />}
              {compare && before !== undefined && <span class="before">vs {formatCount(before)}</span>}
              {note && <span class="note">{note}</span>}
              {rate !== undefined && (
                <span class="rate" data-rate={rate.toFixed(4)}>
                  {formatShare(rate)} succeeded
                </span>
              )}
            </span>
          </button>
        )
      })}
    </section>
  )
}
