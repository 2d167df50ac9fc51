/**
 * Files from the page: a CSV (src/csv.ts) handed to the browser as a download.
 */
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
