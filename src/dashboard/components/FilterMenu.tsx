/**
 * The menu that adds a filter: a dimension (or a property by its key), is / is not / contains /
 * does not contain, and one or more values (OR'ed), suggested from the dimension's top values
 * under the other filters on (a `top` read, as a datalist). Native controls in a form: Tab moves,
 * Enter adds, Escape closes. A filter with the same dimension and operator is edited, not doubled.
 */
import { useEffect, useRef, useState } from 'preact/hooks'
import { EVENT_LABELS, LABELLED_TYPES } from '../../events/labels.ts'
import { EVENT_TYPES, VISIT_DIMENSIONS } from '../../events/types.ts'
import { apiUrl, type TopAnswer } from '../api.ts'
import {
  DIMENSION_LABELS,
  type Dimension,
  EVENT_DIMENSIONS,
  type Filter,
  filtersParam,
  type NamedDimension,
  OPERATOR_LABELS,
  OPERATORS,
  type Operator,
  PROPERTY,
  valueLabel,
  withFilter,
} from '../filters.ts'
import type { Range } from '../period.ts'
import { useRead } from '../reads.ts'

/** How many of the top values are offered. */
const SUGGESTED = 25

export interface FilterMenuProps {
  filters: Filter[]
  range: Range
  countedProperties: string[]
  onAdd: (filters: Filter[]) => void
  onCancel: () => void
}

/** Whether `top` ranks a dimension (event types are offered from their own list). */
function rankable(dimension: Dimension, countedProperties: string[]): boolean {
  if (dimension.startsWith(PROPERTY)) return countedProperties.includes(dimension.slice(PROPERTY.length))
  return dimension === 'page' || dimension === 'feature' || (VISIT_DIMENSIONS as readonly string[]).includes(dimension)
}

export function FilterMenu({ filters, range, countedProperties, onAdd, onCancel }: FilterMenuProps) {
  const [picked, setPicked] = useState<NamedDimension | typeof PROPERTY>('source')
  const [key, setKey] = useState(countedProperties[0] ?? '')
  const [operator, setOperator] = useState<Operator>('is')
  const [values, setValues] = useState<string[]>([''])
  const [problem, setProblem] = useState('')
  const first = useRef<HTMLSelectElement>(null)
  useEffect(() => first.current?.focus(), [])
  // a value field just added takes the focus
  const added = useRef(false)
  useEffect(() => {
    if (added.current) document.getElementById(`filter-value-${values.length - 1}`)?.focus()
    added.current = false
  }, [values.length])

  const dimension: Dimension | undefined =
    picked === PROPERTY ? (key.trim() ? `${PROPERTY}${key.trim()}` : undefined) : picked
  // the filter on this dimension with this operator, if one is on, starts the values: it is edited
  const start = (d: Dimension | undefined, o: Operator) =>
    setValues(filters.find(([fo, fd]) => fo === o && fd === d)?.[2].slice() ?? [''])

  const others = filtersParam(filters.filter(([, d]) => d !== dimension))
  const url =
    dimension && rankable(dimension, countedProperties)
      ? apiUrl('analytics/top', { dimension, from: range.from, to: range.to, limit: SUGGESTED, filters: others })
      : null
  const top = useRead<TopAnswer>(url)
  const suggestions =
    dimension === 'event_type'
      ? LABELLED_TYPES.map((t) => ({ value: t, label: EVENT_LABELS[t].plural }))
      : dimension && url && top.state === 'ok'
        ? top.data.items.map((i) => ({ value: i.name, label: valueLabel(dimension, i.name) }))
        : []

  const submit = (e: Event) => {
    e.preventDefault()
    const typed = [...new Set(values.map((v) => v.trim()).filter((v) => v !== ''))]
    if (!dimension) return setProblem('Name the property to filter on.')
    if (typed.length === 0) return setProblem('Type a value (or pick one of the suggestions).')
    // a misspelt type would match nothing (is) or everything (is not): the server refuses it too
    const unknown = typed.find((v) => !(EVENT_TYPES as readonly string[]).includes(v))
    if (dimension === 'event_type' && (operator === 'is' || operator === 'is_not') && unknown !== undefined)
      return setProblem(`${JSON.stringify(unknown)} is not an event type: pick one of the suggestions.`)
    onAdd(withFilter(filters, [operator, dimension, typed]))
  }
  const setValue = (i: number, v: string) => setValues(values.map((old, j) => (j === i ? v : old)))

  return (
    <form
      id="filter-menu"
      class="filter-menu"
      aria-label="Add a filter"
      onSubmit={submit}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.preventDefault()
          onCancel()
        }
      }}
    >
      <div class="control">
        <label for="filter-dimension">Filter on</label>
        <select
          id="filter-dimension"
          ref={first}
          value={picked}
          onChange={(e) => {
            const next = e.currentTarget.value as NamedDimension | typeof PROPERTY
            setPicked(next)
            start(next === PROPERTY ? (key.trim() ? `${PROPERTY}${key.trim()}` : undefined) : next, operator)
          }}
        >
          <optgroup label="Visit">
            {VISIT_DIMENSIONS.map((d) => (
              <option key={d} value={d}>
                {DIMENSION_LABELS[d]}
              </option>
            ))}
          </optgroup>
          <optgroup label="Event">
            {EVENT_DIMENSIONS.map((d) => (
              <option key={d} value={d}>
                {DIMENSION_LABELS[d]}
              </option>
            ))}
            <option value={PROPERTY}>Property…</option>
          </optgroup>
        </select>
      </div>
      {picked === PROPERTY && (
        <div class="control">
          <label for="filter-key">Key</label>
          <input
            id="filter-key"
            list="filter-keys"
            value={key}
            autocomplete="off"
            spellcheck={false}
            onInput={(e) => setKey(e.currentTarget.value)}
          />
          <datalist id="filter-keys">
            {countedProperties.map((k) => (
              <option key={k} value={k} />
            ))}
          </datalist>
        </div>
      )}
      <div class="control">
        <label for="filter-operator" class="sr-only">
          How
        </label>
        <select
          id="filter-operator"
          value={operator}
          onChange={(e) => {
            const next = e.currentTarget.value as Operator
            setOperator(next)
            start(dimension, next)
          }}
        >
          {OPERATORS.map((o) => (
            <option key={o} value={o}>
              {OPERATOR_LABELS[o]}
            </option>
          ))}
        </select>
      </div>
      {values.map((v, i) => (
        <div class="control value" key={i}>
          <label for={`filter-value-${i}`}>{i === 0 ? 'Value' : 'or'}</label>
          <input
            id={`filter-value-${i}`}
            class="filter-value"
            list="filter-suggestions"
            value={v}
            autocomplete="off"
            spellcheck={false}
            onInput={(e) => setValue(i, e.currentTarget.value)}
          />
        </div>
      ))}
      <datalist id="filter-suggestions" data-state={url ? top.state : 'none'}>
        {suggestions.map((s) => (
          <option key={s.value} value={s.value}>
            {s.label === s.value ? undefined : s.label}
          </option>
        ))}
      </datalist>
      <div class="actions">
        <button
          type="button"
          class="link"
          onClick={() => {
            added.current = true
            setValues([...values, ''])
          }}
        >
          Another value
        </button>
        <button type="submit">Add filter</button>
        <button type="button" class="link" onClick={onCancel}>
          Cancel
        </button>
      </div>
      {problem && (
        <p class="problem" role="alert">
          {problem}
        </p>
      )}
    </form>
  )
}
