// DOM tests of the 报警中心 page against a stubbed fetch: open alarms with their timers, acknowledging with a note, a dispatch that needs whom, and no buttons for who may only read.
// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, h, nextTick, type App } from 'vue'
import { createPinia, setActivePinia } from 'pinia'
import { i18n } from '@/i18n'
import { useAuthStore } from '@/stores/auth'
import { setToken } from '@/api/token'
import type { Role } from '@/api/types'
import AlarmsView from './AlarmsView.vue'

// happy-dom has no canvas for ECharts: the chart is stood in for by an empty box.
vi.mock('@/components/EChart.vue', () => ({ default: { name: 'EChart', render: () => h('div') } }))

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

const alarm = {
  id: 7,
  community_id: 1,
  device_id: 21,
  place_id: null,
  kind: 'perimeter_intrusion',
  severity: 'critical',
  state: 'new',
  zone: '东侧围墙',
  source: 'device',
  raised_at: new Date(Date.now() - 20_000).toISOString(),
  last_at: new Date().toISOString(),
  repeats: 2,
  level: 0,
  acknowledged_at: null,
  acknowledged_by: null,
  dispatched_to: null,
  closed_at: null,
  closed_by: null,
  cameras: [20, 22],
  has_snapshot: false,
}

const calls: { url: string; init: RequestInit }[] = []

beforeEach(() => {
  calls.length = 0
  localStorage.clear()
  setToken('tok-1', '2099-01-01T00:00:00Z')
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init: RequestInit = {}) => {
      calls.push({ url, init })
      if (url === '/api/v1/live') return new Response('', { status: 403 })
      if (url.startsWith('/api/v1/alarms/7/actions')) return json(200, { ...alarm, state: 'acknowledged' })
      if (url.startsWith('/api/v1/alarms/stats')) {
        return json(200, {
          total: 1,
          open_new: 1,
          in_hand: 0,
          resolved: 0,
          false_alarms: 0,
          within_sla: 0,
          breached_sla: 0,
          mean_ack_secs: null,
          by_kind: { perimeter_intrusion: 1 },
        })
      }
      if (url.startsWith('/api/v1/alarms')) return json(200, { items: [alarm], total: 1, page: 1, page_size: 20 })
      return json(200, { items: [], total: 0, page: 1, page_size: 100 })
    }),
  )
})

let app: App | null = null

afterEach(() => {
  app?.unmount()
  app = null
  document.body.innerHTML = ''
  vi.unstubAllGlobals()
})

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

function mount(role: Role): void {
  const pinia = createPinia()
  setActivePinia(pinia)
  const root = document.createElement('div')
  document.body.appendChild(root)
  app = createApp({ render: () => h(AlarmsView) })
  app.use(pinia).use(i18n)
  useAuthStore().user = { id: 1, username: 'u', role, display_name: 'U', scopes: [] }
  app.mount(root)
}

const posts = () => calls.filter((c) => c.init.method === 'POST')

describe('报警中心 page', () => {
  it('lists the alarm with its severity, repeats and the acknowledgement timer', async () => {
    mount('property_manager')
    await settle()
    const table = el('alarms-table')?.textContent ?? ''
    expect(table).toContain('周界入侵')
    expect(table).toContain('紧急')
    expect(table).toContain('重复 2 次')
    expect(el('alarm-sla')?.textContent).toMatch(/剩余 0:[34]\d/)
    expect(el('alarms-stat-total')?.textContent).toContain('1')
    expect(el('alarm-acknowledge-7')).not.toBeNull()
  })

  it('acknowledges with the note typed in the dialog', async () => {
    mount('guard')
    await settle()
    el('alarm-acknowledge-7')!.click()
    await settle()
    const note = document.querySelector<HTMLTextAreaElement>('textarea[data-testid="alarm-action-note"]')!
    note.value = '已到场'
    note.dispatchEvent(new Event('input', { bubbles: true }))
    await settle()
    el('alarm-action-submit')!.click()
    await settle()
    expect(posts().map((c) => c.url)).toEqual(['/api/v1/alarms/7/actions'])
    expect(JSON.parse(String(posts()[0].init.body))).toEqual({ action: 'acknowledge', note: '已到场' })
  })

  it('asks whom a dispatch goes to before posting it', async () => {
    mount('community_police')
    await settle()
    el('alarm-dispatch-7')!.click()
    await settle()
    el('alarm-action-submit')!.click()
    await settle()
    expect(posts()).toEqual([])
    const to = document.querySelector<HTMLInputElement>('input[data-testid="alarm-action-dispatch-to"]')!
    to.value = '巡逻二组'
    to.dispatchEvent(new Event('input', { bubbles: true }))
    await settle()
    el('alarm-action-submit')!.click()
    await settle()
    expect(JSON.parse(String(posts()[0].init.body))).toEqual({ action: 'dispatch', dispatched_to: '巡逻二组' })
  })

  it('shows no handling buttons to a role that only reads alarms', async () => {
    mount('street_officer')
    await settle()
    expect(el('alarms-table')?.textContent).toContain('周界入侵')
    expect(el('alarm-acknowledge-7')).toBeNull()
  })
})
