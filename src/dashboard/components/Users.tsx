/**
 * One user's generations (today, this month, in all), as `GET /analytics/users/:id` answers them.
 */
import { useState } from 'preact/hooks'
import { apiUrl, type UserAnswer } from '../api.ts'
import { formatExact } from '../format.ts'
import { useRead } from '../reads.ts'
import { Failure } from './Failure.tsx'

const FIELDS = [
  ['generations_today', 'today'],
  ['generations_this_month', 'this month'],
  ['generations_total', 'in all'],
] as const

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
      {id !== null && read.state === 'ok' && (
        <dl class="generations" aria-live="polite" data-user={id}>
          {FIELDS.map(([field, label]) => (
            <div key={field}>
              <dt>Generations {label}</dt>
              <dd data-field={field} data-value={read.data[field]}>
                {formatExact(read.data[field])}
              </dd>
            </div>
          ))}
        </dl>
      )}
    </section>
  )
}
