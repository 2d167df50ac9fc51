/**
 * A funnel's figures over a range of days under filters, exactly (stored rows plus the rows not
 * yet flushed, read as every log metric is: filtered.ts). The steps' first events fall in the
 * range's days; the later ones may follow up to the window after its end.
 *
 * @example
 * const f = await funnelFigures(deps, { from, to, tz }, filters, [pricing, signup], 86_400_000)
 * f.steps[1].dropoff_rate // percent of those who saw the pricing page and did not sign up
 */
import { bucketsOf } from '../filters/buckets.ts'
import type { Filter } from '../filters/filter.ts'
import { funnel } from '../filters/funnel.ts'
import type { Goal } from '../goals/goal.ts'
import type { ReadDeps } from './exact.ts'
import { exactLogRead } from './filtered.ts'
import { rateOf } from './quality.ts'

export interface StepFigures {
  goal: Goal
  /** unique visitors who reached the step */
  visitors: number
  /** percent of the first step's visitors (null when it has none) */
  conversion_rate: number | null
  /** visitors of the step before who did not reach this one (0 for the first) */
  dropoff: number
  /** percent of the step before's visitors (null for the first, or when it has none) */
  dropoff_rate: number | null
}

export interface FunnelFigures {
  steps: StepFigures[]
  /** percent of the first step's visitors who reached the last (null when none began) */
  conversion_rate: number | null
}

export async function funnelFigures(
  deps: ReadDeps,
  range: { from: string; to: string; tz: string },
  filters: readonly Filter[],
  steps: readonly Goal[],
  windowMs: number,
): Promise<FunnelFigures> {
  const { bounds } = bucketsOf('day', range.from, range.to, range.tz)
  const { reached } = await exactLogRead(deps, funnel, {
    site: deps.keys.site,
    filters,
    bounds: [bounds[0]!, bounds.at(-1)!],
    steps,
    windowMs,
  })
  const first = reached[0] ?? 0
  return {
    steps: steps.map((goal, i) => {
      const visitors = reached[i] ?? 0
      const before = i === 0 ? null : (reached[i - 1] ?? 0)
      return {
        goal,
        visitors,
        conversion_rate: rateOf(visitors, first),
        dropoff: before === null ? 0 : before - visitors,
        dropoff_rate: before === null ? null : rateOf(before - visitors, before),
      }
    }),
    conversion_rate: rateOf(reached.at(-1) ?? 0, first),
  }
}
