/**
 * The browser tracker, built into `public/t.js` by `bun run build:tracker`. It counts page views
 * (SPA navigations, back/forward cache restores and prerendered pages included), says on a page
 * load's first view where the visitor came from (referrer and campaign), counts feature usage and
 * custom events, sends them as `text/plain` beacons (no CORS preflight), and never throws into the
 * host page: what can fail is wrapped, and a failed send is only logged in debug mode.
 *
 * Written for the minifier: every byte is downloaded by every visitor of every page.
 *
 * @example
 * <script defer src="https://analytics.example.com/t.js" data-query="utm_source,ref"></script>
 * <script defer src="https://analytics.example.com/t.js" data-site="shop.example.com"></script>
 * <script>window.track=window.track||function(){(track.q=track.q||[]).push(arguments)}</script>
 * <script>track('feature_used', {feature_name: 'export'})</script>
 */
import { BROWSER_TYPES } from '../events/browser-types.ts'
import { DOWNLOAD, LOCAL, otherParams, scrub } from './page.ts'

type Props = Record<string, unknown>

interface Track {
  (type: string, props?: unknown): void
  /** calls the stub queued before the script ran */
  q?: Iterable<[string, unknown]>
  identify?: (id: unknown) => void
}

const d = document as Document & { prerendering?: boolean }
const n = navigator as Navigator & { globalPrivacyControl?: boolean }
const loc = location

const stub = (window as { track?: Track }).track
// A second copy of the script leaves the first in charge.
if (!stub?.identify)
  try {
    const script = d.currentScript as HTMLScriptElement
    const data = script.dataset
    // `e` next to the script, so a same-origin proxy path (`/stats/t.js` → `/stats/e`) works as is;
    // data-site names the site (a domain or an id) where the page's own host does not
    const api = new URL(data.api || 'e', script.src)
    if (data.site) api.searchParams.set('site', data.site)
    // data-query lists them separated by anything but letters, digits and `_`
    const unkept = otherParams((data.query || '').replace(/\W+/g, '|'))
    // the page a view counts under: path, kept query parameters in URL order, fragment if routed by it
    const key = () =>
      scrub(loc.pathname + loc.search.replace(unkept, '').replace(/./, '?') + ('hash' in data ? loc.hash : ''))
    const queue: Props[] = []
    let user: string | undefined
    let last: string | undefined

    const log = 'debug' in data ? console.log : () => {}
    const flush = () => {
      try {
        // Why nothing is sent, named after the setting responsible (debug mode logs it). Checked at
        // send time: a page may set analytics_ignore while it is open.
        let reason =
          !('allowLocal' in data) && (n.webdriver || LOCAL.test(loc.hostname))
            ? 'allowLocal'
            : 'respectDnt' in data && (n.doNotTrack === '1' || n.globalPrivacyControl)
              ? 'respectDnt'
              : ''
        try {
          if (localStorage.analytics_ignore === '1') reason = 'analytics_ignore'
        } catch {}
        // a prerendered page the user never sees sends nothing; once shown, everything queued goes
        while (!d.prerendering && queue.length) {
          // small batches stay far below the endpoint's 50-event, 8 KB limits
          const batch = queue.splice(0, 9)
          const body = JSON.stringify(batch)
          log(reason, batch)
          if (!reason && !n.sendBeacon?.(api, body)) fetch(api, { method: 'POST', body, keepalive: true }).catch(log)
        }
      } catch {}
    }

    const track: Track = (type: string, props?: unknown) => {
      try {
        // One unknown type would get the whole batch refused, with the events queued beside it.
        if ((BROWSER_TYPES as readonly string[]).includes(type)) {
          queue.push({ event_type: type, properties: { path: key(), ...(props as Props) }, user_id: user })
          // one flush per task takes everything queued in it; the later ones find nothing left
          setTimeout(flush)
        }
      } catch {}
    }
    track.identify = (id) => (user = (id as string) || undefined)

    const view = (e?: PageTransitionEvent) => {
      const k = key()
      // a page restored from the back/forward cache is a new view of the same page
      if (k !== last || e?.persisted) {
        // The page load's first view says where the visitor came from (the server counts it as a
        // visit unless the referrer is the site's own page); later views of the load carry nothing.
        // Neither does a reload or a back/forward navigation that loads the page again: no new
        // arrival, though Chromium keeps the first load's referrer for both. `performance.navigation`
        // is the first Navigation Timing API: deprecated, in every engine, and some 25 bytes
        // (gzipped) shorter than `getEntriesByType('navigation')[0].type`.
        track(
          'page_view',
          !last &&
            !performance.navigation?.type && {
              // the whole URL as the browser gives it: the server keeps only its host
              referrer: d.referrer,
              // The campaign, whatever data-query keeps in paths: the three values, decoded.
              // Campaign names are no secrets, and many (`black_friday_2024`) would look like
              // tokens to scrub(), so only e-mail addresses become `:x`.
              ...Object.fromEntries(
                new URLSearchParams(
                  loc.search
                    .replace(otherParams('utm_(source|medium|campaign)'), '')
                    .replace(/[^/?&=]+(@|%40)[^/?&=]+/g, ':x'),
                ),
              ),
            },
        )
        last = k
      }
    }

    // Capture phase on window: it sees events aimed at the document too, and no page handler can
    // stop them first. Nothing is ever prevented, so Ctrl/Cmd-click, middle-click and
    // target=_blank behave as without the tracker.
    const listen = (types: string, f: (e: never) => unknown) => {
      for (const type of types.split(' ')) addEventListener(type, f as EventListener, true)
    }
    listen('popstate pageshow', view)
    // Flushing early is harmless, so any visibility change will do; a prerendered page sends what
    // it queued (its first view included) once it is shown.
    listen('pagehide visibilitychange prerenderingchange', flush)
    listen('click auxclick', (e: MouseEvent) => {
      const target = e.target as Element
      // the nearest element that says what a click on it means, else the link clicked
      const el = target.closest?.<HTMLElement>('[data-track]')
      const a = target.closest?.('a')
      // `click` covers the main button (and Ctrl/Cmd-click), `auxclick` the middle one
      if (e.button < 2)
        el
          ? track(el.dataset.track || 'feature_used', { feature_name: el.dataset.feature })
          : 'downloads' in data && DOWNLOAD.test(a?.pathname as string)
            ? // the file's name: what follows the last `/`
              track('asset_downloaded', { feature_name: scrub(a!.pathname.replace(/.*\//, '')) })
            : 'outbound' in data &&
              a?.hostname &&
              a.hostname !== loc.hostname &&
              track('feature_used', { feature_name: `outbound:${a.hostname}` })
    })

    for (const method of ['pushState', 'replaceState'] as const) {
      const original = history[method]
      history[method] = (...args: Parameters<History['pushState']>) => {
        original.apply(history, args)
        view()
      }
    }

    ;(window as { track?: Track }).track = track
    for (const args of stub?.q || []) track(...args)
    view()
  } catch {}
