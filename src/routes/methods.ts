/**
 * 405 for a path the app serves, asked with a method it does not take. Elysia answers such a
 * request as it answers an unknown path (NOT_FOUND), so the app's error handler asks
 * {@link allowedMethods} whether the path is served at all: the answer comes from the app's own
 * route table, so a new route is covered the day it is added. `/e` is served outside Elysia and
 * answers its own 405 (routes/beacon.ts).
 *
 * @example
 * const allowed = allowedMethods(app.routes)
 * allowed('/analytics/stats') // ['GET', 'HEAD', 'OPTIONS']
 * allowed('/nowhere')         // undefined: a 404
 */
import { HttpError } from '../errors.ts'

/** What a route of the table says: its method and its path, e.g. `GET /analytics/users/:id`. */
export interface RouteEntry {
  method: string
  path: string
}

/** A path pattern as Elysia reads it: `:name` one segment, `*` the rest; a trailing `/` optional. */
function pattern(path: string): RegExp {
  const source = path
    .replace(/\/$/, '')
    .split('/')
    .map((part) => (part === '*' ? '.*' : part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/')
  return new RegExp(`^${source}/?$`)
}

/**
 * The methods a path is served with, or undefined when no route serves it. A catch-all route (the
 * CORS plugin's `OPTIONS /*`) adds its method to a served path's but serves no path by itself:
 * otherwise every unknown path would be "served" and answer 405. HEAD is added where GET is:
 * the server answers it from the GET route.
 */
export function allowedMethods(routes: readonly RouteEntry[]): (path: string) => string[] | undefined {
  const table = routes.map((route) => ({
    method: route.method,
    catchAll: route.path.includes('*'),
    match: pattern(route.path),
  }))
  return (path) => {
    const matching = table.filter((route) => route.match.test(path))
    if (!matching.some((route) => !route.catchAll)) return undefined
    const methods = new Set(matching.map((route) => route.method))
    if (methods.has('GET')) methods.add('HEAD')
    return [...methods].sort()
  }
}

/** The answer to `method` on a path that takes only `allowed`. */
export function methodNotAllowed(method: string, allowed: readonly string[]): HttpError {
  const list = allowed.join(', ')
  return new HttpError(405, `${method} is not allowed on this path; it takes ${list}`, undefined, { allow: list })
}
