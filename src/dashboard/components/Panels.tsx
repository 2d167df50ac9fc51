/**
 * Every breakdown, in the order Plausible's readers know: where visits came from, what they
 * looked at, where they are, on what; then features and each counted property.
 */
import type { Range } from '../period.ts'
import { Panel, type Tab } from './Panel.tsx'

const PANELS: { id: string; title: string; tabs: Tab[] }[] = [
  {
    id: 'sources',
    title: 'Sources',
    tabs: [
      { dimension: 'source', label: 'Sources', counts: 'Visits' },
      { dimension: 'utm_source', label: 'UTM source', counts: 'Visits' },
      { dimension: 'utm_medium', label: 'UTM medium', counts: 'Visits' },
      { dimension: 'utm_campaign', label: 'UTM campaign', counts: 'Visits' },
    ],
  },
  {
    id: 'pages',
    title: 'Pages',
    tabs: [
      { dimension: 'page', label: 'Top pages', counts: 'Page views' },
      { dimension: 'entry_page', label: 'Entry pages', counts: 'Visits' },
      { dimension: 'hostname', label: 'Hostnames', counts: 'Visits' },
    ],
  },
  { id: 'countries', title: 'Countries', tabs: [{ dimension: 'country', label: 'Country', counts: 'Visits' }] },
  {
    id: 'devices',
    title: 'Devices',
    tabs: [
      { dimension: 'device', label: 'Devices', counts: 'Visits' },
      { dimension: 'browser', label: 'Browsers', counts: 'Visits' },
      { dimension: 'os', label: 'Operating systems', counts: 'Visits' },
    ],
  },
  { id: 'features', title: 'Features', tabs: [{ dimension: 'feature', label: 'Feature', counts: 'Uses' }] },
]

export interface PanelsProps {
  range: Range
  countedProperties: string[]
  /** set when the numbers use another zone than the breakdowns: the breakdowns say whose days they count */
  serverZone?: string
  /** a new round reads every breakdown again */
  round: number
}

export function Panels({ range, countedProperties, serverZone, round }: PanelsProps) {
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
          <Panel key={p.id} id={p.id} title={p.title} tabs={p.tabs} range={range} round={round} />
        ))}
      </div>
    </section>
  )
}
