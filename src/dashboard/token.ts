/**
 * The token the page reads with: asked once and kept in the tab's sessionStorage, or taken from
 * `/dashboard#token=…` (a fragment never reaches a server) and then removed from the address
 * bar. It only ever travels in the `Authorization` header.
 *
 * The key is the live screen's, so its link from here opens signed in.
 */
export const TOKEN_KEY = 'edge-analytics.live-token'

/** fetch throws on a header value outside Latin-1 or with a line break; no retry changes that. */
export function sendable(token: string): boolean {
  if (!token) return false
  try {
    new Headers({ authorization: `Bearer ${token}` })
    return true
  } catch {
    return false
  }
}

/**
 * Moves a `#token=…` of the address into storage. False when the link holds a token the page
 * cannot use (a broken escape, blanks, a character no header carries): it is dropped all the
 * same, and the caller asks for one.
 */
export function takeLinkToken(): boolean {
  const entry = location.hash
    .slice(1)
    .split('&')
    .find((part) => part === 'token' || part.startsWith('token='))
  if (entry === undefined) return true
  history.replaceState(history.state, '', location.pathname + location.search)
  let token: string
  try {
    token = decodeURIComponent(entry.slice('token='.length)).trim()
  } catch {
    return false
  }
  if (!sendable(token)) return false
  sessionStorage.setItem(TOKEN_KEY, token)
  return true
}

export const readToken = (): string | undefined => sessionStorage.getItem(TOKEN_KEY) ?? undefined
export const saveToken = (token: string): void => sessionStorage.setItem(TOKEN_KEY, token)
export const forgetToken = (): void => sessionStorage.removeItem(TOKEN_KEY)
