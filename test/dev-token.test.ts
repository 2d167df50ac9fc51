import { describe, expect, test } from 'bun:test'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../src/config.ts'
import { DEV_TOKENS, type DevTokenKind, devToken } from '../src/dev-token.ts'

const mode = async (path: string) => (await stat(path)).mode & 0o777

async function withDir(run: (dir: string) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), 'edge-analytics-token-'))
  try {
    await run(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

for (const kind of Object.keys(DEV_TOKENS) as DevTokenKind[]) {
  const { file: FILE, variable } = DEV_TOKENS[kind]

  describe(`the development ${kind} token`, () => {
    test('is 32 random bytes in a new 0700 directory, kept 0600, and the same on the next start', () =>
      withDir(async (parent) => {
        const dir = join(parent, 'data')
        const first = await devToken(dir, kind)
        expect(first.file).toBe(join(dir, FILE))
        expect(first.token).toMatch(/^[A-Za-z0-9_-]{43}$/)
        expect(Buffer.from(first.token, 'base64url')).toHaveLength(32)
        expect(await readFile(first.file, 'utf8')).toBe(`${first.token}\n`)
        expect(await mode(dir)).toBe(0o700)
        expect(await mode(first.file)).toBe(0o600)
        // its variable would accept it
        expect(loadConfig({ [variable]: first.token })).toMatchObject(
          kind === 'admin' ? { adminToken: first.token } : { ingestToken: first.token },
        )

        expect(await devToken(dir, kind)).toEqual(first)
        expect(await readdir(dir)).toEqual([FILE])
        expect((await devToken(parent, kind)).token).not.toBe(first.token)
      }))

    test('starts racing each other agree on one token and leave no drafts behind', () =>
      withDir(async (dir) => {
        const tokens = await Promise.all(Array.from({ length: 8 }, () => devToken(dir, kind)))
        expect(new Set(tokens.map((t) => t.token)).size).toBe(1)
        expect(await readdir(dir)).toEqual([FILE])
      }))

    test('a kept token that others may read is made 0600 and still used', () =>
      withDir(async (dir) => {
        const file = join(dir, FILE)
        await writeFile(file, 'my-own-dev-token-0123456789\n', { mode: 0o644 })
        expect((await devToken(dir, kind)).token).toBe('my-own-dev-token-0123456789')
        expect(await mode(file)).toBe(0o600)
      }))

    test('a file without a usable token stops the start, naming the file and the way out', () =>
      withDir(async (dir) => {
        const file = join(dir, FILE)
        for (const content of ['', 'short\n', 'two words that are long enough\n']) {
          await writeFile(file, content, { mode: 0o600 })
          const err = await devToken(dir, kind).then(
            () => new Error('expected a failure'),
            (e: Error) => e,
          )
          expect(err.message).toStartWith(`${file} does not hold a usable ${kind} token`)
          expect(err.message).toEndWith(`or set ${variable}`)
          expect(await readFile(file, 'utf8')).toBe(content)
        }
      }))
  })
}

test('the admin and the ingest token are two tokens, in two files', () =>
  withDir(async (dir) => {
    const [admin, ingest] = await Promise.all([devToken(dir, 'admin'), devToken(dir, 'ingest')])
    expect(admin.token).not.toBe(ingest.token)
    expect((await readdir(dir)).sort()).toEqual(['admin-token', 'ingest-token'])
  }))
