/**
 * `GET /demo` (`bun run dev` only): a page with the tracker on it, in `data-allow-local` mode, so
 * that clicking around it makes the numbers move on the live screen.
 */
import { join } from 'node:path'
import { Elysia } from 'elysia'

const PAGE = join(import.meta.dir, '..', '..', 'public', 'demo.html')

export const demo = () =>
  new Elysia({ name: 'demo' }).get(
    '/demo',
    () =>
      new Response(Bun.file(PAGE), {
        headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' },
      }),
    { detail: { hide: true } },
  )
