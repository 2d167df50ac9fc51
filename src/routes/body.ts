/**
 * Request bodies read with a byte limit enforced before parsing: a declared Content-Length over
 * the limit is refused without reading, and a chunked body is cut off as soon as it passes it.
 */
import { HttpError } from '../errors.ts'

export function readLimitedText(request: Request, limit: number): Promise<string> {
  const declared = request.headers.get('content-length')
  if (declared !== null) {
    if (Number(declared) > limit) return Promise.reject(tooLarge(limit))
    // The HTTP framing holds the body to its declared length, so the native read is safe and
    // far cheaper than pulling the stream chunk by chunk.
    return request.text()
  }
  return readChunked(request, limit)
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

const tooLarge = (limit: number) => new HttpError(413, `body is larger than ${limit} bytes`)

/** The media type of a request without parameters, lower-cased ('' when absent). */
export function mediaType(request: Request): string {
  const header = request.headers.get('content-type') ?? ''
  const semi = header.indexOf(';')
  return (semi >= 0 ? header.slice(0, semi) : header).trim().toLowerCase()
}

/** Parses JSON text; 400 with a reason when empty or malformed. */
export function parseJson(text: string): unknown {
  if (text.trim() === '') throw new HttpError(400, 'body is empty')
  try {
    return JSON.parse(text)
  } catch {
    throw new HttpError(400, 'body is not valid JSON')
  }
}
