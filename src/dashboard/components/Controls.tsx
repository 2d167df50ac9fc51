/**
 * The period, a custom range, the comparison and the zone: native controls, each with a label,
 * so keyboards, screen readers and phones get what they already know.
 */
import { useEffect, useState } from 'preact/hooks'
import type { Granularity } from '../../read/params.ts'
import { zoneFormats } from '../../time.ts'
import { rangeLabel } from '../format.ts'
import { sameZone } from '../page-config.ts'
import { customRangeProblem, intervalsFor, PRESETS, type PresetId, type Range } from '../period.ts'
import type { View } from '../view.ts'
import { allZones, browserZone } from '../zones.ts'

const INTERVAL_LABELS: Record<Granularity, string> = { hour: 'Hour', day: 'Day', week: 'Week', month: 'Month' }

const clock = zoneFormats({ hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
/** An instant's time of day in a zone: '14:30'. */
const hourTime = (ms: number, tz: string) => clock(tz).format(ms)

export interface ControlsProps {
  view: View
  range: Range
  previous: Range
  /** the zone the numbers and chart use now, and the deployment's */
  zone: string
  serverZone: string
  onChange: (view: View) => void
}

/**
 * The zones to offer: the one in use, the deployment's, the browser's and UTC; with `all`, every
 * zone the browser knows after them. Each by its IANA name (zones.ts), whatever the browser says. The long list is made only when someone opens the choice:
 * four hundred options cost a first render more than the rest of the page.
 */
function zoneChoices(zone: string, serverZone: string, all: boolean): string[] {
  const others = [zone, browserZone(), 'UTC', ...(all ? allZones() : [])]
  // the deployment's zone once, under the server's spelling of it
  return [...new Set([serverZone, ...others.filter((z) => !sameZone(z, serverZone))])]
}

export function Controls({ view, range, previous, zone, serverZone, onChange }: ControlsProps) {
  const [custom, setCustom] = useState({ from: range.from, to: range.to, open: view.period === 'custom' })
  const [allZones, setAllZones] = useState(false)
  const problem = customRangeProblem(custom.from, custom.to)
  useEffect(() => {
    setCustom({ from: range.from, to: range.to, open: view.period === 'custom' })
  }, [range.from, range.to, view.period])

  const pickPeriod = (id: PresetId) => {
    if (id === 'custom') return setCustom({ ...custom, open: true })
    // a new period gets its own default step
    const { from: _f, to: _t, interval: _i, ...rest } = view
    onChange({ ...rest, period: id })
  }
  const applyCustom = (e: Event) => {
    e.preventDefault()
    if (!problem) onChange({ ...view, period: 'custom', from: custom.from, to: custom.to, interval: undefined })
  }
  const intervals = intervalsFor(range)
  const today = view.period === 'today' || previous.until !== undefined

  return (
    <section class="controls" aria-label="What to show">
      <div class="control">
        <label for="period">Period</label>
        <select
          id="period"
          value={custom.open ? 'custom' : view.period}
          onChange={(e) => pickPeriod(e.currentTarget.value as PresetId)}
        >
          {PRESETS.map((p) => (
            <option key={p.id} value={p.id}>
              {p.label}
            </option>
          ))}
        </select>
      </div>
      {custom.open && (
        <form class="control custom" onSubmit={applyCustom} aria-label="Custom range">
          <label for="from">From</label>
          <input
            id="from"
            type="date"
            value={custom.from}
            max={custom.to}
            onInput={(e) => setCustom({ ...custom, from: e.currentTarget.value })}
          />
          <label for="to">to</label>
          <input
            id="to"
            type="date"
            value={custom.to}
            min={custom.from}
            onInput={(e) => setCustom({ ...custom, to: e.currentTarget.value })}
          />
          <button type="submit" disabled={problem !== undefined}>
            Apply
          </button>
          {problem && <span class="problem">{problem}</span>}
        </form>
      )}
      <div class="control">
        <input
          id="compare"
          type="checkbox"
          checked={view.compare}
          onChange={(e) => onChange({ ...view, compare: e.currentTarget.checked })}
        />
        <label for="compare">Compare with the previous period</label>
      </div>
      <div class="control">
        <label for="interval">By</label>
        <select
          id="interval"
          value={range.granularity}
          disabled={intervals.length < 2}
          onChange={(e) => {
            const interval = e.currentTarget.value as Granularity
            onChange({ ...view, interval: interval === intervals[0] ? undefined : interval })
          }}
        >
          {intervals.map((i) => (
            <option key={i} value={i}>
              {INTERVAL_LABELS[i]}
            </option>
          ))}
        </select>
      </div>
      {today && (
        <div class="control">
          <label for="yesterday">Today against</label>
          <select
            id="yesterday"
            value={view.wholeDay ? 'whole' : 'now'}
            onChange={(e) => onChange({ ...view, wholeDay: e.currentTarget.value === 'whole' ? true : undefined })}
          >
            <option value="now">yesterday until this time</option>
            <option value="whole">all of yesterday</option>
          </select>
        </div>
      )}
      <div class="control">
        <label for="tz">Time zone</label>
        <select
          id="tz"
          value={zone}
          onFocus={() => setAllZones(true)}
          onPointerDown={() => setAllZones(true)}
          onChange={(e) => {
            const tz = e.currentTarget.value
            onChange({ ...view, tz: tz === serverZone ? undefined : tz })
          }}
        >
          {zoneChoices(zone, serverZone, allZones).map((z) => (
            <option key={z} value={z}>
              {z === serverZone ? `${z} (server days)` : z}
            </option>
          ))}
        </select>
      </div>
      <p class="range" data-range={`${range.from}/${range.to}`}>
        {rangeLabel(range.from, range.to)}
        {range.granularity === 'hour' ? ' (by hour)' : ''}
        <span
          class="against"
          data-until={previous.until === undefined ? undefined : new Date(previous.until).toISOString()}
        >
          {' '}
          · changes against {rangeLabel(previous.from, previous.to)}
          {previous.until !== undefined && ` until ${hourTime(previous.until, zone)}`}
        </span>
      </p>
    </section>
  )
}
