// Where to go after login: only same-site paths from the `redirect` query are followed.

/** `raw` when it is a local path (`/persons?page=2`), otherwise `fallback`; never `//host` or a URL. */
export function safeRedirect(raw: unknown, fallback = '/overview'): string {
  const value = Array.isArray(raw) ? raw[0] : raw
  if (typeof value !== 'string') return fallback
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return fallback
  if (value.startsWith('/login')) return fallback
  return value
}
