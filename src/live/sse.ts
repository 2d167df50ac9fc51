/**
 * Server-Sent Events wire format (WHATWG HTML, "server-sent events"): a message is `field: value`
 * lines ended by a blank line; a line starting with `:` is a comment, ignored by `EventSource`
 * but enough to keep proxies and idle timeouts from closing the stream.
 *
 * @example
 * sseMessage({ id: '7', event: 'counts', data: '{"hour":9}' }) // 'id: 7\nevent: counts\ndata: {"hour":9}\n\n'
 */

export interface SseMessage {
  id?: string
  event?: string
  /** may span lines: each becomes its own `data:` line, and the client joins them with `\n` */
  data: string
  /** how long a client waits before reconnecting, in ms */
  retry?: number
}

const oneLine = (name: string, value: string): string => {
  if (/[\r\n]/.test(value)) throw new Error(`an SSE ${name} cannot contain a line break`)
  return value
}

export function sseMessage(message: SseMessage): string {
  let out = ''
  if (message.id !== undefined) out += `id: ${oneLine('id', message.id)}\n`
  if (message.event !== undefined) out += `event: ${oneLine('event', message.event)}\n`
  if (message.retry !== undefined) out += `retry: ${Math.max(0, Math.floor(message.retry))}\n`
  for (const line of message.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`
  return `${out}\n`
}

/** A comment block: no event reaches an `EventSource`, but bytes cross every hop. */
export function sseComment(text: string): string {
  return `: ${oneLine('comment', text)}\n\n`
}

/** Sets the client's reconnection delay without dispatching an event. */
export function sseRetry(ms: number): string {
  return `retry: ${Math.max(0, Math.floor(ms))}\n\n`
}

/** Splits a stream's text into complete messages; `rest` is the unfinished tail to prepend next time. */
export function parseSse(text: string): { messages: ParsedSse[]; rest: string } {
  const blocks = text.replace(/\r\n?/g, '\n').split('\n\n')
  const rest = blocks.pop() ?? ''
  const messages: ParsedSse[] = []
  for (const block of blocks) {
    const m: ParsedSse = { comments: [], data: undefined }
    const data: string[] = []
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        m.comments.push(line.slice(1).trimStart())
        continue
      }
      const colon = line.indexOf(':')
      const field = colon < 0 ? line : line.slice(0, colon)
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
      if (field === 'data') data.push(value)
      else if (field === 'id') m.id = value
      else if (field === 'event') m.event = value
      else if (field === 'retry') m.retry = Number(value)
    }
    if (data.length > 0) m.data = data.join('\n')
    messages.push(m)
  }
  return { messages, rest }
}

export interface ParsedSse {
  id?: string
  event?: string
  data: string | undefined
  retry?: number
  comments: string[]
}
