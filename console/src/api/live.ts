// The live feed client: `GET /api/v1/live` (Server-Sent Events) read through fetch() streaming, since EventSource cannot send the bearer header.
import { API_BASE } from './http'
import { getToken } from './token'
import type { LiveEvent } from './types'

/** One SSE frame as sent: its `event:` name (default `message`) and its `data:` lines joined. */
export interface SseFrame {
  event: string
  data: string
}

/**
 * An incremental Server-Sent Events parser: feed it text as it arrives, in chunks of any size, and
 * it returns the frames completed so far. Comments (`:` lines, the server's keep-alives) and
 * fields other than `event` and `data` are skipped; CRLF, CR and LF all end a line.
 */
export class SseParser {
  private buffer = ''
  private event = ''
  private data: string[] = []

  push(text: string): SseFrame[] {
    this.buffer += text
    const frames: SseFrame[] = []
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer)
      if (!match) break
      // A lone CR at the very end may be the first half of a CRLF: wait for more.
      if (match[0] === '\r' && match.index === this.buffer.length - 1) break
      const line = this.buffer.slice(0, match.index)
      this.buffer = this.buffer.slice(match.index + match[0].length)
      if (line === '') {
        if (this.data.length > 0) frames.push({ event: this.event || 'message', data: this.data.join('\n') })
        this.event = ''
        this.data = []
        continue
      }
      if (line.startsWith(':')) continue
      const colon = line.indexOf(':')
      const field = colon < 0 ? line : line.slice(0, colon)
      let value = colon < 0 ? '' : line.slice(colon + 1)
      if (value.startsWith(' ')) value = value.slice(1)
      if (field === 'event') this.event = value
      else if (field === 'data') this.data.push(value)
    }
    return frames
  }
}

/** A frame as a live event: its kind and its JSON object (frames whose data is not an object are dropped). */
export function toLiveEvent(frame: SseFrame): LiveEvent | null {
  try {
    const data: unknown = JSON.parse(frame.data)
    if (data === null || typeof data !== 'object' || Array.isArray(data)) return null
    return { kind: frame.event, data: data as Record<string, unknown> }
  } catch {
    return null
  }
}

export type LiveStatus = 'connecting' | 'open' | 'closed' | 'unauthorized' | 'forbidden'

export interface LiveOptions {
  /** Called on each event, `lagged` included (then the lists should be reloaded). */
  onEvent: (event: LiveEvent) => void
  onStatus?: (status: LiveStatus) => void
  /** Wait before reconnecting after the stream ended or failed (ms, default 3000). */
  retryMs?: number
}

/** A running subscription. */
export interface LiveConnection {
  close(): void
}

/**
 * Subscribes to the live feed with the stored bearer token and keeps the subscription up: a
 * stream that ends or fails is reopened after `retryMs`; a 401 or 403 stops it for good.
 */
export function openLive(opts: LiveOptions): LiveConnection {
  const retryMs = opts.retryMs ?? 3000
  let stopped = false
  let controller: AbortController | null = null
  let timer: ReturnType<typeof setTimeout> | null = null
  const status = (s: LiveStatus) => opts.onStatus?.(s)

  async function run(): Promise<void> {
    if (stopped) return
    controller = new AbortController()
    status('connecting')
    let retry = true
    try {
      const headers: Record<string, string> = { Accept: 'text/event-stream' }
      const token = getToken()
      if (token) headers.Authorization = `Bearer ${token}`
      const res = await fetch(`${API_BASE}/live`, { headers, signal: controller.signal, cache: 'no-store' })
      if (res.status === 401 || res.status === 403) {
        retry = false
        status(res.status === 401 ? 'unauthorized' : 'forbidden')
        return
      }
      if (!res.ok || !res.body) throw new Error(`live feed: HTTP ${res.status}`)
      status('open')
      const reader = res.body.getReader()
      const decoder = new TextDecoder()
      const parser = new SseParser()
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        for (const frame of parser.push(decoder.decode(value, { stream: true }))) {
          const event = toLiveEvent(frame)
          if (event) opts.onEvent(event)
        }
      }
    } catch {
      // aborted, or the network failed: retried below unless closed
    } finally {
      controller = null
      if (!stopped) {
        if (retry) {
          status('closed')
          timer = setTimeout(() => void run(), retryMs)
        }
      }
    }
  }

  void run()
  return {
    close() {
      stopped = true
      if (timer !== null) clearTimeout(timer)
      controller?.abort()
      status('closed')
    },
  }
}
