/**
 * Every limit on what a client may send, in one place: the schema, its fast path, the body
 * readers, and the read routes' checks of user ids all use these.
 */

/** Bytes of a `POST /e` body. */
export const BEACON_MAX_BYTES = 8 * 1024
/** Bytes of a `POST /analytics/events` body. */
export const INGEST_MAX_BYTES = 1024 * 1024
/** Events in one beacon. */
export const MAX_BEACON_EVENTS = 50
/** Events in one server batch. */
export const MAX_SERVER_EVENTS = 1000

/** Characters of a user id (string form). */
export const MAX_USER_ID_LENGTH = 128
/** Characters of a feature name. */
export const MAX_FEATURE_NAME_LENGTH = 100
/** Characters of a page path as sent (a full URL is allowed; it is reduced to its path). */
export const MAX_RAW_PATH_LENGTH = 2048
/** Characters of a page path as counted, after normalization. */
export const MAX_PATH_LENGTH = 512
/** Characters of any other string property. */
export const MAX_PROPERTY_LENGTH = 1000
/** Properties of one event. */
export const MAX_PROPERTIES = 32
/**
 * Characters of a referrer URL: what browsers themselves send at most (Chromium and Firefox cut a
 * longer referrer to its origin), so a page load's first view is never refused for its referrer.
 */
export const MAX_REFERRER_LENGTH = 4096
/** Characters of a page host a server batch sends (the longest DNS name). */
export const MAX_HOSTNAME_LENGTH = 253
/**
 * Characters a dimension value keeps (UTM values, counted properties): longer ones are cut.
 * Enough for any campaign name people type, small enough for a counter's field.
 */
export const MAX_DIMENSION_VALUE_LENGTH = 100
/** Characters of a timestamp string. */
export const MAX_TIMESTAMP_LENGTH = 40
/** Characters of a server event's `client_ip`: the longest IPv6 text (`ffff:…:255.255.255.255`). */
export const MAX_CLIENT_IP_LENGTH = 45
/**
 * Characters of a server event's `user_agent`: what proxies take in one header line (nginx's
 * default `large_client_header_buffers` is 8 KB), so any User-Agent that reached a back end
 * through one fits, and a batch is never refused for one of its visitors' browsers. Browsers send
 * 100 to 400.
 */
export const MAX_CLIENT_USER_AGENT_LENGTH = 8192

/** How old a server event's timestamp may be. */
export const MAX_TIMESTAMP_AGE_MS = 30 * 86_400_000
/** How far ahead of the receive time a server event's timestamp may be. */
export const MAX_TIMESTAMP_SKEW_MS = 5 * 60_000

/**
 * No control characters: they have no place in ids, names or paths, break log lines, and
 * Postgres refuses NUL in text.
 */
export const PRINTABLE_PATTERN = '^[^\\u0000-\\u001f\\u007f]*$'
const PRINTABLE = new RegExp(PRINTABLE_PATTERN)
/** Every control character, for removing them from values that are counted as they are. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it matches
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/g

/** A string of 0 to `maxLength` UTF-16 units without control characters. */
export const isPrintable = (v: unknown, maxLength: number): v is string =>
  typeof v === 'string' && v.length <= maxLength && PRINTABLE.test(v)

/** A string of 1 to `maxLength` UTF-16 units without control characters. */
export const isText = (v: unknown, maxLength: number): v is string =>
  typeof v === 'string' && v.length >= 1 && v.length <= maxLength && PRINTABLE.test(v)

/**
 * The rule for a user id given as a string, wherever one comes from: an event's `user_id`, a
 * JWT's `sub`, a read's `:id`. What an event may carry, a read may look up, and nothing else.
 *
 * @example
 * isUserId('u_123') // true
 * isUserId('u\u0000') // false
 */
export const isUserId = (v: unknown): v is string => isText(v, MAX_USER_ID_LENGTH)

/** {@link isUserId}'s rule, for reasons given to clients. */
export const USER_ID_RULE = `1-${MAX_USER_ID_LENGTH} characters, none of them control characters`
