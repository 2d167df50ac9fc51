/**
 * Every breakdown, in the order Plausible's readers know: where visits came from, what they
 * looked at, where they are, on what; then features and each counted property; then goals.
 */
import type { TopDimension } from '../../read/top.ts'
import type { Dimension } from '../filters.ts'
import type { Range } from '../period.ts'
import { Funnels } from './Funnels.tsx'
import { Goals } from './Goals.tsx'
import { Panel, type Tab } from './Panel.tsx'

/**
 * Every dimension a read can rank (`page`, `feature` and each of VISIT_DIMENSIONS): its tab's
 * label and what it counts. Typed over the server's own list, so a dimension added there does not
 * compile until it has a tab here.
 */
const TABS = {
  source: { label: 'Sources', counts: 'Visits', visits: true },
  utm_source: { label: 'UTM source', counts: 'Visits', visits: true },
  utm_medium: { label: 'UTM medium', counts: 'Visits', visits: true },
  utm_campaign: { label: 'UTM campaign', counts: 'Visits', visits: true },
  page: { label: 'Top pages', counts: 'Page views' },
  entry_page: { label: 'Entry pages', counts: 'Visits', visits: true },
  hostname: { label: 'Hostnames', counts: 'Visits', visits: true },
  country: { label: 'Country', counts: 'Visits', visits: true },
  device: { label: 'Devices', counts: 'Visits', visits: true },
  browser: { label: 'Browsers', counts: 'Visits', visits: true },
  os: { label: 'Operating systems', counts: 'Visits', visits: true },
  feature: { label: 'Feature', counts: 'Uses' },
} satisfies Record<Exclude<TopDimension, `prop:${string}`>, Omit<Tab, 'dimension'>>

const tabs = (...dimensions: (keyof typeof TABS)[]): Tab[] => dimensions.map((d) => ({ dimension: d, ...TABS[d] }))

/** The panels and their tabs, in the order Plausible's readers know; each dimension once (a test checks). */
export const PANELS: { id: string; title: string; tabs: Tab[] }[] = [
  { id: 'sources', title: 'Sources', tabs: tabs('source', 'utm_source', 'utm_medium', 'utm_campaign') },
  { id: 'pages', title: 'Pages', tabs: tabs('page', 'entry_page', 'hostname') },
  { id: 'countries', title: 'Countries', tabs: tabs('country') },
  { id: 'devices', title: 'Devices', tabs: tabs('device', 'browser', 'os') },
  { id: 'features', title: 'Features', tabs: tabs('feature') },
]

export interface PanelsProps {
  range: Range
  countedProperties: string[]
  /** set when the numbers use another zone than the breakdowns: the breakdowns say whose days they count */
  serverZone?: string
  /** the `filters` parameter of every read (undefined: none) */
  filters?: string
  /** the goal whose conversion rate the breakdowns of visits show (undefined: none) */
  goal?: string
  /** a row clicked: filter the page on its value */
  onFilter: (dimension: Dimension, value: string) => void
  /** a goal chosen in the goals panel, or none */
  onGoal: (goal: string | undefined) => void
  /** a goal of the address that is no goal */
  onUnknownGoal: (goal: string) => void
  /** a new round reads every breakdown again */
  round: number
}

export function Panels({
  range,
  countedProperties,
  serverZone,
  filters,
  goal,
  onFilter,
  onGoal,
  onUnknownGoal,
  round,
}: PanelsProps) {
  const panels = [...PANELS]
  if (countedProperties.length > 0) {
    panels.push({
      id: 'properties',
      title: 'Properties',
      tabs: countedProperties.map((key) => ({ dimension: `prop:${key}`, label: key, counts: 'Events' })),
    })
  }
  return (
    <section class="breakdowns" aria-label="Breakdowns">
      {serverZone && (
        <p class="note" data-note="zone">
          Breakdowns count {serverZone} days (the server's TIME_ZONE): {range.from} to {range.to}.
        </p>
      )}
      <div class="panels">
        {panels.map((p) => (
          <Panel
            key={p.id}
            id={p.id}
            title={p.title}
            tabs={p.tabs}
            range={range}
            filters={filters}
            goal={goal}
            onFilter={onFilter}
            round={round}
          />
        ))}
        <Goals
          range={range}
          filters={filters}
          goal={goal}
          onGoal={onGoal}
          onUnknownGoal={onUnknownGoal}
          round={round}
        />
        <Funnels range={range} filters={filters} round={round} />
      </div>
    </section>
  )
}
