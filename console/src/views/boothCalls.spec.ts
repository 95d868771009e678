// DOM tests of the 岗亭呼叫 page against a stubbed fetch: ringing calls listed with their count, accept and deny (with a note).
// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, h, nextTick, type App } from 'vue'
import { createPinia, setActivePinia } from 'pinia'
import { i18n } from '@/i18n'
import { useAuthStore } from '@/stores/auth'
import { setToken } from '@/api/token'
import BoothCallsView from './BoothCallsView.vue'

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

const ringingCall = {
  id: 5,
  community_id: 1,
  device_id: 9,
  visitor_name: '赵六',
  house_ref: '1-2-301',
  house_id: 301,
  status: 'ringing',
  created_at: '2026-11-23T12:00:00Z',
  answered_at: null,
  answered_by: null,
  note: null,
}

const calls: { url: string; init: RequestInit }[] = []

function stubFetch(): void {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init: RequestInit) => {
      calls.push({ url, init })
      if (url.startsWith('/api/v1/booth-calls/5/') && init.method === 'POST') {
        return json(200, { ...ringingCall, status: url.endsWith('accept') ? 'accepted' : 'denied' })
      }
      if (url.startsWith('/api/v1/booth-calls')) {
        return json(200, { items: [ringingCall], total: 1, page: 1, page_size: 20 })
      }
      return json(200, { items: [], total: 0, page: 1, page_size: 100 })
    }),
  )
}

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await new Promise((r) => setTimeout(r, 0))
    await nextTick()
  }
  await new Promise((r) => setTimeout(r, 150))
  await nextTick()
}

function el(testid: string): HTMLElement | null {
  return document.querySelector<HTMLElement>(`[data-testid="${testid}"]`)
}

let app: App | null = null

function mount(): void {
  const pinia = createPinia()
  setActivePinia(pinia)
  const root = document.createElement('div')
  document.body.appendChild(root)
  app = createApp({ render: () => h(BoothCallsView) })
  app.use(pinia).use(i18n)
  useAuthStore().user = { id: 1, username: 'guard', role: 'guard', display_name: '门岗', scopes: [] }
  app.mount(root)
}

const posts = () => calls.filter((c) => c.init.method === 'POST')

beforeEach(() => {
  calls.length = 0
  localStorage.clear()
  setToken('tok-123', '2099-01-01T00:00:00Z')
  stubFetch()
})

afterEach(() => {
  app?.unmount()
  app = null
  document.body.innerHTML = ''
  vi.unstubAllGlobals()
})

describe('岗亭呼叫 page', () => {
  it('lists ringing calls by default and counts them in the header', async () => {
    mount()
    await settle()
    const gets = calls.map((c) => c.url).filter((u) => u.startsWith('/api/v1/booth-calls'))
    expect(gets).toContain('/api/v1/booth-calls?kind=ringing&page=1&page_size=20')
    expect(gets).toContain('/api/v1/booth-calls?kind=ringing&page=1&page_size=5')
    expect(el('booth-calls-ringing-count')?.textContent).toContain('1')
    // the newest ringing call rings in the panel with the visitor's details and accept/deny
    expect(el('booth-call-ringing-visitor')?.textContent).toContain('赵六')
    expect(el('booth-call-ringing-house')?.textContent).toContain('1-2-301')
    expect(el('booth-call-ringing-accept')).not.toBeNull()
    expect(el('booth-call-ringing-deny')).not.toBeNull()
    expect(el('booth-calls-table')?.textContent).toContain('赵六')
    expect(el('booth-calls-table')?.textContent).toContain('1-2-301')
    expect(el('booth-call-accept-5')).not.toBeNull()
    expect(el('booth-call-deny-5')).not.toBeNull()
  })

  it('accepts a call with an empty POST and reloads', async () => {
    mount()
    await settle()
    const before = calls.length
    el('booth-call-accept-5')!.click()
    await settle()
    expect(posts().map((c) => c.url)).toEqual(['/api/v1/booth-calls/5/accept'])
    expect(posts()[0].init.body).toBeUndefined()
    expect(calls.slice(before).some((c) => c.url.startsWith('/api/v1/booth-calls?'))).toBe(true)
  })

  it('denies a call with the note typed into the prompt', async () => {
    mount()
    await settle()
    el('booth-call-deny-5')!.click()
    await settle()
    const input = document.querySelector<HTMLInputElement>('.booth-call-deny-box input')
    expect(input, 'the prompt is open').not.toBeNull()
    input!.value = '住户不在家'
    input!.dispatchEvent(new Event('input', { bubbles: true }))
    await settle()
    document.querySelector<HTMLElement>('.booth-call-deny-box .el-button--primary')!.click()
    await settle()
    expect(posts().map((c) => c.url)).toEqual(['/api/v1/booth-calls/5/deny'])
    expect(JSON.parse(String(posts()[0].init.body))).toEqual({ message: '住户不在家' })
  })

  it('sends no POST when the prompt is cancelled', async () => {
    mount()
    await settle()
    el('booth-call-deny-5')!.click()
    await settle()
    const buttons = document.querySelectorAll<HTMLElement>('.booth-call-deny-box .el-message-box__btns .el-button')
    const cancel = [...buttons].find((b) => !b.classList.contains('el-button--primary'))
    cancel!.click()
    await settle()
    expect(posts()).toEqual([])
  })
})
