/**
 * What the server tells the page in its HTML, so that no read waits for another: the zone whose
 * days every breakdown counts (TIME_ZONE) and the counted properties (COUNTED_PROPERTIES), each
 * of which gets a breakdown. Written by src/routes/dashboard.ts into `<meta>` tags.
 *
 * @example
 * // <meta name="time-zone" content="Europe/Berlin"><meta name="counted-properties" content="plan,variant">
 * pageConfig(document) // { timeZone: 'Europe/Berlin', countedProperties: ['plan', 'variant'] }
 */
import { canonicalTimeZone } from '../time.ts'

export interface PageConfig {
  timeZone: string
  countedProperties: string[]
}

const meta = (doc: Document, name: string): string =>
  doc.querySelector(`meta[name="${name}"]`)?.getAttribute('content')?.trim() ?? ''

/**
 * Whether two zone names are one zone to this browser. Browsers disagree on spelling: Chromium
 * says Asia/Calcutta for Asia/Kolkata and America/New_York for US/Eastern, the server keeps the
 * name it was given.
 */
export function sameZone(a: string, b: string): boolean {
  return a === b || (canonicalTimeZone(a) ?? a) === (canonicalTimeZone(b) ?? b)
}

export function pageConfig(doc: Document): PageConfig {
  const zone = meta(doc, 'time-zone') || 'UTC'
  return {
    // the server's own spelling: it is what the reads compare `tz` with (a browser that does
    // not know the zone at all falls back to UTC)
    timeZone: canonicalTimeZone(zone) ? zone : 'UTC',
    countedProperties: meta(doc, 'counted-properties')
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean),
  }
}
