// Display formatting for timestamps and free-form audit details (pure).

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n)
}

/** `2026-11-23 18:57:03` in local time from an RFC 3339 timestamp; the input itself when it does not parse. */
export function formatDateTime(value: string | null | undefined): string {
  if (!value) return '—'
  const ms = Date.parse(value)
  if (Number.isNaN(ms)) return value
  const d = new Date(ms)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

/** An audit detail as one line: strings as they are, objects as compact JSON, nothing as '—'. */
export function formatDetail(detail: unknown): string {
  if (detail === null || detail === undefined || detail === '') return '—'
  if (typeof detail === 'string') return detail
  try {
    return JSON.stringify(detail)
  } catch {
    return String(detail)
  }
}
