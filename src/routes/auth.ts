/**
 * Bearer-token checks. Tokens are compared in constant time (over their SHA-256 digests, so the
 * length does not leak either); a route whose token is not configured refuses everyone.
 */
import { timingSafeEqual } from 'node:crypto'
import { errors as joseErrors, jwtVerify } from 'jose'
import { HttpError } from '../errors.ts'
import { isUserId, USER_ID_RULE } from '../events/limits.ts'

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

/**
 * The tokens that open the service's own routes: ADMIN_TOKEN everywhere, VIEWER_TOKEN to look at
 * every site, and a site's shared links to look at that site (`link`: the site a token is a shared
 * link of, src/sites/registry.ts).
 */
export interface Tokens {
  admin?: string
  viewer?: string
  link?: (token: string) => number | undefined
}

/** Who a request's token says it is: the admin, a viewer of every site, or a shared link of one. */
export type Access = { role: 'admin' | 'viewer' } | { role: 'link'; site: number }

/** What a route needs: `read` (the reads, the live feed and the pages' data) or `admin` (everything). */
export type Need = 'read' | 'admin'

const challenge = { 'www-authenticate': 'Bearer' }

/**
 * Who the request's bearer token (or, where a client cannot set headers, `queryToken`) is, when it
 * may do what the route needs; else throws: 401 without a token or with an unknown one, 403 for a
 * viewer token or a shared link on a route that needs the admin token. Both tokens are compared,
 * each in constant time, and a shared link by its digest (registry.ts). Which site a shared link
 * may read is the route's to check (site-param.ts).
 */
export function requireAccess(request: Request, tokens: Tokens, need: Need, queryToken?: string | null): Access {
  const viewer = need === 'read' ? tokens.viewer : undefined
  const given = bearerToken(request) ?? queryToken ?? undefined
  // without either token the route says it is disabled, to all but a shared link made before
  if (!tokens.admin && !viewer) {
    const site = given === undefined ? undefined : tokens.link?.(given)
    if (site !== undefined && need === 'read') return { role: 'link', site }
    const variables = need === 'read' ? 'ADMIN_TOKEN or VIEWER_TOKEN' : 'ADMIN_TOKEN'
    throw new HttpError(401, `this route is disabled until ${variables} is configured`)
  }
  if (!given) {
    const how =
      queryToken === undefined ? 'Authorization: Bearer token' : 'token: send Authorization: Bearer <token> or ?token='
    throw new HttpError(401, `missing ${how}`, undefined, challenge)
  }
  const isAdmin = tokenMatches(given, tokens.admin)
  const isViewer = tokenMatches(given, tokens.viewer)
  if (isAdmin) return { role: 'admin' }
  if (isViewer && need === 'read') return { role: 'viewer' }
  if (isViewer) throw new HttpError(403, 'the viewer token can only read: this route needs ADMIN_TOKEN')
  const site = tokens.link?.(given)
  if (site !== undefined && need === 'read') return { role: 'link', site }
  if (site !== undefined) throw new HttpError(403, 'a shared link can only read its site: this route needs ADMIN_TOKEN')
  throw new HttpError(401, 'invalid token', undefined, challenge)
}

/**
 * Throws 401 unless the request carries `expected` as its bearer token; 403 when it carries one
 * of `refused.tokens` instead (a token of this service that may not do this), saying why.
 */
export function requireToken(
  request: Request,
  expected: string | undefined,
  variable: string,
  refused: { tokens: (string | undefined)[]; reason: string } = { tokens: [], reason: '' },
): void {
  if (!expected) throw new HttpError(401, `this route is disabled until ${variable} is configured`)
  const given = bearerToken(request)
  if (!given) throw new HttpError(401, 'missing Authorization: Bearer token', undefined, challenge)
  const matches = tokenMatches(given, expected)
  const isRefused = refused.tokens.map((token) => tokenMatches(given, token)).includes(true)
  if (matches) return
  if (isRefused) throw new HttpError(403, refused.reason)
  throw new HttpError(401, 'invalid token', undefined, challenge)
}

/**
 * Verifies a user's HS256 JWT (`exp` honoured, `sub` = user id) and returns the user id; 401
 * with the reason otherwise.
 */
export async function requireUser(request: Request, secret: string | undefined): Promise<string> {
  if (!secret) throw new HttpError(401, 'this route is disabled until USER_JWT_SECRET is configured')
  const token = bearerToken(request)
  if (!token)
    throw new HttpError(401, 'missing Authorization: Bearer token', undefined, { 'www-authenticate': 'Bearer' })
  try {
    // exp is required: a token that never expires is not one to accept for per-user data
    const { payload } = await jwtVerify(token, secretKey(secret), { algorithms: ['HS256'], requiredClaims: ['exp'] })
    if (typeof payload.sub !== 'string' || payload.sub === '')
      throw new HttpError(401, 'token has no usable sub (user id)')
    if (!isUserId(payload.sub)) throw new HttpError(401, `token sub (user id) must be ${USER_ID_RULE}`)
    return payload.sub
  } catch (err) {
    if (err instanceof HttpError) throw err
    const reason =
      err instanceof joseErrors.JWTExpired
        ? 'token has expired'
        : err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'exp'
          ? 'token must carry an exp (expiry) claim'
          : err instanceof joseErrors.JWSSignatureVerificationFailed
            ? 'token signature is invalid'
            : err instanceof joseErrors.JOSEAlgNotAllowed
              ? 'token must be signed with HS256'
              : 'token is malformed or not valid yet'
    throw new HttpError(401, reason, undefined, { 'www-authenticate': 'Bearer error="invalid_token"' })
  }
}

let encoded: { secret: string; key: Uint8Array } | undefined
function secretKey(secret: string): Uint8Array {
  if (encoded?.secret !== secret) encoded = { secret, key: new TextEncoder().encode(secret) }
  return encoded.key
}
