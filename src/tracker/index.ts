/**
 * The browser tracker, built into `public/t.js` by `bun run build:tracker`. It counts page views
 * (SPA navigations, back/forward cache restores and prerendered pages included), feature usage and
 * custom events, sends them as `text/plain` beacons (no CORS preflight), and never throws into the
 * host page: what can fail is wrapped, and a failed send is only logged in debug mode.
 *
 * Written for the minifier: every byte is downloaded by every visitor of every page.
 *
 * @example
 * <script defer src="https://analytics.example.com/t.js" data-query="utm_source,ref"></script>
 * <script>window.track=window.track||function(){(track.q=track.q||[]).push(arguments)}</script>
 * <script>track('feature_used', {feature_name: 'export'})</script>
 */
import { DOWNLOAD, isBrowserEvent, LOCAL, otherParams, scrub } from './page.ts'

type Props = Record<string, unknown>

interface Track {
  (type: string, props?: unknown): void
  /** calls the stub queued before the script ran */
  q?: Iterable<[string, unknown]>
  identify?: (id: unknown) => void
}

const w = window as Window & { track?: Track }
const d = document as Document & { prerendering?: boolean }
const n = navigator as Navigator & { globalPrivacyControl?: boolean }
const loc = location

const stub = w.track
// A second copy of the script leaves the first in charge.
if (!stub?.identify)
  try {
    const script = d.currentScript as HTMLScriptElement
    const data = script.dataset
    // `e` next to the script, so a same-origin proxy path (`/stats/t.js` → `/stats/e`) works as is
    const api = data.api || new URL('e', script.src)
    // data-query lists them separated by anything but letters, digits and `_`
    const unkept = otherParams((data.query || '').replace(/\W+/g, '|'))
    // the page a view counts under: path, kept query parameters in URL order, fragment if routed by it
    const key = () =>
      scrub(loc.pathname + loc.search.replace(unkept, '').replace(/^&/, '?') + ('hash' in data ? loc.hash : ''))
    const queue: Props[] = []
    let user: string | undefined
    let last: string | undefined

    const log = (...args: unknown[]) => 'debug' in data && console.log(...args)
    const safe =
      <A extends unknown[]>(f: (...args: A) => unknown) =>
      (...args: A) => {
        try {
          f(...args)
        } catch {}
      }

    // Why nothing is sent, named after the setting responsible (debug mode logs it). Checked at
    // send time: a page may set analytics_ignore while it is open.
    const excluded = () => {
      try {
        if (localStorage.analytics_ignore === '1') return 'analytics_ignore'
      } catch {}
      return !('allowLocal' in data) && (n.webdriver || LOCAL.test(loc.hostname))
        ? 'allowLocal'
        : 'respectDnt' in data && (n.doNotTrack === '1' || n.globalPrivacyControl)
          ? 'respectDnt'
          : ''
    }

    const flush = safe(() => {
      // a prerendered page the user never sees sends nothing; once shown, the view's flush sends all
      if (d.prerendering) return
      const reason = excluded()
      while (queue.length) {
        // small batches stay far below the endpoint's 50-event, 8 KB limits
        const batch = queue.splice(0, 9)
        const body = JSON.stringify(batch)
        log(reason, batch)
        if (!reason && !n.sendBeacon?.(api, body)) fetch(api, { method: 'POST', body, keepalive: true }).catch(log)
      }
    })

    const track: Track = safe((type: string, props?: unknown) => {
      // One unknown type would get the whole batch refused, with the events queued beside it.
      if (isBrowserEvent(type)) {
        const event = { event_type: type, properties: { path: key(), ...(props as Props) }, user_id: user }
        queue.push(event)
        // one flush per task takes everything queued in it; the later ones find nothing left
        setTimeout(flush)
      }
    })
    track.identify = (id) => {
      user = (id as string) || undefined
    }

    const view = (e?: PageTransitionEvent) => {
      const k = key()
      // a page restored from the back/forward cache is a new view of the same page
      if (!d.prerendering && (k !== last || e?.persisted)) {
        last = k
        track('page_view')
      }
    }

    // Capture phase on window: it sees events aimed at the document too, and no page handler can
    // stop them first. Nothing is ever prevented, so Ctrl/Cmd-click, middle-click and
    // target=_blank behave as without the tracker.
    const listen = (types: string, f: (e: never) => unknown) => {
      for (const type of types.split(' ')) addEventListener(type, f as EventListener, true)
    }
    listen('popstate pageshow prerenderingchange', view)
    // Flushing early is harmless, so any visibility change will do.
    listen('pagehide visibilitychange', flush)
    listen('click auxclick', (e: MouseEvent) => {
      const target = e.target as Element
      // the nearest element that says what a click on it means, else the link clicked
      const el = target.closest?.<HTMLElement>('[data-track]')
      const a = target.closest?.('a')
      // `click` covers the main button (and Ctrl/Cmd-click), `auxclick` the middle one
      if (e.button > 1) return
      if (el) track(el.dataset.track || 'feature_used', { feature_name: el.dataset.feature })
      else if (a?.hostname) {
        if ('downloads' in data && DOWNLOAD.test(a.pathname)) {
          track('asset_downloaded', { feature_name: scrub(a.pathname.split('/').pop()!) })
        } else if ('outbound' in data && a.hostname !== loc.hostname) {
          track('feature_used', { feature_name: `outbound:${a.hostname}` })
        }
      }
    })

    for (const method of ['pushState', 'replaceState'] as const) {
      const original = history[method]
      history[method] = (...args: Parameters<History['pushState']>) => {
        original.apply(history, args)
        view()
      }
    }

    w.track = track
    for (const args of stub?.q || []) track(...args)
    view()
  } catch {}
