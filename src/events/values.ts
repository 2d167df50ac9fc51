/**
 * What a counted value may be. Every value a browser or a sender controls (a path, a host, a
 * source, a UTM value, a feature name, a property value) passes through here before it is
 * counted, so that whatever reaches Redis also fits Postgres: a value Postgres refuses would stop
 * its flush batch (invariant I7). The placeholders a dimension shows instead of a value are named
 * here too, once for the server and the dashboard.
 *
 * @example
 * bounded('/a'.padEnd(5000, '€'), 512)   // 512 characters, at most MAX_VALUE_BYTES bytes
 * hostname('Shop.Example.com.')            // 'shop.example.com'
 * hostname('x'.repeat(300) + '.example')   // undefined: no DNS name is that long
 * scrubEmails('utm=dave@example.com')       // 'utm=:x'
 */
/** A capped value past its day's cap: counted under this name instead. */
export const OTHER = '(other)'
/** What a dimension holds when nothing tells its value. */
export const UNKNOWN = '(unknown)'
/** What a host dimension holds when the sender gave something that is not a host name. */
export const INVALID = '(invalid)'

/**
 * Bytes (UTF-8) of any counted text value. With the characters each kind allows this keeps every
 * stored row far under the 2,704 bytes a Postgres B-tree entry may hold, whatever the characters.
 */
export const MAX_VALUE_BYTES = 1024

const encoder = new TextEncoder()

/**
 * `s` well-formed (a lone surrogate becomes U+FFFD, as it would on its way to Redis anyway) and cut
 * to at most `maxChars` UTF-16 units and {@link MAX_VALUE_BYTES} bytes, never inside a character.
 */
export function bounded(s: string, maxChars: number): string {
  let out = s.isWellFormed() ? s : s.toWellFormed()
  if (out.length > maxChars) out = cut(out, maxChars)
  // a UTF-16 unit is at most 3 bytes: only a long value can be over
  if (out.length * 3 > MAX_VALUE_BYTES) {
    const { read } = encoder.encodeInto(out, new Uint8Array(MAX_VALUE_BYTES))
    if (read < out.length) out = out.slice(0, read)
  }
  return out
}

/** The first `n` units of `s`, one fewer when the n-th would split a surrogate pair. */
function cut(s: string, n: number): string {
  const last = s.charCodeAt(n - 1)
  return s.slice(0, last >= 0xd800 && last <= 0xdbff ? n - 1 : n)
}

/** The longest DNS name. */
const MAX_HOSTNAME_LENGTH = 253
/** DNS labels (letters, digits, `-`, and `_` that some hosts use), dot-separated. */
const DNS_NAME = /^(?!-)[a-z0-9_-]{1,63}(?:\.(?!-)[a-z0-9_-]{1,63})*$/
/** An IPv6 literal as URLs write it. */
const IPV6 = /^\[[0-9a-f:.]{2,45}\]$/

/**
 * A host name as it is counted: lower-case, without a trailing dot, made only of DNS labels
 * (internationalized names in their `xn--` form, as browsers send them) or an IP literal, at most
 * 253 characters; undefined for anything else.
 */
export function hostname(raw: string): string | undefined {
  if (raw.length > MAX_HOSTNAME_LENGTH + 1) return undefined
  let host = raw.toLowerCase()
  if (host.endsWith('.')) host = host.slice(0, -1)
  if (host === '' || host.length > MAX_HOSTNAME_LENGTH) return undefined
  return DNS_NAME.test(host) || IPV6.test(host) ? host : undefined
}

/** Whether a path may hold anything {@link scrubPath} removes: most do not, and skip its work. */
const MAYBE_SECRET = /@|%40|\w{16}/

/**
 * The tracker's `scrub` (src/tracker/page.ts) in linear time: the server applies it again to every
 * path it counts, since a pixel, a hand-made beacon or a back end never ran the tracker. A part of
 * a URL (between `/`, `?`, `&` and `=`) with an `@` or `%40` inside goes whole, as an e-mail
 * address; a run of 16 or more word characters with a digit (a hex or base64 token, a card number)
 * goes too. Both become `:x`. The tracker's one expression is smaller, which counts in the
 * tracker, but it looks ahead from every character, which on a crafted 2,048-character path
 * counts on the server; a test holds the two to the same answers.
 */
export const scrubPath = (s: string): string =>
  !MAYBE_SECRET.test(s)
    ? s
    : s.replace(/[^/?&=]+/g, (p) =>
        /.(@|%40)./.test(p) ? ':x' : p.replace(/\w{16,}/g, (w) => (/\d/.test(w) ? ':x' : w)),
      )

/** A word that is an e-mail address (`%40` for `@` too). */
const EMAIL = /^[^@]+@[^@.]+(\.[^@.]+)+$/

/**
 * `s` with each word that is an e-mail address replaced by `:x`. Paths go through
 * {@link scrubPath}, which also takes long tokens out; a campaign or a feature name may well be a long word
 * with a digit, so other values lose only e-mail addresses. Linear in the length.
 */
export const scrubEmails = (s: string): string =>
  /@|%40/.test(s) ? s.replace(/[^\s/?&=,;:<>()"']+/g, (w) => (EMAIL.test(w.replaceAll(/%40/gi, '@')) ? ':x' : w)) : s
