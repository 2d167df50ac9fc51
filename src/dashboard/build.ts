/**
 * Builds the dashboard's `public/dashboard.js` (one minified IIFE of src/dashboard/main.tsx, with
 * Preact and uPlot in it) and `public/dashboard.css` (src/dashboard/style.css with uPlot's
 * styles), and the live screen's `public/live.js` (src/live-screen/main.ts, which shares the
 * dashboard's token, feed and labels modules). All are committed, as `public/t.js` is: the server
 * needs no build step, and tests call {@link buildDashboard} and {@link buildLiveScreen} to check
 * the committed files are not stale.
 *
 * @example
 * const { js, css } = await buildDashboard() // the exact texts the committed files must hold
 */
import { join } from 'node:path'
import { DASHBOARD_CSS, DASHBOARD_JS } from '../routes/dashboard.ts'
import { LIVE_JS } from '../routes/live.ts'

const SCRIPT = join(import.meta.dir, 'main.tsx')
const STYLES = join(import.meta.dir, 'style.css')
const LIVE_SCRIPT = join(import.meta.dir, '..', 'live-screen', 'main.ts')

/** At most this much script, gzipped, for the whole page (the budget; a test holds it). */
export const MAX_GZIPPED_JS = 80 * 1024

export async function buildDashboard(): Promise<{ js: string; css: string }> {
  const result = await Bun.build({
    entrypoints: [SCRIPT, STYLES],
    target: 'browser',
    format: 'iife',
    minify: true,
    // the production JSX runtime: the development one adds a source location to every element
    jsx: { runtime: 'automatic', importSource: 'preact', development: false },
  })
  if (!result.success) throw new AggregateError(result.logs, 'dashboard build failed')
  const js = result.outputs.find((o) => o.path.endsWith('.js'))
  const css = result.outputs.find((o) => o.path.endsWith('.css'))
  if (!js || !css) throw new Error('the dashboard build produced no script or no styles')
  return { js: await js.text(), css: await css.text() }
}

export async function buildLiveScreen(): Promise<string> {
  const result = await Bun.build({ entrypoints: [LIVE_SCRIPT], target: 'browser', format: 'iife', minify: true })
  if (!result.success) throw new AggregateError(result.logs, 'live screen build failed')
  const js = result.outputs.find((o) => o.path.endsWith('.js'))
  if (!js) throw new Error('the live screen build produced no script')
  return js.text()
}

export const gzippedSize = (text: string): number => Bun.gzipSync(new TextEncoder().encode(text)).byteLength

if (import.meta.main) {
  const { js, css } = await buildDashboard()
  await Bun.write(DASHBOARD_JS, js)
  await Bun.write(DASHBOARD_CSS, css)
  console.log(`public/dashboard.js: ${js.length} bytes, ${gzippedSize(js)} gzipped`)
  console.log(`public/dashboard.css: ${css.length} bytes, ${gzippedSize(css)} gzipped`)
  const live = await buildLiveScreen()
  await Bun.write(LIVE_JS, live)
  console.log(`public/live.js: ${live.length} bytes, ${gzippedSize(live)} gzipped`)
}
