// Unit tests of the API error parser.
import { describe, expect, it } from 'vitest'
import { ApiError, codeForStatus, parseApiError, toApiError } from './errors'

describe('parseApiError', () => {
  it('reads code, message and field from the error envelope', () => {
    const err = parseApiError(
      422,
      { error: { code: 'invalid_id_number', message: 'check character mismatch', field: 'id_number' } },
    )
    expect(err).toBeInstanceOf(ApiError)
    expect(err.status).toBe(422)
    expect(err.code).toBe('invalid_id_number')
    expect(err.message).toBe('check character mismatch')
    expect(err.field).toBe('id_number')
  })

  it('parses the envelope from raw JSON text', () => {
    const err = parseApiError(429, '{"error":{"code":"account_locked","message":"too many attempts"}}')
    expect(err.code).toBe('account_locked')
    expect(err.message).toBe('too many attempts')
    expect(err.field).toBeUndefined()
  })

  it('falls back to a code for the status when the body is empty or not JSON', () => {
    expect(parseApiError(404, '').code).toBe('not_found')
    expect(parseApiError(502, '<html>bad gateway</html>', 'Bad Gateway').message).toBe('Bad Gateway')
    expect(parseApiError(500, 'database unavailable').message).toBe('database unavailable')
    expect(parseApiError(400, '{not json').code).toBe('bad_request')
  })

  it('tolerates envelopes with missing or empty parts', () => {
    const err = parseApiError(403, { error: { message: '' } }, 'Forbidden')
    expect(err.code).toBe('forbidden')
    expect(err.message).toBe('Forbidden')
    expect(parseApiError(401, { error: 'nope' }).code).toBe('unauthorized')
  })

  it('maps statuses to codes', () => {
    expect(codeForStatus(0)).toBe('network_error')
    expect(codeForStatus(503)).toBe('server_error')
    expect(codeForStatus(418)).toBe('http_error')
  })

  it('wraps thrown values', () => {
    const original = new ApiError(409, 'conflict', 'exists')
    expect(toApiError(original)).toBe(original)
    const wrapped = toApiError(new TypeError('Failed to fetch'))
    expect(wrapped.status).toBe(0)
    expect(wrapped.code).toBe('network_error')
    expect(wrapped.message).toBe('Failed to fetch')
  })
})
