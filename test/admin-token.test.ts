import { describe, expect, test } from 'bun:test'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ADMIN_TOKEN_FILE, devAdminToken } from '../src/admin-token.ts'
import { loadConfig } from '../src/config.ts'

const mode = async (path: string) => (await stat(path)).mode & 0o777

async function withDir(run: (dir: string) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), 'edge-analytics-token-'))
  try {
    await run(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

describe('the development admin token', () => {
  test('is 32 random bytes in a new 0700 directory, kept 0600, and the same on the next start', () =>
    withDir(async (parent) => {
      const dir = join(parent, 'data')
      const first = await devAdminToken(dir)
      expect(first.file).toBe(join(dir, ADMIN_TOKEN_FILE))
      expect(first.token).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect(Buffer.from(first.token, 'base64url')).toHaveLength(32)
      expect(await readFile(first.file, 'utf8')).toBe(`${first.token}\n`)
      expect(await mode(dir)).toBe(0o700)
      expect(await mode(first.file)).toBe(0o600)
      // ADMIN_TOKEN would accept it
      expect(loadConfig({ ADMIN_TOKEN: first.token }).adminToken).toBe(first.token)

      expect(await devAdminToken(dir)).toEqual(first)
      expect(await readdir(dir)).toEqual([ADMIN_TOKEN_FILE])
      expect((await devAdminToken(parent)).token).not.toBe(first.token)
    }))

  test('starts racing each other agree on one token and leave no drafts behind', () =>
    withDir(async (dir) => {
      const tokens = await Promise.all(Array.from({ length: 8 }, () => devAdminToken(dir)))
      expect(new Set(tokens.map((t) => t.token)).size).toBe(1)
      expect(await readdir(dir)).toEqual([ADMIN_TOKEN_FILE])
    }))

  test('a kept token that others may read is made 0600 and still used', () =>
    withDir(async (dir) => {
      const file = join(dir, ADMIN_TOKEN_FILE)
      await writeFile(file, 'my-own-dev-token-0123456789\n', { mode: 0o644 })
      expect((await devAdminToken(dir)).token).toBe('my-own-dev-token-0123456789')
      expect(await mode(file)).toBe(0o600)
    }))

  test('a file without a usable token stops the start, naming the file and the way out', () =>
    withDir(async (dir) => {
      const file = join(dir, ADMIN_TOKEN_FILE)
      for (const content of ['', 'short\n', 'two words that are long enough\n']) {
        await writeFile(file, content, { mode: 0o600 })
        await expect(devAdminToken(dir)).rejects.toThrow(`${file} does not hold a usable admin token`)
        expect(await readFile(file, 'utf8')).toBe(content)
      }
    }))
})
