/**
 * The one body reader of the write routes (`POST /e`, `POST /analytics/events`): media type,
 * byte limit before parsing, a deadline, then JSON.
 *
 * - A declared Content-Length over the limit is refused without reading; a chunked body is cut
 *   off as soon as it passes the limit (413).
 * - A body that has not arrived within `timeoutMs` is refused with 408 and `Connection: close`,
 *   so a client that trickles its body in cannot hold the request (or the socket) for long.
 * - A body that cannot be read because the client went away is an abort (400, counted as
 *   `aborted`), not an oversize body and not a server error.
 *
 * @example
 * const body = await readJsonBody(request, { types: ['application/json'], limit: 1 << 20, timeoutMs: 10_000 })
 */
import { Refusal } from './refusal.ts'

export interface BodyOptions {
  /** accepted media types, lower-case, without parameters */
  types: readonly string[]
  /** largest body in bytes */
  limit: number
  /** how long the whole body may take to arrive */
  timeoutMs: number
}

/** The media type of a request without parameters, lower-cased ('' when absent). */
export function mediaType(request: Request): string {
  const header = request.headers.get('content-type') ?? ''
  const semi = header.indexOf(';')
  return (semi >= 0 ? header.slice(0, semi) : header).trim().toLowerCase()
}

/** Refuses a request whose media type is not one of `types` (415), before its body is read. */
export function checkMediaType(request: Request, types: readonly string[]): void {
  if (!types.includes(mediaType(request))) {
    throw new Refusal('content_type', 415, `send the body as ${types.join(' or ')}`)
  }
}

const tooLarge = (limit: number) => new Refusal('too_large', 413, `body is larger than ${limit} bytes`)

/** Reads the body as text within the limit and the deadline. */
export function readText(request: Request, options: Omit<BodyOptions, 'types'>): Promise<string> {
  const declared = request.headers.get('content-length')
  let reading: Promise<string>
  if (declared !== null) {
    if (Number(declared) > options.limit) return Promise.reject(tooLarge(options.limit))
    // The HTTP framing holds the body to its declared length, so the native read is safe and
    // far cheaper than pulling the stream chunk by chunk.
    reading = request.text()
  } else {
    reading = readChunked(request, options.limit)
  }
  return new Promise<string>((resolve, reject) => {
    // A plain timer rather than Promise.race: one promise per body, on every beacon's path.
    const timer = setTimeout(
      () =>
        reject(
          new Refusal('timeout', 408, `the body did not arrive within ${options.timeoutMs} ms`, undefined, {
            connection: 'close',
          }),
        ),
      options.timeoutMs,
    )
    reading.then(
      (text) => {
        clearTimeout(timer)
        resolve(text)
      },
      (err) => {
        clearTimeout(timer)
        reject(err instanceof Refusal ? err : new Refusal('aborted', 400, 'the request body could not be read'))
      },
    )
  })
}

async function readChunked(request: Request, limit: number): Promise<string> {
  if (!request.body) return ''
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel().catch(() => {})
      throw tooLarge(limit)
    }
    chunks.push(value)
  }
  if (chunks.length === 1) return new TextDecoder().decode(chunks[0])
  return new TextDecoder().decode(Buffer.concat(chunks))
}

/** Parses JSON text into the object or array a write route takes; 400 with a reason otherwise. */
export function parseJson(text: string, expected: string): object {
  if (text.trim() === '') throw new Refusal('invalid', 400, 'body is empty')
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new Refusal('invalid', 400, 'body is not valid JSON')
  }
  if (typeof body !== 'object' || body === null) throw new Refusal('invalid', 400, `body must be ${expected}`)
  return body
}
