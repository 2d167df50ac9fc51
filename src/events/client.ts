/**
 * Who sent a visit: a User-Agent → browser, OS and device families, and whether it is a bot.
 * Parsed by bowser (MIT); the bot test is isbot, the same as the beacon's.
 *
 * Families are short and stable, so counters keep their names across versions: bowser's names
 * are kept except those in {@link BROWSERS} and {@link SYSTEMS}, and a name bowser does not know
 * (its last resort takes the first token of any User-Agent, which a script can make up) is
 * `(unknown)`, so every field has a bounded set of values. Devices are `desktop`, `mobile` and
 * `tablet`; TVs, consoles and the rest are `(unknown)`.
 *
 * - An iPad's Safari sends a Mac's User-Agent by default ("desktop site"): it counts as macOS,
 *   desktop, as nothing in the header tells the two apart. An iPad that says so is iOS, tablet.
 * - An Android tablet is a phone's User-Agent without `Mobile`; bowser counts it as a tablet.
 * - Chrome's reduced User-Agent freezes the OS version, not the family: families are right.
 *
 * Records are frozen and shared by every User-Agent that reads the same: callers must not
 * change them. One is remembered per distinct User-Agent, {@link CLIENT_CACHE_SIZE} at most.
 *
 * @example
 * clientInfo('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0')
 * // { bot: false, browser: 'Edge', os: 'Windows', device: 'desktop' }
 * clientInfo('curl/8.5.0') // { bot: true, browser: '(unknown)', os: '(unknown)', device: '(unknown)' }
 */

import { BROWSER_MAP, getParser, OS_MAP } from 'bowser'
import { isbot } from 'isbot'
import { memo } from '../memo.ts'
import { UNKNOWN } from './values.ts'

export interface ClientInfo {
  /** a crawler or other bot (isbot), or an empty User-Agent */
  readonly bot: boolean
  /** family: Chrome, Safari, Firefox, Edge, Samsung Internet, Opera, ... or (unknown) */
  readonly browser: string
  /** family: Windows, macOS, iOS, Android, Linux, ChromeOS, ... or (unknown) */
  readonly os: string
  /** desktop, mobile, tablet or (unknown) */
  readonly device: string
}

/** Distinct User-Agents whose record is remembered. */
export const CLIENT_CACHE_SIZE = 2000
/**
 * Characters of a User-Agent that are read. Browsers send 100 to 400; a longer one is cut to
 * this, parsed each time and not remembered, so a flood of long strings can hold neither memory
 * nor more than this much parsing per request.
 */
export const MAX_USER_AGENT_LENGTH = 1024

/** bowser's browser names that count under another family. */
export const BROWSERS: Readonly<Record<string, string>> = {
  'Microsoft Edge': 'Edge',
  'Samsung Internet for Android': 'Samsung Internet',
  'Opera Coast': 'Opera',
  'Opera Touch': 'Opera',
  'NAVER Whale Browser': 'Whale',
  Miui: 'MIUI Browser',
  Focus: 'Firefox Focus',
  Generic: UNKNOWN,
}

/** bowser's OS names that count under another family. */
export const SYSTEMS: Readonly<Record<string, string>> = {
  'Chrome OS': 'ChromeOS',
  'PlayStation 4': 'PlayStation',
}

const DEVICES = new Set(['desktop', 'mobile', 'tablet'])
const knownBrowsers = new Set<string>(Object.values(BROWSER_MAP))
const knownSystems = new Set<string>(Object.values(OS_MAP))

function family(name: string, renamed: Readonly<Record<string, string>>, known: Set<string>): string {
  return renamed[name] ?? (known.has(name) ? name : UNKNOWN)
}

/** One frozen record per combination: they come from bounded sets, so this map is bounded too. */
const records = new Map<string, ClientInfo>()

function record(bot: boolean, browser: string, os: string, device: string): ClientInfo {
  const key = `${bot}|${browser}|${os}|${device}`
  let info = records.get(key)
  if (info === undefined) {
    info = Object.freeze({ bot, browser, os, device })
    records.set(key, info)
  }
  return info
}

function parse(userAgent: string): ClientInfo {
  if (userAgent === '') return record(true, UNKNOWN, UNKNOWN, UNKNOWN)
  const bot = isbot(userAgent)
  try {
    // browser, OS and platform only: the engine, which parse() also works out, is not needed
    const parser = getParser(userAgent, true)
    const device = parser.getPlatformType()
    return record(
      bot,
      family(parser.getBrowserName(), BROWSERS, knownBrowsers),
      family(parser.getOSName(), SYSTEMS, knownSystems),
      DEVICES.has(device) ? device : UNKNOWN,
    )
  } catch {
    // bowser throws on what it cannot read; that is a client of unknown kind, not an error
    return record(bot, UNKNOWN, UNKNOWN, UNKNOWN)
  }
}

const remembered = memo(CLIENT_CACHE_SIZE, parse)

/** One cached record per distinct User-Agent (bounded; a site's traffic comes from few). */
export function clientInfo(userAgent: string): ClientInfo {
  return userAgent.length <= MAX_USER_AGENT_LENGTH
    ? remembered(userAgent)
    : parse(userAgent.slice(0, MAX_USER_AGENT_LENGTH))
}
