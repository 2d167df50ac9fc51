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
