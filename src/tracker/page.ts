/**
 * The pure parts of the tracker: what a page is called when it is counted, which query parameters
 * it keeps, what is scrubbed from it, and which pages never send. Bundled into `public/t.js`;
 * imported directly by unit tests.
 *
 * @example
 * '?q=1&ref=hn&x=2'.replace(otherParams('ref|utm_source'), '') // '&ref=hn'
 * scrub('/reset/jane@example.com')                              // '/reset/:x'
 */

/** Links counted as file downloads by `data-downloads`. */
export const DOWNLOAD = /\.(pdf|zip|csv|xlsx?|docx?|dmg|exe|mp[34])$/i

/**
 * Hosts a developer's own machine answers to: `localhost` and its subdomains, 127.0.0.0/8, `[::1]`,
 * and the empty host of `file:` pages.
 */
export const LOCAL = /^(127\.|\[::1]|$)|localhost$/

/**
 * Replaces what looks like an e-mail address or a secret with `:x`. A secret is a run of 16 or
 * more word characters with a digit in it (hex or base64 tokens, card numbers); slugs are split by
 * dashes, so `/blog/2024-annual-report` survives.
 */
export const scrub = (s: string): string => s.replace(/[^/?&=]+(@|%40)[^/?&=]+|(?=\w*\d)\w{16,}/g, ':x')

/**
 * Matches every query parameter whose name `names` (a regular expression's source) does not
 * match whole, each with its leading `?` or `&`: what a query string keeps once they are removed
 * is the named ones, in URL order. `\b` drops a nameless `?=x` too.
 */
export const otherParams = (names: string): RegExp => RegExp(`[?&](?!\\b(${names})=)[^&]*`, 'g')
