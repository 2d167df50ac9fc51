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

export function pageConfig(doc: Document): PageConfig {
  return {
    timeZone: canonicalTimeZone(meta(doc, 'time-zone') || 'UTC') ?? 'UTC',
    countedProperties: meta(doc, 'counted-properties')
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean),
  }
}
