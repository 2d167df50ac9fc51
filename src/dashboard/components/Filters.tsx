/**
 * The filters on: a chip for each ("Source is Google or Bing ×"), "Clear all", and the Filter
 * button that opens the menu to add one. Each chip's element carries `data-filter`, the filter's
 * JSON as the address and the reads hold it.
 */
import { Fragment } from 'preact'
import { useRef, useState } from 'preact/hooks'
import { dimensionLabel, type Filter, filterLabel, OPERATOR_LABELS, valueLabel, withoutFilter } from '../filters.ts'
import type { Range } from '../period.ts'
import { FilterMenu } from './FilterMenu.tsx'

export interface FiltersProps {
  filters: Filter[]
  /** the breakdowns' days, whose top values the menu suggests */
  range: Range
  countedProperties: string[]
  onChange: (filters: Filter[]) => void
}

function Chip({ filter, onRemove }: { filter: Filter; onRemove: () => void }) {
  const [operator, dimension, values] = filter
  const label = filterLabel(filter)
  return (
    <li class="chip" data-filter={JSON.stringify(filter)}>
      <span class="chip-text" title={label}>
        <span class="what">
          {dimensionLabel(dimension)} {OPERATOR_LABELS[operator]}
        </span>{' '}
        {values.map((v, i) => (
          <Fragment key={i}>
            {i > 0 && <span class="what"> or </span>}
            <strong>{valueLabel(dimension, v)}</strong>
          </Fragment>
        ))}
      </span>
      <button type="button" class="remove" aria-label={`Remove filter: ${label}`} title="Remove" onClick={onRemove}>
        ×
      </button>
    </li>
  )
}

export function Filters({ filters, range, countedProperties, onChange }: FiltersProps) {
  const [open, setOpen] = useState(false)
  const button = useRef<HTMLButtonElement>(null)
  const close = () => {
    setOpen(false)
    button.current?.focus()
  }
  return (
    <section class="filters" aria-label="Filters" data-count={filters.length}>
      <div class="filter-bar">
        <button
          ref={button}
          type="button"
          class="filter-button"
          aria-expanded={open}
          aria-controls="filter-menu"
          onClick={() => setOpen(!open)}
        >
          Filter
        </button>
        {filters.length > 0 && (
          <ul class="chips" aria-label="Filters on">
            {filters.map((f, i) => (
              <Chip key={JSON.stringify(f)} filter={f} onRemove={() => onChange(withoutFilter(filters, i))} />
            ))}
          </ul>
        )}
        {filters.length > 0 && (
          <button type="button" class="link clear" onClick={() => onChange([])}>
            Clear all
          </button>
        )}
      </div>
      {open && (
        <FilterMenu
          filters={filters}
          range={range}
          countedProperties={countedProperties}
          onAdd={(next) => {
            onChange(next)
            close()
          }}
          onCancel={close}
        />
      )}
    </section>
  )
}
