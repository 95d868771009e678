// Query-string building for list filters: empty values are left out (pure, no DOM).

export type QueryValue = string | number | boolean | null | undefined
/** Any object of query parameters; values are QueryValues or arrays of them. */
export type Query = object

/** `?a=1&b=x` from an object, skipping undefined, null and empty strings; '' when nothing is left. */
export function buildQuery(query: Query | undefined): string {
  if (!query) return ''
  const params = new URLSearchParams()
  for (const [key, raw] of Object.entries(query) as [string, unknown][]) {
    const values: unknown[] = Array.isArray(raw) ? raw : [raw]
    for (const value of values) {
      if (value === undefined || value === null) continue
      const text = typeof value === 'string' ? value.trim() : String(value)
      if (text === '') continue
      params.append(key, text)
    }
  }
  const out = params.toString()
  return out ? `?${out}` : ''
}
