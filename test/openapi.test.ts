/**
 * `GET /openapi`: the document is checked against the app's own route table, resolved through
 * every `$ref`, and held to the real behaviour of a few of the constraints it states.
 */
import { describe, expect, test } from 'bun:test'
import { testApp } from './app.ts'

const ADMIN = { authorization: 'Bearer test-admin-token-0123456789' }
const INGEST = { authorization: 'Bearer test-ingest-token-0123456789' }
const PAGES = ['/', '/dashboard', '/dashboard.js', '/dashboard.css', '/live', '/live.js', '/live.css', '/t.js']
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

// biome-ignore lint/suspicious/noExplicitAny: the document is JSON read by path
type Json = any

const get = (path: string, headers: Record<string, string> = ADMIN) =>
  new Request(`http://localhost${path}`, { headers })

async function load(countedProperties: string[] = []) {
  const ctx = await testApp({ openapi: true, viewerToken: 'test-viewer-token-0123456789', countedProperties })
  const res = await ctx.app.handle(get('/openapi', {}))
  expect(res.status).toBe(200)
  return { ...ctx, doc: (await res.json()) as Json }
}

/** Every `$ref` in `value`, with where it was found. */
function refs(value: Json, at = '#'): [string, string][] {
  if (typeof value !== 'object' || value === null) return []
  return Object.entries(value).flatMap(([key, v]) =>
    key === '$ref' && typeof v === 'string' ? [[at, v] as [string, string]] : refs(v, `${at}/${key}`),
  )
}

/** The target of a local JSON pointer, or undefined. */
const resolve = (doc: Json, pointer: string): Json =>
  pointer
    .slice(2)
    .split('/')
    .reduce((node, part) => node?.[part.replaceAll('~1', '/').replaceAll('~0', '~')], doc)

const operations = (doc: Json): [string, string, Json][] =>
  Object.entries(doc.paths as Record<string, Json>).flatMap(([path, item]) =>
    Object.entries(item as Record<string, Json>)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => [path, method, op] as [string, string, Json]),
  )

const parameter = (op: Json, name: string) => op.parameters.find((p: Json) => p.name === name)

describe('the OpenAPI document', () => {
  test('is OpenAPI 3.1 with every JSON route of the route table, and leaves out only the pages', async () => {
    const { app, doc } = await load()
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/)
    expect(doc.info.title).toBe('edge-analytics')
    expect(typeof doc.info.version).toBe('string')
    const documented = new Set(operations(doc).map(([path, method]) => `${method.toUpperCase()} ${path}`))
    const left: string[] = []
    for (const route of app.elysia.routes) {
      if (route.method === 'OPTIONS') continue
      const key = `${route.method} ${route.path.replace(/:([^/]+)/g, '{$1}')}`
      if (!documented.has(key)) left.push(route.path)
    }
    expect(left.sort()).toEqual([...PAGES].sort())
    // /e is served outside Elysia, and is in the document all the same
    for (const method of ['post', 'get', 'options']) expect(doc.paths['/e'][method]).toBeDefined()
  })

  test('each operation has a summary, responses with descriptions, a known security and its parameters', async () => {
    const { doc } = await load()
    const schemes = Object.keys(doc.components.securitySchemes)
    expect(schemes.sort()).toEqual(['admin', 'ingest', 'user', 'viewer'])
    for (const scheme of Object.values(doc.components.securitySchemes) as Json[]) {
      expect(scheme).toMatchObject({ type: 'http', scheme: 'bearer' })
    }
    const ids = new Set<string>()
    for (const [path, method, op] of operations(doc)) {
      const where = `${method} ${path}`
      expect(typeof op.summary, where).toBe('string')
      expect(typeof op.operationId, where).toBe('string')
      expect(ids.has(op.operationId), where).toBe(false)
      ids.add(op.operationId)
      expect(Array.isArray(op.security), where).toBe(true)
      for (const requirement of op.security)
        for (const name of Object.keys(requirement)) expect(schemes).toContain(name)
      const statuses = Object.keys(op.responses)
      expect(statuses.length, where).toBeGreaterThan(0)
      for (const status of statuses) {
        expect(status, where).toMatch(/^[1-5]\d\d$/)
        expect(typeof op.responses[status].description, where).toBe('string')
        for (const media of Object.values(op.responses[status].content ?? {}) as Json[])
          expect(media.schema).toBeDefined()
      }
      // every error answer is the JSON error body (or, for invalid events, its longer form);
      // /readyz's 503 is its report, naming what failed
      for (const status of statuses.filter((s) => Number(s) >= 400 && path !== '/readyz')) {
        const schema = op.responses[status].content['application/json'].schema.$ref
        expect(['#/components/schemas/Error', '#/components/schemas/InvalidEvents'], where).toContain(schema)
      }
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!)
      for (const name of templated) expect(parameter(op, name), where).toMatchObject({ in: 'path', required: true })
      for (const p of op.parameters ?? []) {
        expect(['query', 'path'], where).toContain(p.in)
        expect(p.schema, `${where} ${p.name}`).toBeDefined()
      }
    }
  })

  test('security: reads take admin or viewer, flush, held batches and metrics admin only', async () => {
    const { doc } = await load()
    const security = (path: string, method = 'get') => doc.paths[path][method].security
    const read = [{ admin: [] }, { viewer: [] }]
    for (const path of [
      '/analytics/stats',
      '/analytics/top',
      '/analytics/dashboard',
      '/analytics/users/{id}',
      '/analytics/live',
    ])
      expect(security(path)).toEqual(read)
    for (const [path, method] of [
      ['/analytics/flush', 'post'],
      ['/analytics/flush/held', 'get'],
      ['/analytics/flush/held/{batch}', 'get'],
      ['/analytics/flush/held/{batch}', 'delete'],
      ['/analytics/flush/held/{batch}/retry', 'post'],
      ['/metrics', 'get'],
    ] as const)
      expect(security(path, method)).toEqual([{ admin: [] }])
    expect(security('/analytics/events', 'post')).toEqual([{ ingest: [] }])
    expect(security('/analytics/me')).toEqual([{ user: [] }])
    for (const path of ['/healthz', '/readyz', '/openapi']) expect(security(path)).toEqual([])
    expect(security('/e', 'post')).toEqual([])
  })

  test('components.schemas hold the bodies and answers, and every $ref resolves', async () => {
    const { doc } = await load()
    const names = Object.keys(doc.components.schemas)
    for (const name of ['Error', 'InvalidEvents', 'Event', 'BrowserEvent', 'Beacon', 'EventBatch', 'Stats', 'Top'])
      expect(names).toContain(name)
    const found = refs(doc)
    expect(found.length).toBeGreaterThan(20)
    for (const [at, target] of found) {
      expect(target, at).toStartWith('#/')
      expect(resolve(doc, target), `${at} → ${target}`).toBeDefined()
    }
    // the request bodies are the validator's event schema
    expect(doc.paths['/analytics/events'].post.requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/EventBatch',
    })
    expect(doc.paths['/e'].post.requestBody.content['text/plain'].schema).toEqual({
      $ref: '#/components/schemas/Beacon',
    })
    const event = doc.components.schemas.Event
    expect(event.additionalProperties).toBe(false)
    expect(event.required).toEqual(['event_type'])
    expect(event.properties.properties.properties.feature_name).toMatchObject({ minLength: 1, maxLength: 100 })
  })

  test('the constraints it states are the ones the routes enforce', async () => {
    const { app, doc } = await load(['plan'])
    const answer = async (path: string, headers: Record<string, string> = ADMIN) =>
      (await app.handle(get(path, headers))).status

    const stats = doc.paths['/analytics/stats'].get
    for (const name of ['metric', 'granularity', 'format']) {
      const { schema } = parameter(stats, name)
      for (const value of schema.enum) {
        // a conversion metric names its goal
        const goal = value.startsWith('conversion') ? '&goal=user_signup' : ''
        expect(await answer(`/analytics/stats?${name}=${value}${goal}`), value).toBe(200)
      }
      expect(await answer(`/analytics/stats?${name}=nope`)).toBe(422)
    }
    expect(parameter(stats, 'from').schema.pattern).toBeDefined()
    expect(await answer('/analytics/stats?from=2026-1-1')).toBe(422)

    const top = doc.paths['/analytics/top'].get
    // the dimensions follow COUNTED_PROPERTIES
    expect(parameter(top, 'dimension').schema.enum).toContain('prop:plan')
    expect(await answer('/analytics/top?dimension=prop:plan')).toBe(200)
    expect(await answer('/analytics/top?dimension=prop:other')).toBe(422)
    const limit = parameter(top, 'limit').schema
    expect(limit).toMatchObject({ type: 'integer', minimum: 1, maximum: 100 })
    expect(await answer(`/analytics/top?limit=${limit.maximum}`)).toBe(200)
    expect(await answer(`/analytics/top?limit=${limit.maximum + 1}`)).toBe(422)
    expect(await answer(`/analytics/top?limit=${limit.minimum - 1}`)).toBe(422)

    const id = parameter(doc.paths['/analytics/users/{id}'].get, 'id').schema
    expect(await answer(`/analytics/users/${'u'.repeat(id.maxLength)}`)).toBe(200)
    expect(await answer(`/analytics/users/${'u'.repeat(id.maxLength + 1)}`)).toBe(422)

    const batch = parameter(doc.paths['/analytics/flush/held/{batch}'].get, 'batch').schema
    expect(new RegExp(batch.pattern).test('NOT_AN_ID')).toBe(false)
    expect(await answer('/analytics/flush/held/NOT_AN_ID')).toBe(422)
    expect(await answer('/analytics/flush/held/no-such-batch')).toBe(404)
    // the token is checked first: without one, 401 whatever the parameters
    expect(await answer('/analytics/flush/held/NOT_AN_ID', {})).toBe(401)
    expect(await answer('/analytics/stats?granularity=nope', {})).toBe(401)

    // a server-only type is outside the beacon's enum, and the beacon refuses it
    const browserTypes: string[] = doc.components.schemas.BrowserEvent.properties.event_type.enum
    const serverOnly = (doc.components.schemas.Event.properties.event_type.enum as string[]).find(
      (type) => !browserTypes.includes(type),
    )
    expect(serverOnly).toBeDefined()
    const { beaconRequest, ingestRequest } = await import('./app.ts')
    expect((await app.handle(beaconRequest({ event_type: serverOnly }))).status).toBe(422)
    expect((await app.handle(beaconRequest({ event_type: browserTypes[0] }))).status).toBe(202)
    const { maxItems } = doc.components.schemas.EventBatch
    const batchOf = (n: number) => Array.from({ length: n }, () => ({ event_type: 'user_login', user_id: 'u' }))
    expect((await app.handle(ingestRequest(batchOf(maxItems + 1)))).status).toBe(422)
    expect((await app.handle(ingestRequest(batchOf(maxItems), { headers: INGEST }))).status).toBe(202)

    // a server event may carry the browser's address and User-Agent, within the bounds stated; a beacon may not
    const { client_ip: ip, user_agent: ua } = doc.components.schemas.Event.properties
    expect(ip.anyOf.map((s: { format: string }) => s.format)).toEqual(['ipv4', 'ipv6'])
    expect(doc.components.schemas.BrowserEvent.properties.client_ip).toBeUndefined()
    expect(doc.components.schemas.BrowserEvent.properties.user_agent).toBeUndefined()
    const signup = (userAgent: string) => [
      { event_type: 'user_signup', client_ip: '203.0.113.1', user_agent: userAgent },
    ]
    expect((await app.handle(ingestRequest(signup('x'.repeat(ua.maxLength)), { headers: INGEST }))).status).toBe(202)
    expect((await app.handle(ingestRequest(signup('x'.repeat(ua.maxLength + 1)), { headers: INGEST }))).status).toBe(
      422,
    )
    expect((await app.handle(beaconRequest({ event_type: 'page_view', client_ip: '203.0.113.1' }))).status).toBe(422)
  })
})
