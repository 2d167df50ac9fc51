/**
 * Sites: the admin routes (add, change, delete, list; the viewer lists), what they refuse (422
 * naming the field, 409 for a domain or name another site has, 404, the default site kept), the
 * registry every instance keeps in memory (a change made on one is seen by another once it
 * watches the version), and `bun run site` from a shell, whose `delete` asks for the site's name.
 */
import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { SiteRegistry } from '../src/sites/registry.ts'
import { apiCall, testApp } from './app.ts'
import { spawnServerProcess } from './server-process.ts'
import { emptyDatabaseUrl } from './services.ts'

type App = Awaited<ReturnType<typeof testApp>>['app']

const ADMIN = { authorization: 'Bearer test-admin-token-0123456789' }
const VIEWER = { authorization: 'Bearer test-viewer-token-0123456789' }

const call = (app: App, method: string, path: string, body?: unknown, headers = ADMIN) =>
  apiCall(app, method, path, body, headers)

describe('/analytics/sites', () => {
  test('add, list, change and delete; the default site first, from the environment', async () => {
    const { app } = await testApp({
      viewerToken: 'test-viewer-token-0123456789',
      timeZone: 'Asia/Kolkata',
      countedProperties: ['plan'],
    })
    const listed = await call(app, 'GET', '/analytics/sites')
    expect(listed.body).toEqual({
      sites: [
        {
          id: 0,
          name: 'default',
          domains: [],
          time_zone: 'Asia/Kolkata',
          allowed_origins: [],
          counted_properties: ['plan'],
        },
      ],
      manage: true,
    })
    const shop = await call(app, 'POST', '/analytics/sites', {
      domains: ['Shop.Example.com', 'www.shop.example.com.'],
      time_zone: 'europe/berlin',
    })
    expect(shop).toMatchObject({
      status: 201,
      body: {
        id: 1,
        name: 'shop.example.com',
        domains: ['shop.example.com'],
        time_zone: 'Europe/Berlin',
        allowed_origins: [],
        counted_properties: [],
      },
    })
    const docs = await call(app, 'POST', '/analytics/sites', { name: 'Docs', domains: ['docs.example.com'] })
    // the deployment's TIME_ZONE by default
    expect(docs.body).toMatchObject({ id: 2, name: 'Docs', time_zone: 'Asia/Kolkata' })
    // changed by domain: only what the body names
    const changed = await call(app, 'PATCH', '/analytics/sites/docs.example.com', {
      allowed_origins: ['https://docs.example.com/'],
      counted_properties: ['tier'],
    })
    expect(changed).toMatchObject({
      status: 200,
      body: { id: 2, name: 'Docs', allowed_origins: ['https://docs.example.com'], counted_properties: ['tier'] },
    })
    // null resets to the default
    expect((await call(app, 'PATCH', '/analytics/sites/2', { counted_properties: null })).body).toMatchObject({
      counted_properties: [],
    })
    // the default site gets settings of its own
    expect((await call(app, 'PATCH', '/analytics/sites/0', { domains: ['example.com'] })).body).toMatchObject({
      id: 0,
      name: 'default',
      domains: ['example.com'],
      time_zone: 'Asia/Kolkata',
    })
    // the viewer lists, and may not change
    const viewed = await call(app, 'GET', '/analytics/sites', undefined, VIEWER)
    expect(viewed.body.manage).toBe(false)
    expect(viewed.body.sites.map((s: { id: number }) => s.id)).toEqual([0, 1, 2])
    expect((await call(app, 'POST', '/analytics/sites', { domains: ['x.example'] }, VIEWER)).status).toBe(403)
    // deleted; its id is free again
    expect((await call(app, 'DELETE', '/analytics/sites/shop.example.com')).status).toBe(204)
    expect((await call(app, 'DELETE', '/analytics/sites/1')).status).toBe(404)
    expect((await call(app, 'POST', '/analytics/sites', { domains: ['new.example.com'] })).body.id).toBe(1)
  })

  test('refusals name the field; a taken domain or name is 409; the default site stays', async () => {
    const { app } = await testApp()
    await call(app, 'POST', '/analytics/sites', { name: 'Shop', domains: ['shop.example.com'] })
    const refused = async (method: string, path: string, body: unknown) => {
      const res = await call(app, method, path, body)
      return [res.status, res.body.field ?? res.body.parameter, res.body.error]
    }
    expect(await refused('POST', '/analytics/sites', {})).toEqual([
      422,
      'domains',
      'domains is required: the host names whose pages count for the site',
    ])
    expect((await refused('POST', '/analytics/sites', { domains: ['a.example', 'not a host'] })).slice(0, 2)).toEqual([
      422,
      'domains[1]',
    ])
    expect(
      (await refused('POST', '/analytics/sites', { domains: ['a.example'], time_zone: 'Mars/Olympus' })).slice(0, 2),
    ).toEqual([422, 'time_zone'])
    expect(
      (
        await refused('POST', '/analytics/sites', {
          domains: ['a.example'],
          allowed_origins: ['https://a.example/path'],
        })
      ).slice(0, 2),
    ).toEqual([422, 'allowed_origins[0]'])
    expect(
      (await refused('POST', '/analytics/sites', { domains: ['a.example'], counted_properties: ['path'] })).slice(0, 2),
    ).toEqual([422, 'counted_properties[0]'])
    expect((await refused('POST', '/analytics/sites', { domains: ['a.example'], colour: 'red' })).slice(0, 2)).toEqual([
      422,
      'colour',
    ])
    expect(
      (await refused('POST', '/analytics/sites', { domains: ['a.example'], name: 'x'.repeat(4000) })).slice(0, 2),
    ).toEqual([422, 'name'])
    expect(await refused('POST', '/analytics/sites', { domains: ['www.shop.example.com'] })).toEqual([
      409,
      'domains[0]',
      'shop.example.com counts for site 1 already',
    ])
    expect((await refused('POST', '/analytics/sites', { name: 'Shop', domains: ['b.example'] })).slice(0, 2)).toEqual([
      409,
      'name',
    ])
    expect((await refused('PATCH', '/analytics/sites/nowhere.example', { name: 'x' })).slice(0, 2)).toEqual([
      404,
      'site',
    ])
    expect((await refused('DELETE', '/analytics/sites/0', undefined)).slice(0, 2)).toEqual([422, 'site'])
    expect((await call(app, 'POST', '/analytics/sites', '[1]')).status).toBe(422)
    expect((await call(app, 'POST', '/analytics/sites', 'not json')).status).toBe(400)
    // nothing refused was stored
    expect((await call(app, 'GET', '/analytics/sites')).body.sites.map((s: { name: string }) => s.name)).toEqual([
      'default',
      'Shop',
    ])
  })
})

describe('the sites in memory', () => {
  test('a change made through one instance is seen by another once it reads the version', async () => {
    const { app, deps } = await testApp()
    const other = new SiteRegistry({
      pool: deps.pool,
      redis: deps.redis,
      key: deps.keys.sites,
      defaults: { timeZone: 'UTC', allowedOrigins: [], countedProperties: [] },
    })
    await other.load()
    expect(other.forHost('shop.example.com')).toBeUndefined()
    expect(other.resolve('0')?.name).toBe('default')
    await call(app, 'POST', '/analytics/sites', { domains: ['shop.example.com'], time_zone: 'Europe/Berlin' })
    // this instance has it at once; the other when it looks
    expect(deps.sites.forHost('www.shop.example.com')?.id).toBe(1)
    expect(await other.refresh()).toBe(true)
    expect(other.forHost('WWW.Shop.Example.com')).toMatchObject({ id: 1, timeZone: 'Europe/Berlin' })
    expect(other.resolve('1')?.domains).toEqual(['shop.example.com'])
    // nothing changed since: no reload
    expect(await other.refresh()).toBe(false)
    await call(app, 'DELETE', '/analytics/sites/1')
    expect(await other.refresh()).toBe(true)
    expect(other.forHost('shop.example.com')).toBeUndefined()
  })
})

describe('bun run site', () => {
  const cli = join(import.meta.dir, '..', 'src', 'site-cli.ts')

  async function run(env: Record<string, string>, args: string[], stdin?: string) {
    const proc = Bun.spawn(['bun', cli, ...args], {
      env: { ...process.env, ...env },
      stdin: stdin === undefined ? 'ignore' : new TextEncoder().encode(stdin),
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ])
    return { out, err, code }
  }

  test('add, list, update and delete; delete asks, and refuses to guess without a terminal', async () => {
    const { deps, config } = await testApp()
    const env = { DATABASE_URL: config.databaseUrl!, REDIS_URL: config.redisUrl!, REDIS_PREFIX: config.redisPrefix }
    const added = await run(env, ['add', 'shop.example.com', 'www.shop.example.com', '--time-zone', 'Europe/Berlin'])
    expect(added).toMatchObject({ code: 0 })
    expect(added.out).toContain('added     1  shop.example.com  domains: shop.example.com  time zone: Europe/Berlin')
    // the running instance reloads on the version the command raised
    expect(await deps.sites.refresh()).toBe(true)
    expect(deps.sites.forHost('shop.example.com')?.timeZone).toBe('Europe/Berlin')

    const updated = await run(env, ['update', 'shop.example.com', '--name', 'Shop', '--properties', 'plan,tier'])
    expect(updated.code).toBe(0)
    expect(updated.out).toContain('counted properties: plan, tier')
    const listed = await run(env, ['list'])
    expect(
      listed.out
        .trim()
        .split('\n')
        .map((l) => l.trim().split('  ')[1]),
    ).toEqual(['default', 'Shop'])

    const bad = await run(env, ['add', 'not a host'])
    expect(bad.code).toBe(1)
    expect(bad.err).toContain('domains[0] "not a host" is not a host name')

    // no terminal to ask on, no --yes: nothing deleted
    const refused = await run(env, ['delete', '1'], '')
    expect(refused.code).toBe(1)
    expect(refused.err).toContain('give --yes')
    expect((await run(env, ['delete', '0', '--yes'])).err).toContain('cannot be deleted')
    const deleted = await run(env, ['delete', 'www.shop.example.com', '--yes'])
    expect(deleted).toMatchObject({ code: 0, out: 'deleted site 1 (Shop) and its data\n' })
    expect(await deps.sites.refresh()).toBe(true)
    expect(deps.sites.list().map((s) => s.id)).toEqual([0])
  }, 60_000)

  test('a database not migrated yet, or an unknown command, is said as such', async () => {
    const unmigrated = await run({ DATABASE_URL: await emptyDatabaseUrl() }, ['list'])
    expect(unmigrated).toMatchObject({
      code: 1,
      err: 'site: the database lacks the sites table: run bun run migrate first\n',
    })
    const unknown = await run({}, ['frob'])
    expect(unknown.code).toBe(1)
    expect(unknown.err).toStartWith('site: no command "frob"\nusage:')
  }, 30_000)

  // `script` (util-linux) runs the command on a pseudo-terminal, as a person at a shell would
  test.skipIf(!Bun.which('script'))(
    'on a terminal, delete deletes only when the site’s name is typed',
    async () => {
      const { config } = await testApp()
      const env = { DATABASE_URL: config.databaseUrl!, REDIS_URL: config.redisUrl!, REDIS_PREFIX: config.redisPrefix }
      expect((await run(env, ['add', 'docs.example.com', '--name', 'Docs'])).code).toBe(0)
      const spawnScript = async (typed: string) => {
        const proc = Bun.spawn(['script', '-qec', `bun ${cli} delete docs.example.com`, '/dev/null'], {
          env: { ...process.env, ...env },
          stdin: new TextEncoder().encode(typed),
          stdout: 'pipe',
          stderr: 'pipe',
        })
        const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited])
        return { out, code }
      }
      const wrong = await spawnScript('Documentation\n')
      expect(wrong.out).toContain('Type its name to confirm')
      expect(wrong.out).toContain('not deleted: the name did not match')
      expect(wrong.code).not.toBe(0)
      expect((await run(env, ['list'])).out).toContain('Docs')
      const right = await spawnScript('Docs\n')
      expect(right.out).toContain('deleted site 1 (Docs) and its data')
      expect(right.code).toBe(0)
      expect((await run(env, ['list'])).out).not.toContain('Docs')
    },
    60_000,
  )
})

describe('a start against a database without the sites table', () => {
  test('with MIGRATE_ON_START=false it stops and says how to migrate', async () => {
    const server = await spawnServerProcess({ MIGRATE_ON_START: 'false', DATABASE_URL: await emptyDatabaseUrl() })
    expect(await server.exited()).toBe(1)
    expect(server.logs()).toContain('the database lacks the sites table: run bun run migrate')
  }, 30_000)
})
