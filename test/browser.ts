/**
 * Real Chromium for browser tests, driven by playwright-core. Uses the system's Chromium
 * (Debian: `apt-get install chromium`), never a downloaded browser build. Tests that need it call
 * {@link chromiumPath} and skip with a clear message when it is missing.
 */
import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'

const CANDIDATES = [
  process.env.CHROMIUM_PATH,
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
]

/** Path of a Chromium binary, or undefined when none is installed. */
export function chromiumPath(): string | undefined {
  return CANDIDATES.find((p): p is string => Boolean(p && existsSync(p)))
}

export const NO_CHROMIUM = 'no Chromium found (install the chromium package or set CHROMIUM_PATH); browser test skipped'

/**
 * Launches headless Chromium (playwright gives it a fresh temporary profile), with the flags a
 * machine without network needs, plus `extraArgs`.
 */
export async function launchChromium(
  options: { extraArgs?: string[]; ignoreDefaultArgs?: string[] } = {},
): Promise<Browser> {
  const executablePath = chromiumPath()
  if (!executablePath) throw new Error(NO_CHROMIUM)
  return chromium.launch({
    executablePath,
    headless: true,
    ignoreDefaultArgs: options.ignoreDefaultArgs,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      ...(options.extraArgs ?? []),
    ],
  })
}

/**
 * A page of a new context as the dashboard tests open one (1280×900, UTC, en-US, its clock stopped
 * at `now`), and the errors it reports: uncaught ones, and console errors other than a refused
 * resource (an answer the page expects to be refused).
 */
export async function dashboardPage(browser: Browser, now: number, options: { acceptDownloads?: boolean } = {}) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    timezoneId: 'UTC',
    locale: 'en-US',
    acceptDownloads: options.acceptDownloads,
  })
  const page = await context.newPage()
  page.setDefaultTimeout(15_000)
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(e.message))
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text())
  })
  await page.clock.setFixedTime(now)
  return { context, page, errors }
}
