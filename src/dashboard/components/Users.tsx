/**
 * One user's counts of every event type (today, this month, in all), as
 * `GET /analytics/users/:id` answers them; a user with none is told so in words, not with zeros.
 */
import { useState } from 'preact/hooks'
import { EVENT_LABELS, LABELLED_TYPES } from '../../events/labels.ts'
import { apiUrl, type UserAnswer } from '../api.ts'
import { formatExact } from '../format.ts'
import { useRead } from '../reads.ts'
import { Failure } from './Failure.tsx'

const COLUMNS = [
  ['today', 'Today'],
  ['this_month', 'This month'],
  ['total', 'In all'],
] as const

function Counts({ id, answer }: { id: string; answer: UserAnswer }) {
  const types = LABELLED_TYPES.filter((type) => answer.events[type])
  if (types.length === 0)
    return (
      <p class="user-none" aria-live="polite" data-user={id} data-state="none">
        No events counted for user <strong>{id}</strong>.
      </p>
    )
  return (
    <table class="user-counts" aria-live="polite" data-user={id}>
      <caption>
        Events of user <strong>{id}</strong>, in the server’s days
      </caption>
      <thead>
        <tr>
          <th scope="col">Event</th>
          {COLUMNS.map(([field, label]) => (
            <th key={field} scope="col">
              {label}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {types.map((type) => (
          <tr key={type} data-type={type}>
            <th scope="row">{EVENT_LABELS[type].plural}</th>
            {COLUMNS.map(([field]) => {
              const n = answer.events[type]?.[field] ?? 0
              return (
                <td key={field} data-field={field} data-value={n}>
                  {formatExact(n)}
                </td>
              )
            })}
          </tr>
        ))}
      </tbody>
    </table>
  )
}

export function Users() {
  const [typed, setTyped] = useState('')
  const [id, setId] = useState<string | null>(null)
  const read = useRead<UserAnswer>(id === null ? null : apiUrl(`analytics/users/${encodeURIComponent(id)}`))
  return (
    <section class="panel users" data-panel="users" aria-labelledby="users-title">
      <header>
        <h2 id="users-title">Users</h2>
      </header>
      <form
        class="lookup"
        onSubmit={(e) => {
          e.preventDefault()
          if (typed.trim()) setId(typed.trim())
        }}
      >
        <label for="user-id">User id</label>
        <input id="user-id" value={typed} maxLength={128} onInput={(e) => setTyped(e.currentTarget.value)} />
        <button type="submit">Look up</button>
      </form>
      {id !== null && read.state === 'error' && <Failure what={`User ${id}`} read={read} />}
      {id !== null && read.state === 'ok' && <Counts id={id} answer={read.data} />}
    </section>
  )
}
