// End-to-end-style test of the whole console in a DOM against a stubbed API: login, overview counts, session loss, logout.
// @vitest-environment happy-dom
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { nextTick } from 'vue'

function json(status: number, body: unknown): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  })
}

const calls: { method: string; url: string; auth?: string }[] = []
let meStatus = 200

const TOTALS: Record<string, number> = { communities: 12, houses: 3400, persons: 9100, devices: 257, streets: 3 }

beforeAll(() => {
  document.body.innerHTML = '<div id="app"></div>'
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init: RequestInit = {}) => {
      const method = init.method ?? 'GET'
      const headers = (init.headers ?? {}) as Record<string, string>
      calls.push({ method, url, auth: headers.Authorization })
      const path = url.split('?')[0]
      if (path === '/api/v1/auth/login') {
        const { username, password } = JSON.parse(String(init.body))
        if (username === 'zhang' && password === 'secret') {
          return json(200, {
            token: 'tok-1',
            expires_at: '2099-01-01T00:00:00Z',
            user: { id: 1, username: 'zhang', role: 'district_admin', display_name: '张主任' },
          })
        }
        return json(401, { error: { code: 'invalid_credentials', message: '用户名或密码错误' } })
      }
      if (path === '/api/v1/auth/me') {
        if (meStatus === 401) return json(401, { error: { code: 'unauthorized', message: 'expired' } })
        return json(200, {
          id: 1,
          username: 'zhang',
          role: 'district_admin',
          display_name: '张主任',
          scopes: [{ kind: 'district', target: '' }],
        })
      }
      if (path === '/api/v1/auth/logout') return json(204, null)
      const kind = path.replace('/api/v1/', '')
      if (kind in TOTALS) return json(200, { items: [], total: TOTALS[kind], page: 1, page_size: 1 })
      return json(404, { error: { code: 'not_found', message: 'no such thing' } })
    }),
  )
})

afterAll(() => {
  vi.unstubAllGlobals()
})

async function settle(ms = 150): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await new Promise((r) => setTimeout(r, 0))
    await nextTick()
  }
  await new Promise((r) => setTimeout(r, ms))
}

/** Waits until `check` holds (lazy pages are compiled on first use, which takes a while here). */
async function until(check: () => boolean, timeout = 15_000): Promise<void> {
  const start = Date.now()
  while (!check()) {
    if (Date.now() - start > timeout) throw new Error(`condition not met in ${timeout} ms: ${check.toString()}`)
    await settle(20)
  }
  await settle()
}

function input(testid: string, value: string): void {
  const el = document.querySelector<HTMLInputElement>(`input[data-testid="${testid}"]`)
  expect(el, testid).not.toBeNull()
  el!.value = value
  el!.dispatchEvent(new Event('input', { bubbles: true }))
}

function click(testid: string): void {
  const el = document.querySelector<HTMLElement>(`[data-testid="${testid}"]`)
  expect(el, testid).not.toBeNull()
  el!.click()
}

function text(testid: string): string {
  return document.querySelector(`[data-testid="${testid}"]`)?.textContent?.trim() ?? ''
}

describe('console', { timeout: 30_000 }, () => {
  it('starts on the login page, refuses bad credentials, then logs in to the overview', async () => {
    await import('./main')
    const { router } = await import('./router')
    await until(() => document.querySelector('[data-testid="login-submit"]') !== null)
    expect(router.currentRoute.value.name).toBe('login')
    expect(document.documentElement.lang).toBe('zh-CN')

    input('login-username', 'zhang')
    input('login-password', 'wrong')
    click('login-submit')
    await settle()
    expect(text('login-error')).toBe('用户名或密码错误')
    expect(router.currentRoute.value.name).toBe('login')

    input('login-password', 'secret')
    click('login-submit')
    await until(() => text('overview-count-devices') !== '')
    expect(router.currentRoute.value.name).toBe('overview')
    expect(localStorage.getItem('anfang.token')).toBe('tok-1')
    expect(text('header-user')).toBe('张主任')
    expect(text('header-role')).toBe('区级管理员')
    expect(text('overview-count-communities')).toBe('12')
    expect(text('overview-count-devices')).toBe('257')
    const listCall = calls.find((c) => c.url.startsWith('/api/v1/houses'))
    expect(listCall?.auth).toBe('Bearer tok-1')
    expect(listCall?.url).toContain('page_size=1')
  })

  it('switches to English and back', async () => {
    click('lang-switch')
    await settle(0)
    expect(document.documentElement.lang).toBe('en')
    expect(text('header-role')).toBe('District administrator')
    expect(text('menu-persons')).toBe('Persons')
    click('lang-switch')
    await settle(0)
    expect(text('menu-persons')).toBe('人员')
  })

  it('goes back to the login page when the session is gone (401)', async () => {
    const { router } = await import('./router')
    const { useAuthStore } = await import('./stores/auth')
    meStatus = 401
    useAuthStore().user = null // forces /auth/me on the next navigation
    await router.push('/devices')
    await until(() => router.currentRoute.value.name === 'login')
    expect(router.currentRoute.value.name).toBe('login')
    expect(router.currentRoute.value.query.redirect).toBe('/devices')
    expect(localStorage.getItem('anfang.token')).toBeNull()
    meStatus = 200
  })

  it('logs out', async () => {
    const { router } = await import('./router')
    input('login-username', 'zhang')
    input('login-password', 'secret')
    click('login-submit')
    await until(() => document.querySelector('[data-testid="devices-table"]') !== null)
    expect(router.currentRoute.value.path).toBe('/devices')
    click('logout')
    await until(() => document.querySelector('[data-testid="login-submit"]') !== null)
    expect(calls.some((c) => c.method === 'POST' && c.url === '/api/v1/auth/logout' && c.auth === 'Bearer tok-1')).toBe(true)
    expect(router.currentRoute.value.name).toBe('login')
    expect(localStorage.getItem('anfang.token')).toBeNull()
  })
})
