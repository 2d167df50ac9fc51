/**
 * The goals panel: every goal's converting visitors, conversion rate and value over the period
 * under the filters on (`GET /analytics/conversions`, one read for all of them), configured goals
 * first, then every event type by its conversions; a CSV of the same read. A goal's row is a
 * button: it chooses the goal, whose conversion rate every breakdown of visits then shows (the
 * choice is `goal=` in the address); choosing it again, or Clear, takes it away.
 *
 * With a token that may manage goals (`manage` of `GET /analytics/goals`: the admin token), a
 * form adds a page goal (a path pattern) or an event goal (a type, and a property's value), and
 * each configured goal has a delete button; the server's reason for refusing one is said beside
 * the form. The viewer token sees neither (the server would refuse it anyway).
 */
import { useEffect, useState } from 'preact/hooks'
import { csvFileName } from '../../csv.ts'
import { EVENT_LABELS, LABELLED_TYPES } from '../../events/labels.ts'
import type { EventType } from '../../events/types.ts'
import { ApiError, apiUrl, type ConversionsAnswer, type GoalAnswer, type GoalsAnswer } from '../api.ts'
import { downloadCsv } from '../csv.ts'
import { formatCount, formatExact } from '../format.ts'
import type { Range } from '../period.ts'
import { formatPercent } from '../quality.ts'
import { useAfterFirstReads, useApi, useRead } from '../reads.ts'
import { Failure } from './Failure.tsx'

const FEW = 10

/** A goal as a person reads it: an event type by its label, a configured one by its name. */
export const goalName = (goal: GoalAnswer): string =>
  goal.built_in ? (EVENT_LABELS[goal.event_type as EventType]?.plural ?? goal.name) : goal.name

/** What a configured goal counts, in a few words: "page /docs/*", "Feature uses where feature_name is export_csv". */
function goalWhat(goal: GoalAnswer): string {
  if (goal.built_in) return 'event type'
  if (goal.page !== null) return `page ${goal.page}`
  const type = EVENT_LABELS[goal.event_type as EventType]?.plural ?? goal.event_type
  return goal.property ? `${type} where ${goal.property.key} is ${goal.property.value}` : type
}

const money = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 })

/** A goal's value, in its currency when it has one. */
const formatValue = (value: number, currency: string | null | undefined) =>
  currency ? `${money.format(value)} ${currency}` : money.format(value)

type Row = ConversionsAnswer['goals'][number]

/** Configured goals first (what a team set up), then the event types by their conversions. */
export const goalOrder = (rows: readonly Row[]): Row[] => [
  ...rows.filter((r) => !r.goal.built_in),
  ...rows.filter((r) => r.goal.built_in).sort((a, b) => b.conversions - a.conversions),
]

/** The form that adds a goal; `onAdded` once the server made it. */
function GoalForm({ onAdded }: { onAdded: () => void }) {
  const api = useApi()
  const [kind, setKind] = useState<'page' | 'event'>('page')
  const [problem, setProblem] = useState('')
  const [busy, setBusy] = useState(false)
  const submit = async (e: Event) => {
    e.preventDefault()
    const form = e.currentTarget as HTMLFormElement
    const field = (name: string) => (form.elements.namedItem(name) as HTMLInputElement | null)?.value.trim() ?? ''
    const body: Record<string, unknown> = { name: field('goal-name') }
    if (kind === 'page') body.page = field('goal-page')
    else {
      body.event_type = field('goal-type')
      const key = field('goal-key')
      const value = field('goal-value')
      if (key || value) body.property = { key, value }
    }
    setBusy(true)
    setProblem('')
    try {
      await api.change('POST', 'analytics/goals', body)
      form.reset()
      onAdded()
    } catch (err) {
      setProblem(err instanceof ApiError ? `Not added: ${err.reason}` : 'Not added')
    } finally {
      setBusy(false)
    }
  }
  return (
    <form class="goal-form" onSubmit={submit} aria-label="Add a goal">
      <fieldset class="goal-kind">
        <legend>Add a goal</legend>
        <label>
          <input type="radio" name="goal-kind" checked={kind === 'page'} onChange={() => setKind('page')} /> Page
        </label>
        <label>
          <input type="radio" name="goal-kind" checked={kind === 'event'} onChange={() => setKind('event')} /> Event
        </label>
      </fieldset>
      <label class="goal-field">
        Name <input name="goal-name" required maxLength={100} placeholder="Read the docs" />
      </label>
      {kind === 'page' ? (
        <label class="goal-field">
          Path <input name="goal-page" required placeholder="/docs/*" title="* matches any characters" />
        </label>
      ) : (
        <>
          <label class="goal-field">
            Event
            <select name="goal-type">
              {LABELLED_TYPES.map((t) => (
                <option key={t} value={t}>
                  {EVENT_LABELS[t].plural}
                </option>
              ))}
            </select>
          </label>
          <label class="goal-field">
            Property <input name="goal-key" placeholder="feature_name" />
          </label>
          <label class="goal-field">
            is <input name="goal-value" placeholder="export_csv" />
          </label>
        </>
      )}
      <button type="submit" disabled={busy}>
        Add
      </button>
      {problem && (
        <p class="problem" role="alert" data-problem="goal">
          {problem}
        </p>
      )}
    </form>
  )
}

export interface GoalsProps {
  range: Range
  /** the `filters` parameter of every read (undefined: none) */
  filters?: string
  /** the goal chosen (undefined: none) */
  goal?: string
  /** choose a goal, or none */
  onGoal: (id: string | undefined) => void
  /** a goal of the address that is none of these: the page drops it and says why */
  onUnknownGoal: (id: string) => void
  /** a new round reads again */
  round: number
}

export function Goals({ range, filters, goal, onGoal, onUnknownGoal, round }: GoalsProps) {
  const api = useApi()
  // a goal added or deleted reads the list and the figures again
  const [edits, setEdits] = useState(0)
  const [more, setMore] = useState(false)
  const [problem, setProblem] = useState('')
  const listUrl = apiUrl('analytics/goals')
  const query = { from: range.from, to: range.to, filters }
  const figuresUrl = apiUrl('analytics/conversions', query)
  const list = useRead<GoalsAnswer>(listUrl, round + edits)
  const read = useRead<ConversionsAnswer>(useAfterFirstReads(figuresUrl), round + edits)
  const manage = list.state === 'ok' && list.data.manage
  const edited = () => {
    api.forget(listUrl)
    api.forget(figuresUrl)
    setEdits((n) => n + 1)
  }

  const rows = read.state === 'ok' ? goalOrder(read.data.goals) : []
  const unknown = goal !== undefined && read.state === 'ok' && !rows.some((r) => r.goal.id === goal)
  useEffect(() => {
    if (unknown) onUnknownGoal(goal)
  }, [unknown])
  const shown = more ? rows : rows.slice(0, FEW)
  const chosen = rows.find((r) => r.goal.id === goal)

  const remove = async (g: GoalAnswer) => {
    setProblem('')
    try {
      await api.change('DELETE', apiUrl(`analytics/goals/${encodeURIComponent(g.id)}`))
      if (g.id === goal) onGoal(undefined)
      edited()
    } catch (err) {
      setProblem(err instanceof ApiError ? `${g.name} not deleted: ${err.reason}` : `${g.name} not deleted`)
    }
  }
  const download = async () => {
    setProblem('')
    const url = apiUrl('analytics/conversions', { ...query, format: 'csv' })
    setProblem(await downloadCsv(api, url, csvFileName(['conversions'], range.from, range.to)))
  }

  return (
    <section class="panel goals" data-panel="goals" aria-labelledby="goals-title">
      <header>
        <h2 id="goals-title">Goals</h2>
        {chosen && (
          <p class="goal-chosen" data-chosen={chosen.goal.id}>
            Conversion rate of <strong>{goalName(chosen.goal)}</strong> in the breakdowns of visits{' '}
            <button type="button" class="link" onClick={() => onGoal(undefined)}>
              Clear
            </button>
          </p>
        )}
      </header>
      <div class="rows" data-figures="2" data-state={read.state} aria-busy={read.state === 'loading'}>
        <div class="row head" aria-hidden="true">
          <span>Goal</span>
          <span class="count">Visitors</span>
          <span class="figure">CR</span>
          <span class="figure">Value</span>
        </div>
        {read.state === 'error' && <Failure what="Goals" read={read} />}
        <ol>
          {shown.map(({ goal: g, conversions, conversion_rate, value }) => {
            const pressed = g.id === goal
            const share = conversion_rate ?? 0
            return (
              <li
                key={g.id}
                data-goal={g.id}
                data-name={g.name}
                data-conversions={conversions}
                data-conversion_rate={String(conversion_rate)}
                data-value={value === undefined ? undefined : String(value)}
              >
                <button
                  type="button"
                  class="row"
                  aria-pressed={pressed}
                  aria-label={`${pressed ? 'Stop showing' : 'Show'} the conversion rate of ${goalName(g)} in the breakdowns (${formatExact(conversions)} converting visitors)`}
                  onClick={() => onGoal(pressed ? undefined : g.id)}
                >
                  <span class="bar" style={{ width: `${Math.min(100, share)}%` }} />
                  <span class="name" title={goalWhat(g)}>
                    {goalName(g)}
                    <span class="what"> · {goalWhat(g)}</span>
                  </span>
                  <span class="count">{formatCount(conversions)}</span>
                  <span class="figure">{conversion_rate === null ? '–' : formatPercent(conversion_rate)}</span>
                  <span class="figure">{value === undefined ? '' : formatValue(value, g.value?.currency)}</span>
                </button>
                {manage && !g.built_in && (
                  <button
                    type="button"
                    class="delete"
                    aria-label={`Delete the goal ${g.name}`}
                    title="Delete this goal"
                    onClick={() => remove(g)}
                  >
                    ×
                  </button>
                )}
                {manage && g.built_in && <span class="delete" aria-hidden="true" />}
              </li>
            )
          })}
        </ol>
      </div>
      <footer>
        {(more || rows.length > FEW) && (
          <button type="button" class="link" onClick={() => setMore(!more)} aria-expanded={more}>
            {more ? 'Show fewer' : 'More'}
          </button>
        )}
        {read.state === 'ok' && rows.length > 0 && (
          <button type="button" class="link csv" onClick={download} aria-label="Download Goals as CSV">
            CSV
          </button>
        )}
        {problem && (
          <span class="problem" role="alert">
            {problem}
          </span>
        )}
      </footer>
      {manage && <GoalForm onAdded={edited} />}
    </section>
  )
}
