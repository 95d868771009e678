// Routes of the console and the guard that sends signed-out users to the login page.
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { useAuthStore } from '@/stores/auth'
import { BOOTH_CALLS_NEED, LIVE_NEED, RESIDENT_NEED, WARNINGS_NEED, type Gate } from '@/utils/permissions'
import { i18n } from '@/i18n'

declare module 'vue-router' {
  interface RouteMeta {
    /** Reachable without a session. */
    public?: boolean
    /** What the role must be allowed to open it (any one of a list, or a test of the role). */
    permission?: Gate
    /** i18n key of the page title. */
    title?: string
  }
}

const routes: RouteRecordRaw[] = [
  {
    path: '/login',
    name: 'login',
    component: () => import('@/views/LoginView.vue'),
    meta: { public: true, title: 'login.submit' },
  },
  {
    path: '/my-home',
    name: 'my-home',
    component: () => import('@/views/ResidentView.vue'),
    meta: { permission: RESIDENT_NEED, title: 'menu.myHome' },
  },
  {
    path: '/',
    component: () => import('@/layouts/MainLayout.vue'),
    redirect: '/overview',
    children: [
      {
        path: 'overview',
        name: 'overview',
        component: () => import('@/views/OverviewView.vue'),
        meta: { title: 'menu.overview' },
      },
      {
        path: 'communities',
        name: 'communities',
        component: () => import('@/views/CommunitiesView.vue'),
        meta: { permission: 'read_tree', title: 'menu.communities' },
      },
      {
        path: 'communities/:id',
        name: 'community',
        component: () => import('@/views/CommunityDetailView.vue'),
        props: true,
        meta: { permission: 'read_tree', title: 'community.title' },
      },
      {
        path: 'houses',
        name: 'houses',
        component: () => import('@/views/HousesView.vue'),
        meta: { permission: 'read_tree', title: 'menu.houses' },
      },
      {
        path: 'persons',
        name: 'persons',
        component: () => import('@/views/PersonsView.vue'),
        meta: { permission: 'read_persons', title: 'menu.persons' },
      },
      {
        path: 'vehicles',
        name: 'vehicles',
        component: () => import('@/views/VehiclesView.vue'),
        meta: { permission: 'read_vehicles', title: 'menu.vehicles' },
      },
      {
        path: 'devices',
        name: 'devices',
        component: () => import('@/views/DevicesView.vue'),
        meta: { permission: 'read_devices', title: 'menu.devices' },
      },
      {
        path: 'live',
        name: 'live',
        component: () => import('@/views/LiveView.vue'),
        meta: { permission: LIVE_NEED, title: 'menu.live' },
      },
      {
        path: 'alarms',
        name: 'alarms',
        component: () => import('@/views/AlarmsView.vue'),
        meta: { permission: 'read_alarms', title: 'menu.alarms' },
      },
      {
        path: 'patrol',
        name: 'patrol',
        component: () => import('@/views/PatrolView.vue'),
        meta: { permission: 'read_alarms', title: 'menu.patrol' },
      },
      {
        path: 'warnings',
        name: 'warnings',
        component: () => import('@/views/WarningsView.vue'),
        meta: { permission: WARNINGS_NEED, title: 'menu.warnings' },
      },
      {
        path: 'watchlist',
        name: 'watchlist',
        component: () => import('@/views/WatchlistView.vue'),
        meta: { permission: 'read_watchlists', title: 'menu.watchlist' },
      },
      {
        path: 'face-search',
        name: 'face-search',
        component: () => import('@/views/FaceSearchView.vue'),
        meta: { permission: 'read_watchlists', title: 'menu.faceSearch' },
      },
      {
        path: 'access-records',
        name: 'access-records',
        component: () => import('@/views/AccessRecordsView.vue'),
        meta: { permission: 'read_persons', title: 'menu.accessRecords' },
      },
      {
        path: 'trajectory',
        name: 'trajectory',
        component: () => import('@/views/TrajectoryView.vue'),
        meta: { permission: 'read_persons', title: 'menu.trajectory' },
      },
      {
        path: 'booth-calls',
        name: 'booth-calls',
        component: () => import('@/views/BoothCallsView.vue'),
        meta: { permission: BOOTH_CALLS_NEED, title: 'menu.boothCalls' },
      },
      {
        path: 'programme',
        name: 'programme',
        component: () => import('@/views/ProgrammeView.vue'),
        meta: { permission: 'read_programme', title: 'menu.programme' },
      },
      {
        path: 'programme-tasks',
        name: 'programme-tasks',
        component: () => import('@/views/ProgrammeTasksView.vue'),
        meta: { permission: 'read_programme', title: 'menu.programmeTasks' },
      },
      {
        path: 'import',
        name: 'import',
        component: () => import('@/views/ImportView.vue'),
        meta: { permission: 'import_export', title: 'menu.import' },
      },
      {
        path: 'audit',
        name: 'audit',
        component: () => import('@/views/AuditView.vue'),
        meta: { permission: 'read_audit', title: 'menu.audit' },
      },
    ],
  },
  { path: '/:pathMatch(.*)*', redirect: '/overview' },
]

export const router = createRouter({
  history: createWebHistory(import.meta.env.BASE_URL),
  routes,
})

router.beforeEach(async (to) => {
  const auth = useAuthStore()
  if (to.meta.public) {
    return to.name === 'login' && auth.isLoggedIn ? { name: 'overview' } : true
  }
  if (!auth.isLoggedIn) {
    return { name: 'login', query: to.fullPath === '/' ? {} : { redirect: to.fullPath } }
  }
  if (!auth.user) {
    try {
      await auth.loadMe()
    } catch {
      if (!auth.isLoggedIn) return { name: 'login', query: { redirect: to.fullPath } }
    }
  }
  // Residents land on their own page (a phone-sized view of their house) rather than the overview.
  if (to.name === 'overview' && auth.role === 'resident') return { name: 'my-home' }
  if (to.meta.permission && !auth.can(to.meta.permission)) {
    return to.name === 'overview' ? true : { name: 'overview' }
  }
  return true
})

router.afterEach((to) => {
  const app = i18n.global.t('app.title')
  document.title = to.meta.title ? `${i18n.global.t(to.meta.title)} - ${app}` : app
})
