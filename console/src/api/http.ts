// The fetch wrapper every API call goes through: base path, bearer token, JSON, errors, 401 handling.
import { ApiError, parseApiError, toApiError } from './errors'
import { clearToken, getToken } from './token'
import { buildQuery, type Query } from '@/utils/query'
import { filenameFromDisposition } from '@/utils/download'

export const API_BASE = '/api/v1'

export interface RequestOptions {
  query?: Query
  /** Sent as JSON. */
  json?: unknown
  /** Sent as is (a File for imports), with `contentType`. */
  body?: BodyInit
  contentType?: string
  /** Do not report a failure through the error notifier; the caller handles it. */
  silent?: boolean
  /** Send the bearer token and treat a 401 as a lost session (default true). */
  auth?: boolean
  /** The Accept header (default application/json). */
  accept?: string
}

type ErrorNotifier = (err: ApiError) => void
type UnauthorizedHandler = () => void

let notifyError: ErrorNotifier = () => {}
let onUnauthorized: UnauthorizedHandler = () => {}

/** Installs how failures are shown (an ElMessage, set up in main.ts). */
export function setErrorNotifier(fn: ErrorNotifier): void {
  notifyError = fn
}

/** Installs what happens when the server says the session is gone (back to the login page). */
export function setUnauthorizedHandler(fn: UnauthorizedHandler): void {
  onUnauthorized = fn
}

async function send(method: string, path: string, opts: RequestOptions): Promise<Response> {
  const auth = opts.auth !== false
  const headers: Record<string, string> = { Accept: opts.accept ?? 'application/json' }
  let body: BodyInit | undefined
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json'
    body = JSON.stringify(opts.json)
  } else if (opts.body !== undefined) {
    body = opts.body
    if (opts.contentType) headers['Content-Type'] = opts.contentType
  }
  if (auth) {
    const token = getToken()
    if (token) headers.Authorization = `Bearer ${token}`
  }

  let res: Response
  try {
    res = await fetch(`${API_BASE}${path}${buildQuery(opts.query)}`, { method, headers, body })
  } catch (e) {
    const err = toApiError(e)
    if (!opts.silent) notifyError(err)
    throw err
  }
  if (res.ok) return res

  const text = await res.text().catch(() => '')
  const err = parseApiError(res.status, text, res.statusText)
  if (res.status === 401 && auth) {
    clearToken()
    onUnauthorized()
    throw err
  }
  if (!opts.silent) notifyError(err)
  throw err
}

/** Calls the API and returns the parsed JSON body (undefined for 204 or an empty body). */
export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const res = await send(method, path, opts)
  if (res.status === 204) return undefined as T
  const text = await res.text()
  if (!text) return undefined as T
  try {
    return JSON.parse(text) as T
  } catch {
    const err = new ApiError(res.status, 'invalid_response', 'The server sent a response that is not JSON')
    if (!opts.silent) notifyError(err)
    throw err
  }
}

/** Fetches a file (with the bearer header, which a plain link cannot send). */
export async function requestBlob(
  method: string,
  path: string,
  fallbackName: string,
  opts: RequestOptions = {},
): Promise<{ blob: Blob; filename: string }> {
  const res = await send(method, path, { accept: '*/*', ...opts })
  const blob = await res.blob()
  const filename = filenameFromDisposition(res.headers.get('Content-Disposition'), fallbackName)
  return { blob, filename }
}
