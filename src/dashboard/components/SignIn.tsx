/**
 * The sign-in form: an admin or viewer token, kept in this tab only. A refused token, or a link
 * whose token cannot be read, comes back here with the reason.
 */
import { useEffect, useRef, useState } from 'preact/hooks'
import { sendable } from '../token.ts'

export function SignIn({ message, onToken }: { message: string; onToken: (token: string) => void }) {
  const [error, setError] = useState(message)
  const input = useRef<HTMLInputElement>(null)
  useEffect(() => {
    setError(message)
    input.current?.focus()
  }, [message])

  const submit = (e: Event) => {
    e.preventDefault()
    const token = input.current?.value.trim() ?? ''
    if (!token) return setError('Type the token first.')
    if (!sendable(token)) return setError('That token cannot be sent: it has characters an HTTP header cannot carry.')
    onToken(token)
  }

  return (
    <main class="signin" data-state="signed-out">
      <form onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">edge analytics</h1>
        <label for="token">Admin or viewer token</label>
        <input
          id="token"
          ref={input}
          type="password"
          autocomplete="off"
          spellcheck={false}
          aria-describedby="signin-error signin-hint"
        />
        <button type="submit">Open the dashboard</button>
        <p id="signin-error" class="error" role="alert">
          {error}
        </p>
        <p id="signin-hint" class="hint">
          Kept in this tab only (sessionStorage). A link can sign in by itself: <code>/dashboard#token=…</code>
        </p>
      </form>
    </main>
  )
}
