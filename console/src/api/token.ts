// The bearer token kept in localStorage, with its expiry.

const TOKEN_KEY = 'anfang.token'
const EXPIRES_KEY = 'anfang.token_expires_at'

/** Whether an RFC 3339 expiry lies at or before `now`; unparsable or missing expiries never expire here. */
export function isExpired(expiresAt: string | null | undefined, now: Date = new Date()): boolean {
  if (!expiresAt) return false
  const at = Date.parse(expiresAt)
  if (Number.isNaN(at)) return false
  return at <= now.getTime()
}

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage
  } catch {
    return null
  }
}

/** The stored token, or null when there is none or it has expired (an expired one is removed). */
export function getToken(): string | null {
  const s = storage()
  if (!s) return null
  const token = s.getItem(TOKEN_KEY)
  if (!token) return null
  if (isExpired(s.getItem(EXPIRES_KEY))) {
    clearToken()
    return null
  }
  return token
}

export function setToken(token: string, expiresAt?: string | null): void {
  const s = storage()
  if (!s) return
  s.setItem(TOKEN_KEY, token)
  if (expiresAt) s.setItem(EXPIRES_KEY, expiresAt)
  else s.removeItem(EXPIRES_KEY)
}

export function clearToken(): void {
  const s = storage()
  if (!s) return
  s.removeItem(TOKEN_KEY)
  s.removeItem(EXPIRES_KEY)
}
