/**
 * The one body reader of the write routes (`POST /e`, `POST /analytics/events`): media type,
 * byte limit before parsing, a deadline, then JSON.
 *
 * - A declared Content-Length over the limit is refused without reading; a chunked body is cut
 *   off as soon as it passes the limit (413).
 * - A body that has not arrived within `timeoutMs` is cut off: the connection is closed (with a
 *   408 where the answer can still be sent), so a client that trickles its body in cannot hold
 *   the request, its slot or its socket for long.
 * - A body that cannot be read because the client went away is an abort (400, counted as
 *   `aborted`), not an oversize body and not a server error.
 *
 * @example
 * checkMediaType(request, ['application/json'])
 * const started = performance.now()
 * const text = await readText(request, { limit: 1 << 20, timeoutMs: 10_000 }, server).catch((err) => {
 *   throw bodyFailure(err, started, options)
 * })
 */
import { Refusal } from './refusal.ts'

export interface BodyOptions {
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

/**
 * The connection's own timer, where there is a socket (Bun's `server.timeout`): once `seconds`
 * have passed Bun closes the connection, whatever the client still sends, and the read fails.
 * Bun's socket timers tick every 4 seconds, so it fires up to 4 s late.
 */
export interface SocketTimer {
  timeout(request: Request, seconds: number): void
}

const timedOut = (ms: number) =>
  new Refusal('timeout', 408, `the body did not arrive within ${ms} ms`, undefined, { connection: 'close' })
const aborted = () => new Refusal('aborted', 400, 'the request body could not be read')

/**
 * Reads the body as text within the limit and the deadline.
 *
 * With a socket, the deadline is the socket's timer: it costs nothing per request, where a timer
 * and a promise in JS cost the beacon about 4% of its throughput (measured side by side), and the
 * client gets its connection closed rather than a 408. Call {@link bodyFailure} on a failed read,
 * and {@link releaseSocketTimer} once the body is in. Without a socket (`app.handle`), a JS timer
 * answers 408.
 */
export function readText(request: Request, options: BodyOptions, socket?: SocketTimer): Promise<string> {
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
  if (socket) {
    socket.timeout(request, Math.ceil(options.timeoutMs / 1000))
    return reading
  }
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(timedOut(options.timeoutMs)), options.timeoutMs)
    reading.then(
      (text) => {
        clearTimeout(timer)
        resolve(text)
      },
      (err) => {
        clearTimeout(timer)
        reject(err)
      },
    )
  })
}

/** Bun's own idle timeout, which the connection gets back once the body is in. */
const IDLE_SECONDS = 10

/** Gives the connection its usual idle timeout back, once the body has arrived. */
export function releaseSocketTimer(request: Request, socket: SocketTimer | undefined): void {
  socket?.timeout(request, IDLE_SECONDS)
}

/**
 * What a failed body read is: our own refusal (too large, the JS deadline), the socket's deadline
 * (the read failed at or after it), or the client going away.
 */
export function bodyFailure(err: unknown, startedMs: number, options: BodyOptions): Refusal {
  if (err instanceof Refusal) return err
  return performance.now() - startedMs >= options.timeoutMs ? timedOut(options.timeoutMs) : aborted()
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

/**
 * A small JSON body of an admin route (a goal, a funnel), read whole under `options`: 415 for
 * another media type, the refusals of {@link readText}, 400 for what is not `expected`.
 */
export async function readJsonBody(request: Request, options: BodyOptions, expected: string): Promise<object> {
  checkMediaType(request, ['application/json'])
  const started = performance.now()
  const text = await readText(request, options).catch((err) => {
    throw bodyFailure(err, started, options)
  })
  return parseJson(text, expected)
}
