/**
 * A breakdown: the top rows of one dimension (or of several, as tabs) for the period under the
 * filters on, each with its count and a bar of its share; "more" shows up to 100, and the CSV is
 * exactly the rows shown, as the API answers them with `format=csv`. A row is a button: it filters
 * the whole page on its value (placeholders such as `(other)` too: they are values of the log).
 */
import { useState } from 'preact/hooks'
import { csvFileName } from '../../csv.ts'
import { ApiError, apiUrl, type TopAnswer } from '../api.ts'
import { countryName, flagEmoji, flagsDrawn, isCountryCode } from '../countries.ts'
import { attachmentName, saveFile } from '../csv.ts'
import { type Dimension, filterLabel } from '../filters.ts'
import { formatCount, formatExact, formatShare } from '../format.ts'
import type { Range } from '../period.ts'
import { useApi, useRead } from '../reads.ts'
import { Failure } from './Failure.tsx'

export interface Tab {
  dimension: string
  label: string
  /** what the counts are, as a column title: Visits, Page views… */
  counts: string
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
  /** a row clicked: filter on its value */
  onFilter: (dimension: Dimension, value: string) => void
  /** a new round reads again */
  round: number
}

export function Panel({ id, title, tabs, range, filters, onFilter, round }: PanelProps) {
  const api = useApi()
  const [index, setIndex] = useState(0)
  const [more, setMore] = useState(false)
  const [csvError, setCsvError] = useState('')
  const tab = tabs[index] ?? tabs[0]!
  const limit = more ? MANY : FEW
  const query = { dimension: tab.dimension, from: range.from, to: range.to, limit, filters }
  const read = useRead<TopAnswer>(apiUrl('analytics/top', query), round)

  const download = async () => {
    setCsvError('')
    try {
      const res = await api.fetch(apiUrl('analytics/top', { ...query, format: 'csv' }), 'text/csv')
      const text = await res.text()
      // the server's name for it, which says what it holds; the page's own as a fallback
      const name = attachmentName(res) ?? csvFileName(['top', tab.dimension], range.from, range.to)
      saveFile(name, text, 'text/csv')
    } catch (err) {
      setCsvError(err instanceof ApiError ? `CSV not downloaded: ${err.reason}` : 'CSV not downloaded')
    }
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
  const total = read.state === 'ok' ? read.data.total : 0
  const rows = (
    <>
      <div class="row head" aria-hidden="true">
        <span>{tab.label}</span>
        <span>{tab.counts}</span>
      </div>
      {read.state === 'error' && <Failure what={title === tab.label ? title : `${title}: ${tab.label}`} read={read} />}
      {read.state === 'ok' && items.length === 0 && <p class="none">Nothing counted in this period.</p>}
      <ol>
        {items.map((item) => {
          const share = total > 0 ? item.count / total : 0
          const dimension = tab.dimension as Dimension
          const filter = filterLabel(['is', dimension, [item.name]])
          return (
            <li key={item.name} data-name={item.name} data-count={item.count}>
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
