/**
 * Files from the page: a CSV (src/csv.ts) handed to the browser as a download.
 */
import { type Api, ApiError } from './api.ts'

/** The file name a download's `Content-Disposition` gives (`attachment; filename="…"`), if any. */
export function attachmentName(res: Response): string | undefined {
  const header = res.headers.get('content-disposition') ?? ''
  return /filename="([^"/\\]+)"/.exec(header)?.[1]
}

/** Hands a text to the browser as a file download. */
export function saveFile(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }))
  const a = document.createElement('a')
  a.href = url
  a.download = name
  document.body.append(a)
  a.click()
  a.remove()
  // the download reads the blob after this task; a minute later it has long been read
  setTimeout(() => URL.revokeObjectURL(url), 60_000)
}

/**
 * A read's CSV (`url`, with `format=csv`) downloaded under the server's name for it, which says
 * what it holds, or `fallback`; what went wrong, said for the page ('' when nothing did).
 */
export async function downloadCsv(api: Api, url: string, fallback: string): Promise<string> {
  try {
    const res = await api.fetch(url, 'text/csv')
    const text = await res.text()
    saveFile(attachmentName(res) ?? fallback, text, 'text/csv')
    return ''
  } catch (err) {
    return err instanceof ApiError ? `CSV not downloaded: ${err.reason}` : 'CSV not downloaded'
  }
}
