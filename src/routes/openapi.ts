/**
 * `GET /openapi`: the OpenAPI 3.1 document of the JSON routes, built from the app's own route
 * table. Each route says what it takes and answers in its `detail` (see {@link operation}); the
 * parameters and bodies there are the TypeBox schemas the routes check their input with, and the
 * named ones are in `components.schemas` (openapi-schemas.ts). `/e` is served outside Elysia and
 * is described here, from the event validator's schema. Pages and static files (the dashboard,
 * the live screen, the demo page, `/t.js`) hide themselves: they are not an API.
 *
 * The document is built here rather than by @elysiajs/openapi's generator: that one replaces a
 * route's documented path parameters with bare strings unless Elysia validates them itself, which
 * would happen before the route checks the token.
 */
import { Elysia } from 'elysia'
import Type, { type TSchema } from 'typebox'
import { BEACON_MAX_BYTES } from '../events/limits.ts'
import type { RouteEntry } from './methods.ts'
import { ref, SCHEMAS } from './openapi-schemas.ts'

type Schema = TSchema | { $ref: string }

const OBJECT = Type.Object({}, { additionalProperties: true })

/** Who may call a route: OR between the entries of the list, as OpenAPI reads `security`. */
type Security = Record<string, string[]>[]

export const SECURITY: Record<'read' | 'admin' | 'ingest' | 'user' | 'anyone', Security> = {
  /** the reads and the live feed: the admin or the viewer token */
  read: [{ admin: [] }, { viewer: [] }],
  admin: [{ admin: [] }],
  ingest: [{ ingest: [] }],
  user: [{ user: [] }],
  anyone: [],
}

const SECURITY_SCHEMES = {
  admin: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN: every route but ingest' },
  viewer: { type: 'http', scheme: 'bearer', description: 'VIEWER_TOKEN: the reads and the live feed only' },
  ingest: { type: 'http', scheme: 'bearer', description: 'INGEST_TOKEN: POST /analytics/events only' },
  user: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'HS256, sub = user id, exp required' },
}

/** A JSON answer with the named schema. */
export const json = (description: string, schema: keyof typeof SCHEMAS) => ({
  description,
  content: { 'application/json': { schema: ref(schema) } },
})

/** What each error status means, for every route that may answer it. */
const ERRORS: Record<number, string> = {
  400: 'empty, malformed or unfinished body, or an unknown value in a list',
  401: 'no token, an unknown one, or the route is off until its token is configured',
  403: 'a token of this service that may not do this, or an origin not allowed',
  404: 'nothing of that id',
  408: 'the body did not arrive within BODY_TIMEOUT_MS; the connection is closed',
  409: 'it conflicts with what exists: a name taken',
  413: 'the body is too large (checked before it is read)',
  415: 'the body is not of a content type the route takes',
  422: 'a parameter is invalid; `parameter` names it',
  429: 'this address sends faster than RATE_LIMIT_PER_SECOND; see Retry-After',
  503: 'Redis or Postgres unavailable, or the instance at its limit; see Retry-After',
}

/** The error answers at `statuses`, each the JSON error body. */
export const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [status, json(ERRORS[status]!, 'Error')]))

/** Query or path parameters, one per property of an object schema, required as the schema says. */
export function parameters(where: 'query' | 'path', schema: TSchema & { properties: Record<string, TSchema> }) {
  const required = new Set<string>((schema as { required?: string[] }).required ?? [])
  return Object.entries(schema.properties).map(([name, property]) => {
    const { description, ...rest } = property as { description?: string }
    return { name, in: where, required: where === 'path' || required.has(name), description, schema: rest }
  })
}

export interface Operation {
  summary: string
  description?: string
  tags: string[]
  security: Security
  parameters?: ReturnType<typeof parameters>
  requestBody?: { required: boolean; content: Record<string, { schema: Schema }> }
  responses: Record<string, { description: string; content?: Record<string, { schema: Schema }> }>
}

/** A route's OpenAPI operation, as Elysia's route option `detail`. */
export const operation = (op: Operation) => ({ detail: op })

/** `/e`, served outside Elysia (see beacon.ts), described from the event validator's schema. */
/** `?site=` of a beacon: what t.js's data-site sends. */
const SITE_OF_BEACON = {
  name: 'site',
  in: 'query',
  required: false,
  schema: { type: 'string', description: 'the site, by id or domain, where the page’s own host names none' },
}

const beaconPath = {
  post: {
    operationId: 'postBeacon',
    summary: 'Browser beacon',
    description:
      `One event or an array of them, as JSON sent with text/plain (no CORS preflight) or application/json, ` +
      `at most ${BEACON_MAX_BYTES} bytes. Counted at receive time; crawlers get the same 202 and are not counted. ` +
      'Counted for the site `site` names, else the one whose domains hold the page’s host (403 for none, or for a page the site does not allow).',
    tags: ['ingest'],
    security: SECURITY.anyone,
    parameters: [SITE_OF_BEACON],
    requestBody: {
      required: true,
      content: { 'text/plain': { schema: ref('Beacon') }, 'application/json': { schema: ref('Beacon') } },
    },
    responses: {
      202: { description: 'stored; the body is empty' },
      ...errors(400, 403, 408, 413, 415),
      422: json('invalid events; none were counted', 'InvalidEvents'),
      ...errors(429, 503),
    },
  },
  get: {
    operationId: 'getBeacon',
    summary: 'Beacon as a 1×1 GIF, for <img> and pages without JavaScript',
    tags: ['ingest'],
    security: SECURITY.anyone,
    parameters: parameters('query', {
      type: 'object',
      properties: {
        event_type: { ...SCHEMAS.BrowserEvent.properties.event_type, default: 'page_view' },
        path: {
          ...SCHEMAS.BrowserEvent.properties.properties.properties.path,
          description: 'the Referer’s path when absent',
        },
        feature_name: SCHEMAS.BrowserEvent.properties.properties.properties.feature_name,
        site: SITE_OF_BEACON.schema,
      },
    } as unknown as TSchema & { properties: Record<string, TSchema> }),
    responses: {
      200: { description: 'stored', content: { 'image/gif': { schema: { type: 'string', format: 'binary' } } } },
      ...errors(403),
      422: json('invalid event; not counted', 'InvalidEvents'),
      ...errors(429, 503),
    },
  },
  options: {
    operationId: 'optionsBeacon',
    summary: 'CORS preflight of an application/json beacon',
    tags: ['ingest'],
    security: SECURITY.anyone,
    responses: { 204: { description: 'the origin may send' }, ...errors(403) },
  },
}

/** `/api/event`, Plausible's Events API, served beside `/e` (beacon.ts, events/plausible.ts). */
const PlausibleEvent = {
  type: 'object',
  description: "Plausible's Events API body; short names win over long ones",
  properties: {
    n: { type: 'string', maxLength: 120, description: 'the event name (or `name`): `pageview`, or any other' },
    u: { type: 'string', maxLength: 2000, description: 'the page URL (or `url`), http or https' },
    d: { type: 'string', description: 'the domain (or `domain`); required when the URL has no host' },
    r: { type: ['string', 'null'], description: 'the referrer (or `referrer`)' },
    p: {
      description: 'properties (or `props`, `m`, `meta`): an object of scalars, or its JSON text',
      oneOf: [{ type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } }, { type: 'string' }],
    },
    $: {
      type: 'object',
      description: 'revenue (or `revenue`), counted as the properties `revenue` and `currency`',
      properties: { amount: { type: ['string', 'number'] }, currency: { type: 'string' } },
    },
    h: { type: 'integer', enum: [0, 1], description: '1: the URL’s fragment is part of the path (hash-based routing)' },
  },
}

const plausiblePath = {
  post: {
    operationId: 'postPlausibleEvent',
    summary: "Plausible's Events API",
    description:
      `One event as Plausible's tracker and server-side clients send it, as JSON sent with text/plain or ` +
      `application/json, at most ${BEACON_MAX_BYTES} bytes, counted as a beacon from the request's User-Agent ` +
      'and address: `pageview` as a page view, any other name as a feature of that name, `engagement` not counted.',
    tags: ['ingest'],
    security: SECURITY.anyone,
    requestBody: {
      required: true,
      content: { 'text/plain': { schema: PlausibleEvent }, 'application/json': { schema: PlausibleEvent } },
    },
    responses: {
      202: { description: 'stored (or, for `engagement`, not counted); the body is `{}`' },
      400: json(
        "a body Plausible would refuse, or past this service's limits, nothing counted: `errors` names each field " +
          'as Plausible does, `{"<field>": ["<reason>"]}`',
        'Error',
      ),
      ...errors(403, 408, 413, 415, 429, 503),
    },
  },
  options: {
    operationId: 'optionsPlausibleEvent',
    summary: 'CORS preflight of an application/json event',
    tags: ['ingest'],
    security: SECURITY.anyone,
    responses: { 204: { description: 'the origin may send' }, ...errors(403) },
  },
}

interface Route extends RouteEntry {
  hooks?: { detail?: Partial<Operation> & { hide?: boolean } }
}

/** `{name}` for Elysia's `:name`, and an operation id from the method and the path. */
const openapiPath = (path: string) => path.replace(/:([^/]+)/g, '{$1}')
const operationId = (method: string, path: string) =>
  method.toLowerCase() +
  path
    .split(/[/_-]/)
    .filter(Boolean)
    .map((part) =>
      part.startsWith(':') ? `By${part[1]!.toUpperCase()}${part.slice(2)}` : part[0]!.toUpperCase() + part.slice(1),
    )
    .join('')

/** The document of `routes` (an app's route table): every route but OPTIONS and the hidden. */
export function openapiDocument(routes: readonly Route[], beaconPathName: string, plausiblePathName = '/api/event') {
  const paths: Record<string, Record<string, unknown>> = {
    [beaconPathName]: beaconPath,
    [plausiblePathName]: plausiblePath,
  }
  for (const route of routes) {
    const detail = route.hooks?.detail
    if (route.method === 'OPTIONS' || detail?.hide) continue
    const path = openapiPath(route.path)
    paths[path] = paths[path] ?? {}
    paths[path][route.method.toLowerCase()] = { operationId: operationId(route.method, route.path), ...detail }
  }
  return {
    openapi: '3.1.1',
    info: {
      title: 'edge-analytics',
      version: '0.1.0',
      description: 'Privacy-first analytics endpoint: beacons, server batches, exact reads, live counters.',
    },
    tags: [
      { name: 'ingest', description: 'events in' },
      { name: 'reads', description: 'counts out' },
      { name: 'admin', description: 'the flush, held batches and metrics' },
      { name: 'ops', description: 'probes' },
    ],
    paths,
    components: { schemas: SCHEMAS, securitySchemes: SECURITY_SCHEMES },
  }
}

/**
 * Serves the document of `routes()` (read when first asked, so that every route is in it) at
 * `/openapi`.
 */
export const openapi = (routes: () => readonly Route[], beaconPathName: string) => {
  let document: string | undefined
  return new Elysia({ name: 'openapi' }).get(
    '/openapi',
    () => {
      document ??= JSON.stringify(openapiDocument(routes(), beaconPathName))
      return new Response(document, { headers: { 'content-type': 'application/json' } })
    },
    operation({
      summary: 'This document',
      tags: ['ops'],
      security: SECURITY.anyone,
      responses: {
        200: { description: 'the OpenAPI 3.1 document', content: { 'application/json': { schema: OBJECT } } },
      },
    }),
  )
}
