/**
 * Page paths as counted: no query string (except allow-listed parameters), no fragment (except
 * a hash route, `#/…` or `#!…`, which is a page of its own in a hash-routed app), trailing slash
 * folded, e-mail addresses and secrets replaced by `:x` ({@link scrubPath}), at most 512 characters
 * and MAX_VALUE_BYTES bytes. Full URLs are reduced to their path.
 *
 * @example
 * normalizePath('/pricing/?utm_source=x#faq') // '/pricing'
 * normalizePath('/a?ref=hn&x=1', ['ref'])      // '/a?ref=hn'
 * normalizePath('/app/#/settings')             // '/app#/settings'
 * normalizePath('/account/carol@example.com')  // '/account/:x'
 */
import { MAX_PATH_LENGTH } from './limits.ts'
import { bounded, scrubPath } from './values.ts'

export function normalizePath(raw: string, keepParams: readonly string[] = []): string {
  let path = raw.trim()
  if (/^https?:\/\//i.test(path)) {
    try {
      const u = new URL(path)
      path = u.pathname + u.search
    } catch {
      // not a URL after all: treat it as a path
    }
  }
  let route = ''
  const hash = path.indexOf('#')
  if (hash >= 0) {
    const fragment = path.slice(hash)
    if (fragment.startsWith('#/') || fragment.startsWith('#!')) route = fragment
    path = path.slice(0, hash)
  }
  let query = ''
  const q = path.indexOf('?')
  if (q >= 0) {
    if (keepParams.length > 0) {
      const params = new URLSearchParams(path.slice(q + 1))
      const kept = new URLSearchParams()
      for (const name of keepParams) {
        const value = params.get(name)
        if (value !== null) kept.set(name, value)
      }
      const s = kept.toString()
      if (s) query = `?${s}`
    }
    path = path.slice(0, q)
  }
  if (!path.startsWith('/')) path = `/${path}`
  path = path.replace(/\/{2,}/g, '/')
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1)
  return bounded(scrubPath(path + query + route), MAX_PATH_LENGTH)
}
