// DOM tests against a stubbed fetch: create dialogs (field errors under their field), the reveal drawer, the API client.
// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, h, nextTick, ref, type App, type Component } from 'vue'
import { createPinia, setActivePinia } from 'pinia'
import { i18n } from '@/i18n'
import { useAuthStore } from '@/stores/auth'
import { request, setUnauthorizedHandler } from '@/api/http'
import { getToken, setToken } from '@/api/token'
import type { Role } from '@/api/types'
import PersonCreateDialog from './PersonCreateDialog.vue'
import VehicleCreateDialog from './VehicleCreateDialog.vue'
import PersonDetailDrawer from './PersonDetailDrawer.vue'

type Handler = (url: string, init: RequestInit) => Response | undefined

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

const community = {
  id: 1,
  street_id: 1,
  committee_id: 1,
  code: '370303001001',
  name: '幸福小区',
  category: 'existing_closed',
  property_type: 'commercial',
  address: '',
  building_count: 0,
  house_count: 0,
  resident_count: 0,
  device_count: 0,
}

const calls: { url: string; init: RequestInit }[] = []

function stubFetch(handler: Handler): void {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init: RequestInit) => {
      calls.push({ url, init })
      const res = handler(url, init)
      if (res) return res
      if (url.startsWith('/api/v1/communities')) return json(200, { items: [community], total: 1, page: 1, page_size: 100 })
      return json(200, { items: [], total: 0, page: 1, page_size: 100 })
    }),
  )
}

/** Lets requests, validation and Element Plus's 100 ms debounce of form-item errors run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await new Promise((r) => setTimeout(r, 0))
    await nextTick()
  }
  await new Promise((r) => setTimeout(r, 150))
  await nextTick()
}

function typeInto(testid: string, value: string): void {
  const input = document.querySelector<HTMLInputElement>(`input[data-testid="${testid}"]`)
  expect(input, testid).not.toBeNull()
  input!.value = value
  input!.dispatchEvent(new Event('input', { bubbles: true }))
}

function click(testid: string): void {
  const el = document.querySelector<HTMLElement>(`[data-testid="${testid}"]`)
  expect(el, testid).not.toBeNull()
  el!.click()
}

function fieldError(testid: string): string {
  return document.querySelector(`[data-testid="${testid}"] .el-form-item__error`)?.textContent?.trim() ?? ''
}

let app: App | null = null

function mountDialog(component: Component, props: Record<string, unknown> = {}, role: Role = 'community_police') {
  const open = ref(true)
  const created = vi.fn()
  const pinia = createPinia()
  setActivePinia(pinia)
  const root = document.createElement('div')
  document.body.appendChild(root)
  app = createApp({
    render: () =>
      h(component, {
        modelValue: open.value,
        'onUpdate:modelValue': (v: boolean) => (open.value = v),
        defaultCommunityId: 1,
        onCreated: created,
        ...props,
      }),
  })
  app.use(pinia).use(i18n)
  useAuthStore().user = { id: 1, username: 'police', role, display_name: '王警官', scopes: [] }
  app.mount(root)
  return { open, created }
}

beforeEach(() => {
  calls.length = 0
  localStorage.clear()
  setToken('tok-123', '2099-01-01T00:00:00Z')
})

afterEach(() => {
  app?.unmount()
  app = null
  document.body.innerHTML = ''
  vi.unstubAllGlobals()
})

describe('新增人员 dialog', () => {
  it('shows the server error under the field it names, and clears it on edit', async () => {
    stubFetch((url, init) =>
      url === '/api/v1/persons' && init.method === 'POST'
        ? json(422, { error: { code: 'invalid_id_number', message: '校验位错误', field: 'id_number' } })
        : undefined,
    )
    const { open, created } = mountDialog(PersonCreateDialog)
    await settle()
    expect(document.querySelector('[data-testid="person-create-dialog"]')).not.toBeNull()

    typeInto('person-input-name', '张三')
    typeInto('person-input-id_number', '370303199001011230')
    click('person-create-submit')
    await settle()

    const post = calls.find((c) => c.init.method === 'POST')
    expect(post, 'the form was posted').toBeDefined()
    expect((post!.init.headers as Record<string, string>).Authorization).toBe('Bearer tok-123')
    const body = JSON.parse(String(post!.init.body))
    expect(body).toMatchObject({
      community_id: 1,
      name: '张三',
      id_number: '370303199001011230',
      id_type: 'resident_id',
      gender: 'unknown',
      population_type: 'registered',
      tags: [],
    })
    expect(body).not.toHaveProperty('house_id')
    expect(fieldError('person-field-id_number')).toBe('校验位错误')
    expect(open.value).toBe(true)
    expect(created).not.toHaveBeenCalled()

    typeInto('person-input-id_number', '37030319900101123X')
    await settle()
    expect(fieldError('person-field-id_number')).toBe('')
  })

  it('checks required fields before posting', async () => {
    stubFetch(() => undefined)
    mountDialog(PersonCreateDialog)
    await settle()
    click('person-create-submit')
    await settle()
    expect(calls.some((c) => c.init.method === 'POST')).toBe(false)
    expect(fieldError('person-field-name')).toBe('请填写姓名')
    expect(fieldError('person-field-id_number')).toBe('请填写证件号码')
  })

  it('closes and reports the created person on 201', async () => {
    const person = { id: 9, community_id: 1, name: '张三', houses: [], tags: [] }
    stubFetch((url, init) => (url === '/api/v1/persons' && init.method === 'POST' ? json(201, person) : undefined))
    const { open, created } = mountDialog(PersonCreateDialog)
    await settle()
    typeInto('person-input-name', '张三')
    typeInto('person-input-id_number', '370303199001011230')
    click('person-create-submit')
    await settle()
    expect(created).toHaveBeenCalledWith(person)
    expect(open.value).toBe(false)
  })
})

describe('新增车辆 dialog', () => {
  it('posts an upper-cased plate and shows a plate error under its field', async () => {
    stubFetch((url, init) =>
      url === '/api/v1/vehicles' && init.method === 'POST'
        ? json(422, { error: { code: 'invalid_plate', message: 'not a plate', field: 'plate_number' } })
        : undefined,
    )
    mountDialog(VehicleCreateDialog)
    await settle()
    typeInto('vehicle-input-plate_number', '鲁c12345')
    click('vehicle-create-submit')
    await settle()
    const post = calls.find((c) => c.init.method === 'POST')
    expect(JSON.parse(String(post!.init.body))).toEqual({ community_id: 1, plate_number: '鲁C12345', plate_color: 'blue' })
    expect(fieldError('vehicle-field-plate_number')).toBe('not a plate')
  })
})

describe('person detail drawer', () => {
  const masked = {
    id: 7,
    community_id: 1,
    name: '李四',
    gender: 'male',
    id_type: 'resident_id',
    id_number: '370323********1234',
    phone: '138****5678',
    population_type: 'floating',
    tags: ['出租户'],
    houses: [{ house_id: 3, address: '1号楼1单元101', role: 'tenant', lease_start: '2026-01-01', lease_end: '2026-12-31' }],
  }

  function text(testid: string): string {
    return document.querySelector(`[data-testid="${testid}"]`)?.textContent?.trim() ?? ''
  }

  it('reveals the full numbers on request and notes that the access is audited', async () => {
    stubFetch((url) =>
      url === '/api/v1/persons/7?reveal=true'
        ? json(200, { ...masked, id_number: '370323199001011234', phone: '13812345678' })
        : undefined,
    )
    mountDialog(PersonDetailDrawer, { person: masked })
    await settle()
    expect(text('person-detail-id_number')).toBe('370323********1234')
    expect(document.querySelector('[data-testid="person-reveal-note"]')).toBeNull()
    click('person-reveal')
    await settle()
    expect(calls.map((c) => c.url)).toContain('/api/v1/persons/7?reveal=true')
    expect(text('person-detail-id_number')).toBe('370323199001011234')
    expect(text('person-detail-phone')).toBe('13812345678')
    expect(text('person-reveal-note')).toContain('访问已记录审计')
  })

  it('keeps the masked numbers when the server refuses (403)', async () => {
    stubFetch((url) =>
      url.includes('reveal=true') ? json(403, { error: { code: 'forbidden', message: 'may not reveal' } }) : undefined,
    )
    mountDialog(PersonDetailDrawer, { person: masked })
    await settle()
    click('person-reveal')
    await settle()
    expect(text('person-detail-id_number')).toBe('370323********1234')
    expect(document.querySelector('[data-testid="person-reveal-note"]')).toBeNull()
  })

  it('offers no reveal button to a role that may not reveal', async () => {
    stubFetch(() => undefined)
    mountDialog(PersonDetailDrawer, { person: masked }, 'guard')
    await settle()
    expect(document.querySelector('[data-testid="person-detail-drawer"]')).not.toBeNull()
    expect(document.querySelector('[data-testid="person-reveal"]')).toBeNull()
  })
})

describe('API client', () => {
  it('drops the token and calls the unauthorized handler on a 401', async () => {
    stubFetch(() => json(401, { error: { code: 'unauthorized', message: 'token expired' } }))
    const handler = vi.fn()
    setUnauthorizedHandler(handler)
    await expect(request('GET', '/auth/me')).rejects.toMatchObject({ status: 401, code: 'unauthorized' })
    expect(handler).toHaveBeenCalledOnce()
    expect(getToken()).toBeNull()
    setUnauthorizedHandler(() => {})
  })

  it('keeps the session on a failed login and sends no token with it', async () => {
    stubFetch(() => json(401, { error: { code: 'invalid_credentials', message: '用户名或密码错误' } }))
    const handler = vi.fn()
    setUnauthorizedHandler(handler)
    setActivePinia(createPinia())
    await expect(useAuthStore().login('a', 'b')).rejects.toMatchObject({ code: 'invalid_credentials' })
    expect(handler).not.toHaveBeenCalled()
    expect((calls[0].init.headers as Record<string, string>).Authorization).toBeUndefined()
    setUnauthorizedHandler(() => {})
  })
})
