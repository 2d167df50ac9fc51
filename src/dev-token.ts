/**
 * The tokens `bun run dev` makes when ADMIN_TOKEN or INGEST_TOKEN is not set, so that a
 * newcomer's live screen, reads and first server batch work at once: 32 random bytes (base64url)
 * in `<data dir>/admin-token` and `<data dir>/ingest-token`, readable by their owner only, and
 * reused on later starts so that a printed link or command keeps working. Only `src/dev.ts`
 * calls this: under `bun run start`, an unset token still means its routes refused.
 *
 * @example
 * const { token, file } = await devToken(config.dataDir, 'ingest')
 */
import { randomBytes } from 'node:crypto'
import { chmod, link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { errorMessage } from './log.ts'

/** Each kind of token `bun run dev` makes: the file it is kept in, the variable it stands in for. */
export const DEV_TOKENS = {
  admin: { file: 'admin-token', variable: 'ADMIN_TOKEN' },
  ingest: { file: 'ingest-token', variable: 'INGEST_TOKEN' },
} as const

export type DevTokenKind = keyof typeof DEV_TOKENS

export interface DevToken {
  token: string
  /** where it is kept */
  file: string
}

/** What ADMIN_TOKEN and INGEST_TOKEN accept, and what a header and a link can carry as is. */
const USABLE = /^[\x21-\x7e]{16,}$/

async function readToken(file: string, kind: DevTokenKind): Promise<string> {
  let token: string
  try {
    // a copied or hand-made file may be readable by others: it holds a key to the service
    if (((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600)
    token = (await readFile(file, 'utf8')).trim()
  } catch (err) {
    throw new Error(`cannot read the ${kind} token in ${file}: ${errorMessage(err)}`)
  }
  if (!USABLE.test(token)) {
    throw new Error(
      `${file} does not hold a usable ${kind} token (16 or more printable characters, no spaces); ` +
        `delete it to have a new one made, or set ${DEV_TOKENS[kind].variable}`,
    )
  }
  return token
}

/** False only when nothing is there; any other failure to look is the caller's to hear about. */
async function exists(file: string, kind: DevTokenKind): Promise<boolean> {
  try {
    await stat(file)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw new Error(`cannot read the ${kind} token in ${file}: ${errorMessage(err)}`)
  }
}

/** The `kind` token kept in `dataDir`, made (and the directory with it, 0700) on the first start. */
export async function devToken(dataDir: string, kind: DevTokenKind): Promise<DevToken> {
  const file = join(dataDir, DEV_TOKENS[kind].file)
  if (await exists(file, kind)) return { token: await readToken(file, kind), file }
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
    return { token: await readToken(file, kind), file }
  } finally {
    await unlink(draft).catch(() => {})
  }
}
