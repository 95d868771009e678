// Unit tests of the live feed client: the SSE parser on split chunks, comments and line endings, and the fetch stream with the bearer header.
// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest'
import { SseParser, openLive, toLiveEvent } from './live'
import { setToken } from './token'
import type { LiveEvent } from './types'

describe('SseParser', () => {
  it('returns frames completed so far across arbitrary chunk boundaries', () => {
    const p = new SseParser()
    const text = 'event: access\ndata: {"device_id":1}\n\n: keep-alive\n\nevent: alarm\r\ndata: {"id":2,\r\ndata: "x":1}\r\n\r\ndata: plain\n\n'
    const frames = []
    for (const ch of text) frames.push(...p.push(ch))
    expect(frames).toEqual([
      { event: 'access', data: '{"device_id":1}' },
      { event: 'alarm', data: '{"id":2,\n"x":1}' },
      { event: 'message', data: 'plain' },
    ])
  })

  it('ignores unknown fields and frames without data', () => {
    const p = new SseParser()
    expect(p.push('id: 7\nretry: 10\nevent: lagged\n\n')).toEqual([])
    expect(p.push('event: lagged\ndata:{"missed":3}\n\n')).toEqual([{ event: 'lagged', data: '{"missed":3}' }])
  })

  it('turns JSON objects into events and drops the rest', () => {
    expect(toLiveEvent({ event: 'access', data: '{"a":1}' })).toEqual({ kind: 'access', data: { a: 1 } })
    expect(toLiveEvent({ event: 'access', data: '[1]' })).toBeNull()
    expect(toLiveEvent({ event: 'access', data: 'nope' })).toBeNull()
  })
})

describe('openLive', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    localStorage.clear()
  })

  it('streams with the bearer header and stops for good on 403', async () => {
    setToken('tok-9', '2099-01-01T00:00:00Z')
    const encoder = new TextEncoder()
    const seen: { url: string; auth: string }[] = []
    let call = 0
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string, init: RequestInit) => {
        seen.push({ url, auth: (init.headers as Record<string, string>).Authorization })
        call++
        if (call > 1) return new Response('{}', { status: 403 })
        const body = new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(encoder.encode('event: access\ndata: {"device_id":3,'))
            c.enqueue(encoder.encode('"outcome":"open"}\n\n'))
            c.close()
          },
        })
        return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } })
      }),
    )
    const events: LiveEvent[] = []
    const statuses: string[] = []
    const conn = openLive({ onEvent: (e) => events.push(e), onStatus: (s) => statuses.push(s), retryMs: 5 })
    await vi.waitFor(() => expect(statuses).toContain('forbidden'))
    conn.close()
    expect(seen[0]).toEqual({ url: '/api/v1/live', auth: 'Bearer tok-9' })
    expect(events).toEqual([{ kind: 'access', data: { device_id: 3, outcome: 'open' } }])
    expect(statuses.slice(0, 4)).toEqual(['connecting', 'open', 'closed', 'connecting'])
    expect(seen).toHaveLength(2)
  })
})
