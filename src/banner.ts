/**
 * What `bun run dev` prints on stdout once it listens: where everything is, with dashboard and
 * live-screen links that sign in by themselves, and a server batch ready to paste into a
 * terminal. The admin token goes in the fragment, which a browser never sends to a server. Only
 * tokens `bun run dev` made are printed: one given in ADMIN_TOKEN or INGEST_TOKEN is the user's
 * secret, and their terminal (or its scrollback, or a recording) is no place to repeat it.
 *
 * @example
 * process.stdout.write(devBanner({ url, token: { value, file }, ingestToken, redisUrl, databaseUrl }))
 */
import { maskUrl } from './config.ts'

/** A token `bun run dev` made, and where it keeps it. */
export interface MadeToken {
  value: string
  file: string
}

export interface BannerInfo {
  /** where the server answers, e.g. http://127.0.0.1:3000 */
  url: string
  /** the admin token `bun run dev` made; absent when ADMIN_TOKEN is set */
  token?: MadeToken
  /** the ingest token `bun run dev` made; absent when INGEST_TOKEN is set */
  ingestToken?: MadeToken
  redisUrl: string
  databaseUrl: string
}

/** The first server batch: one sign-up, as a back end would send it. */
const FIRST_BATCH = '[{"event_type":"user_signup","user_id":"user-1"}]'

/**
 * A curl command that sends {@link FIRST_BATCH}. Without a made token it reads INGEST_TOKEN from
 * the shell, in double quotes so that the shell fills it in; a made token is base64url, which
 * needs no quoting either way.
 */
export function ingestExample(url: string, token: string | undefined): string {
  return (
    `curl -H "authorization: Bearer ${token ?? '$INGEST_TOKEN'}" -H 'content-type: application/json' ` +
    `-d '${FIRST_BATCH}' ${url}/analytics/events`
  )
}

function madeRows(label: string, made: MadeToken | undefined, variable: string): [string, string][] {
  if (!made) return [[label, `from ${variable} (not shown)`]]
  return [
    [label, made.value],
    ['', `kept in ${made.file}; set ${variable} to use another`],
  ]
}

export function devBanner({ url, token, ingestToken, redisUrl, databaseUrl }: BannerInfo): string {
  const signIn = token ? `#token=${encodeURIComponent(token.value)}` : '   (sign in with ADMIN_TOKEN)'
  const rows: [string, string][] = [
    ['tracker', `${url}/t.js`],
    ['beacon', `POST ${url}/e`],
    ['dashboard', `${url}/dashboard${signIn}`],
    ['live screen', `${url}/live${signIn}`],
    ['demo page', `${url}/demo`],
    ['health', `${url}/readyz`],
    ['', ''],
    ...madeRows('admin token', token, 'ADMIN_TOKEN'),
    ...madeRows('ingest token', ingestToken, 'INGEST_TOKEN'),
    ['send events', ingestExample(url, ingestToken?.value)],
    ['redis', maskUrl(redisUrl)],
    ['postgres', maskUrl(databaseUrl)],
  ]
  const lines = rows.map(([label, value]) => (label || value ? `  ${label.padEnd(12)} ${value}` : ''))
  return `\n  edge analytics is running (development)\n\n${lines.join('\n')}\n\n`
}
