// ApiError and the parser that turns any failed HTTP response into one (pure, no DOM).

/** The error every API call rejects with. `status` is 0 when the server could not be reached. */
export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly field?: string

  constructor(status: number, code: string, message: string, field?: string) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.field = field
  }
}

/** Fallback codes for responses that carry no `{error: {code}}` body. */
export function codeForStatus(status: number): string {
  switch (status) {
    case 0:
      return 'network_error'
    case 400:
      return 'bad_request'
    case 401:
      return 'unauthorized'
    case 403:
      return 'forbidden'
    case 404:
      return 'not_found'
    case 409:
      return 'conflict'
    case 413:
      return 'payload_too_large'
    case 422:
      return 'unprocessable'
    case 429:
      return 'too_many_requests'
    default:
      return status >= 500 ? 'server_error' : 'http_error'
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Builds an ApiError from a response status and its body, which may be the parsed JSON,
 * the raw text, or nothing. Understands `{error: {code, message, field?}}`; anything else
 * becomes a generic error for the status, keeping short plain-text bodies as the message.
 */
export function parseApiError(status: number, body: unknown, statusText = ''): ApiError {
  let parsed: unknown = body
  if (typeof body === 'string') {
    const text = body.trim()
    if (text.startsWith('{')) {
      try {
        parsed = JSON.parse(text)
      } catch {
        parsed = text
      }
    } else {
      parsed = text
    }
  }

  if (isRecord(parsed) && isRecord(parsed.error)) {
    const err = parsed.error
    const code = typeof err.code === 'string' && err.code ? err.code : codeForStatus(status)
    const message =
      typeof err.message === 'string' && err.message ? err.message : statusText || code
    const field = typeof err.field === 'string' && err.field ? err.field : undefined
    return new ApiError(status, code, message, field)
  }

  const code = codeForStatus(status)
  if (typeof parsed === 'string' && parsed && parsed.length <= 300 && !parsed.startsWith('<')) {
    return new ApiError(status, code, parsed)
  }
  return new ApiError(status, code, statusText || (status ? `HTTP ${status}` : code))
}

/** Wraps anything thrown (fetch's TypeError, an ApiError, ...) as an ApiError. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err
  const message = err instanceof Error ? err.message : String(err)
  return new ApiError(0, 'network_error', message)
}
