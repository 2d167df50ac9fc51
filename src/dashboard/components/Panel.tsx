/**
 * A breakdown: the top rows of one dimension (or of several, as tabs) for the period under the
 * filters on, each with its count and a bar of its share; "more" shows up to 100, and the CSV is
 * exactly the rows shown, as the API answers them with `format=csv`. A row is a button: it filters
 * the whole page on its value (placeholders such as `(other)` too: they are values of the log).
 *
 * A tab of a visit dimension (source, country, device…) gives each row what its visits were worth
 * (bounce rate, visit duration) and, with a goal chosen, its conversion rate: figures of the same
 * read (`metrics=`, `goal=`), so the CSV has them as columns too.
 */
import { useState } from 'preact/hooks'
import { csvFileName } from '../../csv.ts'
import { apiUrl, type TopAnswer } from '../api.ts'
import { countryName, flagEmoji, flagsDrawn, isCountryCode } from '../countries.ts'
import { downloadCsv } from '../csv.ts'
import { type Dimension, filterLabel } from '../filters.ts'
import { formatCount, formatExact, formatShare } from '../format.ts'
import type { Range } from '../period.ts'
import { formatPercent, formatQuality, PANEL_QUALITY, qualityInfo } from '../quality.ts'
import { useAfterFirstReads, useApi, useRead } from '../reads.ts'
import { Failure } from './Failure.tsx'

export interface Tab {
  dimension: string
  label: string
  /** what the counts are, as a column title: Visits, Page views… */
  counts: string
  /** a visit dimension: its rows have visit-quality figures and a goal's conversion rate */
  visits?: boolean
}

type Item = TopAnswer['items'][number]

/** A row's figures beside its count: visit quality, then the goal's conversion rate. */
function Figures({ item, goal }: { item: Item; goal: boolean }) {
  return (
    <>
      {PANEL_QUALITY.map((m) => (
        <span key={m} class="figure" title={qualityInfo(m).label}>
          {formatQuality(m, item[m])}
        </span>
      ))}
      {goal && (
        <span class="figure cr" title={`Conversion rate (${formatExact(item.conversions ?? 0)} converting visitors)`}>
          {item.conversion_rate == null ? '–' : formatPercent(item.conversion_rate)}
        </span>
      )}
    </>
  )
}

const FEW = 10
const MANY = 100

/** Values the server counts under when it has no name: shown apart from real names. */
const PLACEHOLDER = /^\(.*\)$/

function Name({ dimension, name }: { dimension: string; name: string }) {
  if (dimension === 'country' && isCountryCode(name)) {
    return (
      <span class="name" title={name}>
        {flagsDrawn() ? (
          <span class="flag" aria-hidden="true">
            {flagEmoji(name)}
          </span>
        ) : (
          <span class="code" aria-hidden="true">
            {name}
          </span>
        )}
        {countryName(name)}
      </span>
    )
  }
  return (
    <span class={PLACEHOLDER.test(name) ? 'name placeholder' : 'name'} title={name}>
      {name}
    </span>
  )
}

export interface PanelProps {
  id: string
  title: string
  tabs: Tab[]
  range: Range
  /** the `filters` parameter of every read (undefined: none) */
  filters?: string
  /** the goal whose conversion rate the tabs of visit dimensions show (undefined: none) */
  goal?: string
  /** a row clicked: filter on its value */
  onFilter: (dimension: Dimension, value: string) => void
  /** a new round reads again */
  round: number
}

export function Panel({ id, title, tabs, range, filters, goal, onFilter, round }: PanelProps) {
  const api = useApi()
  const [index, setIndex] = useState(0)
  const [more, setMore] = useState(false)
  const [csvError, setCsvError] = useState('')
  const tab = tabs[index] ?? tabs[0]!
  const limit = more ? MANY : FEW
  const converts = tab.visits === true && goal !== undefined
  const metrics = tab.visits ? [...PANEL_QUALITY, ...(converts ? ['conversions', 'conversion_rate'] : [])] : []
  const query = {
    dimension: tab.dimension,
    from: range.from,
    to: range.to,
    limit,
    filters,
    metrics: metrics.length > 0 ? metrics.join(',') : undefined,
    goal: converts ? goal : undefined,
  }
  // a read of the log (quality columns, rates, filters) waits for the numbers; the counters' do not
  const fromLog = metrics.length > 0 || filters !== undefined
  const url = apiUrl('analytics/top', query)
  const held = useAfterFirstReads(url)
  const read = useRead<TopAnswer>(fromLog ? held : url, round)

  const download = async () => {
    setCsvError('')
    const url = apiUrl('analytics/top', { ...query, format: 'csv' })
    setCsvError(await downloadCsv(api, url, csvFileName(['top', tab.dimension], range.from, range.to)))
  }

  const pick = (i: number) => {
    setIndex(i)
    setMore(false)
    document.getElementById(`${id}-tab-${i}`)?.focus()
  }
  const onTabKey = (e: KeyboardEvent) => {
    const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0
    if (step === 0) return
    e.preventDefault()
    pick((index + step + tabs.length) % tabs.length)
  }

  const items = read.state === 'ok' ? read.data.items : []
  /** the columns beside the count, for the rows' grid */
  const figures = tab.visits ? PANEL_QUALITY.length + (converts ? 1 : 0) : 0
  const total = read.state === 'ok' ? read.data.total : 0
  const rows = (
    <>
      <div class="row head" aria-hidden="true">
        <span>{tab.label}</span>
        <span class="count">{tab.counts}</span>
        {tab.visits &&
          PANEL_QUALITY.map((m) => (
            <span key={m} class="figure" title={qualityInfo(m).label}>
              {qualityInfo(m).short}
            </span>
          ))}
        {converts && (
          <span class="figure cr" title="Conversion rate of the goal chosen">
            CR
          </span>
        )}
      </div>
      {read.state === 'error' && <Failure what={title === tab.label ? title : `${title}: ${tab.label}`} read={read} />}
      {read.state === 'ok' && items.length === 0 && <p class="none">Nothing counted in this period.</p>}
      <ol>
        {items.map((item) => {
          const share = total > 0 ? item.count / total : 0
          const dimension = tab.dimension as Dimension
          const filter = filterLabel(['is', dimension, [item.name]])
          return (
            <li
              key={item.name}
              data-name={item.name}
              data-count={item.count}
              data-bounce_rate={tab.visits ? String(item.bounce_rate) : undefined}
              data-visit_duration={tab.visits ? String(item.visit_duration) : undefined}
              data-conversion_rate={converts ? String(item.conversion_rate) : undefined}
              data-conversions={converts ? item.conversions : undefined}
            >
              <button
                type="button"
                class="row"
                aria-label={`Filter: ${filter} (${formatExact(item.count)} ${tab.counts.toLowerCase()})`}
                onClick={() => onFilter(dimension, item.name)}
              >
                <span class="bar" style={{ width: `${Math.min(100, share * 100)}%` }} />
                <Name dimension={tab.dimension} name={item.name} />
                <span class="count" title={`${formatExact(item.count)} (${formatShare(share)})`}>
                  {formatCount(item.count)}
                </span>
                {tab.visits && <Figures item={item} goal={converts} />}
              </button>
            </li>
          )
        })}
      </ol>
    </>
  )
  return (
    <section class="panel" data-panel={id} aria-labelledby={`${id}-title`}>
      <header>
        <h2 id={`${id}-title`}>{title}</h2>
        {tabs.length > 1 && (
          <div class="tabs" role="tablist" aria-label={title} onKeyDown={onTabKey}>
            {tabs.map((t, i) => (
              <button
                key={t.dimension}
                id={`${id}-tab-${i}`}
                type="button"
                role="tab"
                aria-selected={i === index}
                aria-controls={`${id}-rows`}
                tabIndex={i === index ? 0 : -1}
                onClick={() => pick(i)}
              >
                {t.label}
              </button>
            ))}
          </div>
        )}
      </header>
      {tabs.length > 1 ? (
        <div
          id={`${id}-rows`}
          class="rows"
          data-figures={figures}
          role="tabpanel"
          aria-labelledby={`${id}-tab-${index}`}
          aria-busy={read.state === 'loading'}
          data-dimension={tab.dimension}
          data-state={read.state}
        >
          {rows}
        </div>
      ) : (
        <div
          id={`${id}-rows`}
          class="rows"
          data-figures={figures}
          aria-busy={read.state === 'loading'}
          data-dimension={tab.dimension}
          data-state={read.state}
        >
          {rows}
        </div>
      )}
      <footer>
        {(more || items.length === FEW) && (
          <button type="button" class="link" onClick={() => setMore(!more)} aria-expanded={more}>
            {more ? 'Show fewer' : 'More'}
          </button>
        )}
        {read.state === 'ok' && items.length > 0 && (
          <button type="button" class="link csv" onClick={download} aria-label={`Download ${tab.label} as CSV`}>
            CSV
          </button>
        )}
        {csvError && (
          <span class="problem" role="alert">
            {csvError}
          </span>
        )}
      </footer>
    </section>
  )
}
