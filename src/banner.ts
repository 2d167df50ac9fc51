/**
 * What `bun run dev` prints on stdout once it listens: where everything is, with dashboard and
 * live-screen links that sign in by themselves. The token goes in the fragment, which a browser
 * never sends to a server. Only a token `bun run dev` made is printed: one given in ADMIN_TOKEN is the user's
 * secret, and their terminal (or its scrollback, or a recording) is no place to repeat it.
 *
 * @example
 * process.stdout.write(devBanner({ url, token: { value, file }, redisUrl, databaseUrl }))
 */
import { maskUrl } from './config.ts'

export interface BannerInfo {
  /** where the server answers, e.g. http://127.0.0.1:3000 */
  url: string
  /** the admin token `bun run dev` made and where it keeps it; absent when ADMIN_TOKEN is set */
  token?: { value: string; file: string }
  redisUrl: string
  databaseUrl: string
}

export function devBanner({ url, token, redisUrl, databaseUrl }: BannerInfo): string {
  const signIn = token ? `#token=${encodeURIComponent(token.value)}` : '   (sign in with ADMIN_TOKEN)'
  const rows: [string, string][] = [
    ['tracker', `${url}/t.js`],
    ['beacon', `POST ${url}/e`],
    ['dashboard', `${url}/dashboard${signIn}`],
    ['live screen', `${url}/live${signIn}`],
    ['demo page', `${url}/demo`],
    ['health', `${url}/readyz`],
    ['', ''],
  ]
  if (token) rows.push(['admin token', token.value], ['', `kept in ${token.file}; set ADMIN_TOKEN to use another`])
  else rows.push(['admin token', 'from ADMIN_TOKEN (not shown)'])
  rows.push(['redis', maskUrl(redisUrl)], ['postgres', maskUrl(databaseUrl)])
  const lines = rows.map(([label, value]) => (label || value ? `  ${label.padEnd(12)} ${value}` : ''))
  return `\n  edge analytics is running (development)\n\n${lines.join('\n')}\n\n`
}
