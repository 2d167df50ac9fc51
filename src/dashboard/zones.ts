/**
 * Time zones under their IANA names. A browser resolves every zone name to its canonical one,
 * but Chromium's canonical names are CLDR's, which kept names IANA has since renamed
 * (`Asia/Calcutta` for Asia/Kolkata, `Europe/Kiev` for Europe/Kyiv): the runtime resolves any
 * alias, and the few CLDR names left behind are mapped here. A browser whose runtime already
 * answers IANA names never meets them.
 *
 * @example
 * ianaZone('Asia/Calcutta') // 'Asia/Kolkata'
 * ianaZone('US/Eastern') // 'America/New_York' (resolved by the runtime)
 * ianaZone('Mars/Olympus') // undefined
 */
import { canonicalTimeZone } from '../time.ts'

/** CLDR's canonical ids whose IANA name differs (CLDR's timezone.xml, its `iana` attribute). */
const IANA_NAMES: Readonly<Record<string, string>> = {
  'Africa/Asmera': 'Africa/Asmara',
  'America/Buenos_Aires': 'America/Argentina/Buenos_Aires',
  'America/Catamarca': 'America/Argentina/Catamarca',
  'America/Coral_Harbour': 'America/Atikokan',
  'America/Cordoba': 'America/Argentina/Cordoba',
  'America/Godthab': 'America/Nuuk',
  'America/Indianapolis': 'America/Indiana/Indianapolis',
  'America/Jujuy': 'America/Argentina/Jujuy',
  'America/Louisville': 'America/Kentucky/Louisville',
  'America/Mendoza': 'America/Argentina/Mendoza',
  'Asia/Calcutta': 'Asia/Kolkata',
  'Asia/Katmandu': 'Asia/Kathmandu',
  'Asia/Rangoon': 'Asia/Yangon',
  'Asia/Saigon': 'Asia/Ho_Chi_Minh',
  'Atlantic/Faeroe': 'Atlantic/Faroe',
  'Europe/Kiev': 'Europe/Kyiv',
  'Pacific/Enderbury': 'Pacific/Kanton',
  'Pacific/Ponape': 'Pacific/Pohnpei',
  'Pacific/Truk': 'Pacific/Chuuk',
}

/** The IANA name of a zone in any spelling, or undefined for one this browser does not know. */
export function ianaZone(tz: string): string | undefined {
  const zone = canonicalTimeZone(tz)
  return zone && (IANA_NAMES[zone] ?? zone)
}

/** The browser's own zone, by its IANA name. */
export const browserZone = (): string => {
  const own = Intl.DateTimeFormat().resolvedOptions().timeZone
  return ianaZone(own) ?? own
}

/** Every zone the browser knows, each once by its IANA name, in order. */
export const allZones = (): string[] =>
  [...new Set(Intl.supportedValuesOf('timeZone').map((z) => ianaZone(z) ?? z))].sort()
