// Helpers for downloaded files: the name from Content-Disposition, and saving a Blob.

/**
 * The file name a `Content-Disposition` header gives, preferring the RFC 5987 `filename*`
 * form (UTF-8, percent-encoded, as used for Chinese names); `fallback` when there is none.
 */
export function filenameFromDisposition(header: string | null | undefined, fallback: string): string {
  if (!header) return fallback
  const star = /filename\*\s*=\s*([^;]+)/i.exec(header)
  if (star) {
    let value = star[1].trim().replace(/^"(.*)"$/, '$1')
    const quote = value.indexOf("''")
    if (quote >= 0) value = value.slice(quote + 2)
    try {
      const decoded = decodeURIComponent(value)
      if (decoded) return sanitize(decoded, fallback)
    } catch {
      // fall through to the plain form
    }
  }
  const plain = /filename\s*=\s*("([^"]*)"|[^;]+)/i.exec(header)
  if (plain) {
    const value = (plain[2] ?? plain[1]).trim()
    if (value) return sanitize(value, fallback)
  }
  return fallback
}

function sanitize(name: string, fallback: string): string {
  const base = name.split(/[\\/]/).pop()?.trim() ?? ''
  return base || fallback
}

/** Offers a Blob to the user as a download named `filename` (browser only). */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = filename
  a.style.display = 'none'
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}
