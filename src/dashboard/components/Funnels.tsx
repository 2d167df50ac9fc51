/**
 * The funnels panel: a saved funnel chosen from a list (`GET /analytics/funnels`), its steps as
 * bars of the visitors who reached each (a share of the first step's), the drop-off from the step
 * before and the overall conversion, over the period under the filters on
 * (`GET /analytics/funnel?funnel=<id>`), and a CSV of the same read. It reads again on every
 * round, as the other panels do.
 *
 * With a token that may manage funnels (the admin's), a form saves a funnel whose steps are
 * chosen from the goals list, and the chosen funnel has a delete button; the server's reason for
 * refusing either is said beside it.
 */
import { useState } from 'preact/hooks'
import { csvFileName } from '../../csv.ts'
import { ApiError, apiUrl, type FunnelAnswer, type FunnelsAnswer, type GoalsAnswer } from '../api.ts'
import { downloadCsv } from '../csv.ts'
import { formatCount, formatExact } from '../format.ts'
import type { Range } from '../period.ts'
import { formatPercent } from '../quality.ts'
import { useAfterFirstReads, useApi, useRead } from '../reads.ts'
import { Failure } from './Failure.tsx'
import { goalName } from './Goals.tsx'

const MAX_STEPS = 8
const WINDOWS = ['1h', '6h', '24h', '7d', '30d']

/** The form that saves a funnel, steps chosen from the goals; `onAdded` with the new one's id. */
function FunnelForm({ goals, onAdded }: { goals: GoalsAnswer['goals']; onAdded: (id: string) => void }) {
  const api = useApi()
  const [count, setCount] = useState(2)
  const [problem, setProblem] = useState('')
  const [busy, setBusy] = useState(false)
  // a saved funnel's form is made afresh, with its first choices (a reset would pick every
  // select's first option: Preact sets `selected` as a property, which reset does not go back to)
  const [made, setMade] = useState(0)
  const submit = async (e: Event) => {
    e.preventDefault()
    const form = e.currentTarget as HTMLFormElement
    const field = (name: string) => (form.elements.namedItem(name) as HTMLInputElement | null)?.value.trim() ?? ''
    const steps = Array.from({ length: count }, (_, i) => field(`funnel-step-${i}`))
    setBusy(true)
    setProblem('')
    try {
      const res = await api.change('POST', 'analytics/funnels', {
        name: field('funnel-name'),
        steps,
        window: field('funnel-window'),
      })
      const saved = (await res.json()) as { id: string }
      setMade((n) => n + 1)
      setCount(2)
      onAdded(saved.id)
    } catch (err) {
      setProblem(err instanceof ApiError ? `Not saved: ${err.reason}` : 'Not saved')
    } finally {
      setBusy(false)
    }
  }
  return (
    <form key={made} class="goal-form funnel-form" onSubmit={submit} aria-label="Add a funnel">
      <strong>Add a funnel</strong>
      <label class="goal-field">
        Name <input name="funnel-name" required maxLength={100} placeholder="Sign-up" />
      </label>
      {Array.from({ length: count }, (_, i) => (
        <label class="goal-field" key={i}>
          Step {i + 1}
          <select name={`funnel-step-${i}`}>
            {goals.map((g, j) => (
              <option key={g.id} value={g.id} selected={j === Math.min(i, goals.length - 1)}>
                {goalName(g)}
              </option>
            ))}
          </select>
        </label>
      ))}
      {count < MAX_STEPS && (
        <button type="button" class="link" onClick={() => setCount(count + 1)}>
          + step
        </button>
      )}
      {count > 2 && (
        <button type="button" class="link" onClick={() => setCount(count - 1)}>
          − step
        </button>
      )}
      <label class="goal-field">
        Within
        <select name="funnel-window">
          {WINDOWS.map((w) => (
            <option key={w} value={w} selected={w === '24h'}>
              {w}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" disabled={busy}>
        Add
      </button>
      {problem && (
        <p class="problem" role="alert" data-problem="funnel">
          {problem}
        </p>
      )}
    </form>
  )
}

export interface FunnelsProps {
  range: Range
  /** the `filters` parameter of every read (undefined: none) */
  filters?: string
  /** a new round reads again */
  round: number
}

export function Funnels({ range, filters, round }: FunnelsProps) {
  const api = useApi()
  const [edits, setEdits] = useState(0)
  const [chosen, setChosen] = useState<string | undefined>()
  const [problem, setProblem] = useState('')
  const listUrl = apiUrl('analytics/funnels')
  const goalsUrl = apiUrl('analytics/goals')
  const list = useRead<FunnelsAnswer>(listUrl, round + edits)
  const saved = list.state === 'ok' ? list.data.funnels : []
  const manage = list.state === 'ok' && list.data.manage
  const goals = useRead<GoalsAnswer>(manage ? goalsUrl : null, round + edits)
  // the one chosen, else the first saved
  const funnel = saved.find((f) => f.id === chosen) ?? saved[0]
  const query = { funnel: funnel?.id, from: range.from, to: range.to, filters }
  const figuresUrl = funnel ? apiUrl('analytics/funnel', query) : null
  const read = useRead<FunnelAnswer>(useAfterFirstReads(figuresUrl), round + edits)
  const edited = () => {
    api.forget(listUrl)
    api.forget(goalsUrl)
    if (figuresUrl) api.forget(figuresUrl)
    setEdits((n) => n + 1)
  }

  const remove = async () => {
    if (!funnel) return
    setProblem('')
    try {
      await api.change('DELETE', apiUrl(`analytics/funnels/${encodeURIComponent(funnel.id)}`))
      setChosen(undefined)
      edited()
    } catch (err) {
      setProblem(err instanceof ApiError ? `${funnel.name} not deleted: ${err.reason}` : `${funnel.name} not deleted`)
    }
  }
  const download = async () => {
    if (!funnel) return
    setProblem('')
    const url = apiUrl('analytics/funnel', { ...query, format: 'csv' })
    setProblem(await downloadCsv(api, url, csvFileName(['funnel', funnel.name], range.from, range.to)))
  }

  const data = read.state === 'ok' ? read.data : undefined
  return (
    <section class="panel funnels" data-panel="funnels" aria-labelledby="funnels-title">
      <header>
        <h2 id="funnels-title">Funnels</h2>
        {saved.length > 0 && (
          <label class="funnel-choice">
            <span class="sr-only">Funnel</span>
            <select
              name="funnel"
              aria-label="Funnel"
              value={funnel?.id}
              onChange={(e) => setChosen((e.currentTarget as HTMLSelectElement).value)}
            >
              {saved.map((f) => (
                <option key={f.id} value={f.id}>
                  {f.name} (within {f.window})
                </option>
              ))}
            </select>
          </label>
        )}
        {manage && funnel && (
          <button
            type="button"
            class="delete"
            aria-label={`Delete the funnel ${funnel.name}`}
            title="Delete this funnel"
            onClick={remove}
          >
            ×
          </button>
        )}
      </header>
      {list.state === 'error' && <Failure what="Funnels" read={list} />}
      {list.state === 'ok' && saved.length === 0 && (
        <p class="note" data-note="no-funnel">
          No funnel saved yet{manage ? ': add one below, its steps chosen from the goals' : ''}.
        </p>
      )}
      {funnel && (
        <div class="rows" data-figures="2" data-state={read.state} aria-busy={read.state === 'loading'}>
          <div class="row head" aria-hidden="true">
            <span>Step</span>
            <span class="count">Visitors</span>
            <span class="figure">Of first</span>
            <span class="figure">Drop-off</span>
          </div>
          {read.state === 'error' && <Failure what="Funnel" read={read} />}
          <ol>
            {(data?.steps ?? []).map((s, i) => (
              <li
                key={s.goal.id}
                class="row"
                data-step={i + 1}
                data-goal={s.goal.id}
                data-visitors={s.visitors}
                data-dropoff={s.dropoff}
                data-dropoff_rate={String(s.dropoff_rate)}
                aria-label={`Step ${i + 1}, ${goalName(s.goal)}: ${formatExact(s.visitors)} visitors${s.dropoff_rate === null ? '' : `, ${formatPercent(s.dropoff_rate)} dropped off`}`}
              >
                <span class="bar" style={{ width: `${Math.min(100, s.conversion_rate ?? 0)}%` }} />
                <span class="name">
                  {i + 1}. {goalName(s.goal)}
                </span>
                <span class="count">{formatCount(s.visitors)}</span>
                <span class="figure">{s.conversion_rate === null ? '–' : formatPercent(s.conversion_rate)}</span>
                <span class="figure drop">{s.dropoff_rate === null ? '' : `−${formatPercent(s.dropoff_rate)}`}</span>
              </li>
            ))}
          </ol>
          {data && (
            <p class="funnel-total" data-conversion_rate={String(data.conversion_rate)}>
              Overall conversion{' '}
              <strong>{data.conversion_rate === null ? '–' : formatPercent(data.conversion_rate)}</strong>, each
              visitor's steps within {data.window} of their first
            </p>
          )}
        </div>
      )}
      <footer>
        {data && (
          <button type="button" class="link csv" onClick={download} aria-label="Download the funnel as CSV">
            CSV
          </button>
        )}
        {problem && (
          <span class="problem" role="alert">
            {problem}
          </span>
        )}
      </footer>
      {manage && goals.state === 'ok' && (
        <FunnelForm
          goals={goals.data.goals}
          onAdded={(id) => {
            setChosen(id)
            edited()
          }}
        />
      )}
    </section>
  )
}
