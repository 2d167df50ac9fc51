/**
 * The admin token `bun run dev` makes when ADMIN_TOKEN is not set, so that a newcomer's live
 * screen and reads work at once: 32 random bytes (base64url) in `<data dir>/admin-token`, readable
 * by its owner only, and reused on later starts so that a printed link keeps working. Only
 * `src/dev.ts` calls this: under `bun run start`, no ADMIN_TOKEN still means admin routes refused.
 *
 * @example
 * const { token, file } = await devAdminToken(config.dataDir)
 */
import { randomBytes } from 'node:crypto'
import { chmod, link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { errorMessage } from './log.ts'

export const ADMIN_TOKEN_FILE = 'admin-token'

export interface DevAdminToken {
  token: string
  /** where it is kept */
  file: string
}

/** What ADMIN_TOKEN accepts, and what a header and a link can carry as is. */
const USABLE = /^[\x21-\x7e]{16,}$/

async function readToken(file: string): Promise<string> {
  let token: string
  try {
    // a copied or hand-made file may be readable by others: this one holds a superuser's key
    if (((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600)
    token = (await readFile(file, 'utf8')).trim()
  } catch (err) {
    throw new Error(`cannot read the admin token in ${file}: ${errorMessage(err)}`)
  }
  if (!USABLE.test(token)) {
    throw new Error(
      `${file} does not hold a usable admin token (16 or more printable characters, no spaces); ` +
        'delete it to have a new one made, or set ADMIN_TOKEN',
    )
  }
  return token
}

/** False only when nothing is there; any other failure to look is the caller's to hear about. */
async function exists(file: string): Promise<boolean> {
  try {
    await stat(file)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw new Error(`cannot read the admin token in ${file}: ${errorMessage(err)}`)
  }
}

/** The token kept in `dataDir`, made (and the directory with it, 0700) on the first start. */
export async function devAdminToken(dataDir: string): Promise<DevAdminToken> {
  const file = join(dataDir, ADMIN_TOKEN_FILE)
  if (await exists(file)) return { token: await readToken(file), file }
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const token = randomBytes(32).toString('base64url')
  // written in full under another name, then linked into place: a reader never sees half a
  // token, and of two starts racing, the first link wins and the other reads it
  const draft = `${file}.${randomBytes(6).toString('hex')}.tmp`
  await writeFile(draft, `${token}\n`, { mode: 0o600, flag: 'wx' })
  try {
    await link(draft, file)
    return { token, file }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    return { token: await readToken(file), file }
  } finally {
    await unlink(draft).catch(() => {})
  }
}
