/**
 * Bearer-token checks. Tokens are compared in constant time (over their SHA-256 digests, so the
 * length does not leak either); a route whose token is not configured refuses everyone.
 */
import { timingSafeEqual } from 'node:crypto'
import { HttpError } from '../errors.ts'

const digest = (s: string) => new Bun.CryptoHasher('sha256').update(s).digest()

export function bearerToken(request: Request): string | undefined {
  const header = request.headers.get('authorization')
  if (!header) return undefined
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return match?.[1]
}

export function tokenMatches(given: string | undefined, expected: string | undefined): boolean {
  if (!given || !expected) return false
  return timingSafeEqual(digest(given), digest(expected))
}

/** Throws 401 unless the request carries `expected` as its bearer token. */
export function requireToken(request: Request, expected: string | undefined, variable: string): void {
  if (!expected) throw new HttpError(401, `this route is disabled until ${variable} is configured`)
  const given = bearerToken(request)
  if (!given)
    throw new HttpError(401, 'missing Authorization: Bearer token', undefined, { 'www-authenticate': 'Bearer' })
  if (!tokenMatches(given, expected))
    throw new HttpError(401, 'invalid token', undefined, { 'www-authenticate': 'Bearer' })
}
