/**
 * Countries by name and flag, from what the browser already has: names from `Intl.DisplayNames`,
 * flags as the pair of regional-indicator letters that emoji fonts draw as a flag. Where no font
 * draws them (Windows, a bare Linux), the two letters would show as boxes or letters, so the page
 * asks the browser once and shows the ISO code in a badge instead.
 *
 * @example
 * flagEmoji('DE') // '🇩🇪'
 * countryName('DE') // 'Germany'
 */
const names = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'code' })

const ISO = /^[A-Z]{2}$/

export const isCountryCode = (code: string): boolean => ISO.test(code)

export function countryName(code: string): string {
  if (!isCountryCode(code)) return code
  try {
    return names.of(code) ?? code
  } catch {
    return code
  }
}

/** The flag of an ISO 3166-1 alpha-2 code, as two regional-indicator symbols. */
export function flagEmoji(code: string): string {
  return String.fromCodePoint(...[...code].map((c) => 0x1f1e6 + c.charCodeAt(0) - 65))
}

let drawn: boolean | undefined

/** Whether this browser draws a flag emoji in colour (asked once, on a 16-pixel canvas). */
export function flagsDrawn(): boolean {
  if (drawn !== undefined) return drawn
  drawn = false
  try {
    const canvas = document.createElement('canvas')
    canvas.width = canvas.height = 16
    const ctx = canvas.getContext('2d', { willReadFrequently: true })
    if (!ctx) return drawn
    ctx.font = '14px sans-serif'
    ctx.textBaseline = 'top'
    ctx.fillText(flagEmoji('DE'), 0, 0)
    const px = ctx.getImageData(0, 0, 16, 16).data
    // a flag has coloured pixels; a box or letters drawn in the fill colour (black) have none
    for (let i = 0; i < px.length; i += 4) {
      if (px[i + 3]! > 0 && (px[i] !== px[i + 1] || px[i + 1] !== px[i + 2])) {
        drawn = true
        break
      }
    }
  } catch {
    // no canvas: badges
  }
  return drawn
}
