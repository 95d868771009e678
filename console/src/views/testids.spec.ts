// Server-side renders the pages (no network: onMounted does not run in SSR) to check the data-testid hooks end-to-end tests rely on;
// dialogs and drawers render only once mounted, so forms.spec.ts checks theirs in a DOM.
import { describe, expect, it } from 'vitest'
import { createSSRApp, h, type Component } from 'vue'
import { renderToString, type SSRContext } from 'vue/server-renderer'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import { ID_INJECTION_KEY, ZINDEX_INJECTION_KEY } from 'element-plus'
import { i18n } from '@/i18n'
import { useAuthStore } from '@/stores/auth'
import type { Role } from '@/api/types'
import LoginView from './LoginView.vue'
import OverviewView from './OverviewView.vue'
import CommunitiesView from './CommunitiesView.vue'
import HousesView from './HousesView.vue'
import PersonsView from './PersonsView.vue'
import VehiclesView from './VehiclesView.vue'
import DevicesView from './DevicesView.vue'
import ImportView from './ImportView.vue'
import AuditView from './AuditView.vue'
import AccessRecordsView from './AccessRecordsView.vue'
import BoothCallsView from './BoothCallsView.vue'
import AlarmsView from './AlarmsView.vue'
import LiveView from './LiveView.vue'
import PatrolView from './PatrolView.vue'
import WarningsView from './WarningsView.vue'
import WatchlistView from './WatchlistView.vue'
import FaceSearchView from './FaceSearchView.vue'
import ResidentView from './ResidentView.vue'
import MainLayout from '@/layouts/MainLayout.vue'

/** The HTML of `component` (teleported parts included) for a user with `role`, or signed out. */
async function render(component: Component, role: Role | null = null, props: Record<string, unknown> = {}): Promise<string> {
  const pinia = createPinia()
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [{ path: '/:p(.*)*', component: { render: () => h('div') } }],
  })
  const app = createSSRApp({ render: () => h(component, props) })
  app.use(pinia).use(i18n).use(router)
  app.provide(ID_INJECTION_KEY, { prefix: 1, current: 0 })
  app.provide(ZINDEX_INJECTION_KEY, { current: 0 })
  setActivePinia(pinia)
  if (role) {
    useAuthStore().user = { id: 1, username: 'u', role, display_name: '测试用户', scopes: [] }
  }
  await router.push('/overview')
  await router.isReady()
  const ctx: SSRContext = {}
  const html = await renderToString(app, ctx)
  return html + Object.values(ctx.teleports ?? {}).join('')
}

function expectIds(html: string, ids: string[]): void {
  const missing = ids.filter((id) => !html.includes(`data-testid="${id}"`))
  expect(missing).toEqual([])
}

describe('data-testid hooks', () => {
  it('are on the login inputs and button', async () => {
    const html = await render(LoginView)
    expectIds(html, ['login-form', 'login-username', 'login-password', 'login-submit', 'lang-switch'])
    expect(html).toMatch(/<input[^>]*data-testid="login-username"/)
    expect(html).toMatch(/<input[^>]*data-testid="login-password"/)
    expect(html).toMatch(/<button[^>]*data-testid="login-submit"/)
  })

  it('are on every menu item and the header of a district administrator', async () => {
    const html = await render(MainLayout, 'district_admin')
    const keys = [
      'overview',
      'communities',
      'houses',
      'persons',
      'vehicles',
      'devices',
      'live',
      'access-records',
      'booth-calls',
      'alarms',
      'patrol',
      'warnings',
      'import',
      'audit',
    ]
    for (const key of keys) expect(html).toMatch(new RegExp(`<li[^>]*data-testid="menu-${key}"`))
    expectIds(html, ['app-menu', 'header-user', 'header-role', 'lang-switch', 'logout'])
    expect(html).toContain('区级管理员')
  })

  it('show the watch-list pages to police only', async () => {
    const police = await render(MainLayout, 'community_police')
    expectIds(police, ['menu-watchlist', 'menu-face-search', 'menu-warnings', 'menu-alarms', 'menu-live'])
    const pm = await render(MainLayout, 'property_manager')
    expectIds(pm, ['menu-alarms', 'menu-patrol', 'menu-warnings', 'menu-live'])
    expect(pm).not.toContain('data-testid="menu-watchlist"')
    expect(pm).not.toContain('data-testid="menu-face-search"')
  })

  it('leave out what an auditor may not open', async () => {
    const html = await render(MainLayout, 'auditor')
    expectIds(html, ['menu-overview', 'menu-audit'])
    expect(html).not.toContain('data-testid="menu-persons"')
  })

  it('are on the list pages', async () => {
    expectIds(await render(OverviewView, 'district_admin'), [
      'overview-card-communities',
      'overview-card-houses',
      'overview-card-persons',
      'overview-card-devices',
      'overview-count-communities',
    ])
    expectIds(await render(CommunitiesView, 'district_admin'), [
      'communities-filter-street',
      'communities-filter-category',
      'communities-filter-q',
      'communities-search',
      'communities-table',
      'communities-pagination',
    ])
    expectIds(await render(HousesView, 'district_admin'), [
      'houses-filter-community',
      'houses-filter-building',
      'houses-filter-unit',
      'houses-table',
      'houses-pagination',
    ])
    expectIds(await render(PersonsView, 'community_police'), [
      'persons-filter-community',
      'persons-filter-q',
      'persons-filter-id_number',
      'persons-search',
      'persons-table',
      'persons-pagination',
      'person-create',
    ])
    expectIds(await render(VehiclesView, 'community_police'), [
      'vehicles-filter-community',
      'vehicles-filter-plate_number',
      'vehicles-table',
      'vehicles-pagination',
      'vehicle-create',
    ])
    expectIds(await render(DevicesView, 'district_admin'), [
      'devices-filter-community',
      'devices-filter-kind',
      'devices-table',
      'devices-pagination',
    ])
    expectIds(await render(ImportView, 'community_police'), [
      'import-kind',
      'import-kind-persons',
      'import-community',
      'import-upload',
      'import-template',
      'import-submit',
      'import-export',
    ])
    expectIds(await render(AuditView, 'auditor'), ['audit-table', 'audit-pagination'])
    expectIds(await render(AccessRecordsView, 'property_manager'), [
      'access-records-filter-community',
      'access-records-auto-refresh',
      'access-records-refresh',
      'access-records-table',
      'access-records-pagination',
    ])
    expectIds(await render(AlarmsView, 'property_manager'), [
      'alarms-stats',
      'alarms-stat-total',
      'alarms-stat-open',
      'alarms-live-status',
      'alarms-filter-state',
      'alarms-filter-kind',
      'alarms-filter-open',
      'alarms-refresh',
      'alarms-table',
      'alarms-pagination',
    ])
    expectIds(await render(LiveView, 'property_manager'), [
      'live-filter-community',
      'live-status',
      'live-pause',
      'live-received',
      'live-access-feed',
      'live-event-feed',
    ])
    expectIds(await render(PatrolView, 'property_manager'), [
      'patrol-filter-community',
      'patrol-report-table',
      'patrol-rounds-table',
      'patrol-routes-table',
      'patrol-route-create',
    ])
    expectIds(await render(WarningsView, 'community_police'), [
      'warnings-filter-kind',
      'warnings-filter-state',
      'warnings-filter-open',
      'warnings-table',
      'warning-rules',
      'warning-rules-community',
    ])
    expectIds(await render(WatchlistView, 'community_police'), ['watchlist-entries-table', 'watchlist-filter-status'])
    expectIds(await render(FaceSearchView, 'community_police'), ['face-search-upload', 'face-search-submit', 'strangers-table'])
    expectIds(await render(ResidentView, 'resident'), [
      'resident-page',
      'resident-house',
      'resident-qr',
      'resident-qr-show',
      'resident-invite',
      'resident-visitor-name',
      'resident-invite-submit',
      'resident-ways',
      'logout',
    ])
    expectIds(await render(BoothCallsView, 'guard'), [
      'booth-calls-ringing-count',
      'booth-calls-filter-community',
      'booth-calls-filter-status',
      'booth-calls-reset',
      'booth-calls-refresh',
      'booth-calls-table',
      'booth-calls-pagination',
    ])
  })
})
