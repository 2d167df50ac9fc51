/**
 * No event yet: the snippet to paste, with this server's own address, and a button that asks
 * whether anything has arrived since.
 */
import { useState } from 'preact/hooks'
import { ApiError } from '../api.ts'

export function Empty({ check }: { check: () => Promise<boolean> }) {
  const [state, setState] = useState<{ checking: boolean; message: string }>({ checking: false, message: '' })
  const script = new URL('t.js', location.href).href
  const snippet =
    `<script defer src="${script}"></script>\n` +
    '<script>window.track=window.track||function(){(track.q=track.q||[]).push(arguments)}</script>'

  const onCheck = async () => {
    setState({ checking: true, message: '' })
    try {
      const arrived = await check()
      setState({
        checking: false,
        message: arrived
          ? 'Events have arrived.'
          : 'Nothing yet. Open a page with the snippet, then check again. A page on localhost sends ' +
            'only with data-allow-local on the script tag, and crawlers, headless browsers among ' +
            'them, are answered but not counted.',
      })
    } catch (err) {
      setState({ checking: false, message: `Could not check: ${err instanceof ApiError ? err.reason : 'no answer'}.` })
    }
  }

  return (
    <section class="empty" data-state="empty" aria-labelledby="empty-title">
      <h2 id="empty-title">No events yet</h2>
      <p>
        Put this on every page of your site, before <code>&lt;/head&gt;</code>:
      </p>
      <pre>
        <code data-snippet>{snippet}</code>
      </pre>
      <p>
        Then{' '}
        <code>
          track('feature_used', {'{'} feature_name: 'export' {'}'})
        </code>{' '}
        counts what people use. Back ends send events to{' '}
        <code>POST {new URL('analytics/events', location.href).href}</code> with the ingest token.
      </p>
      <button type="button" onClick={onCheck} disabled={state.checking}>
        {state.checking ? 'Checking…' : 'Check for events'}
      </button>
      <p class="message" role="status">
        {state.message}
      </p>
    </section>
  )
}
