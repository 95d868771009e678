// What each role may do, mirroring the backend's `Role::allows` (anfang-domain), to hide what would only answer 403.
import type { Role } from '@/api/types'

export type Permission =
  | 'read_tree'
  | 'write_tree'
  | 'read_persons'
  | 'write_persons'
  | 'reveal_pii'
  | 'read_vehicles'
  | 'write_vehicles'
  | 'read_devices'
  | 'write_devices'
  | 'import_export'
  | 'read_audit'
  | 'manage_users'
  | 'invite_visitors'
  | 'manage_parking'
  | 'read_watchlists'
  | 'read_alarms'
  | 'handle_alarms'
  | 'manage_patrol'
  | 'configure_warnings'
  | 'read_programme'
  | 'manage_programme'
  | 'sign_acceptance'
  | 'read_fees'
  | 'manage_fees'
  | 'collect_fees'

/** Every permission, in the backend's declaration order (`Permission` in anfang-domain's model.rs). */
export const PERMISSIONS: readonly Permission[] = [
  'read_tree',
  'write_tree',
  'read_persons',
  'write_persons',
  'reveal_pii',
  'read_vehicles',
  'write_vehicles',
  'read_devices',
  'write_devices',
  'import_export',
  'read_audit',
  'manage_users',
  'invite_visitors',
  'manage_parking',
  'read_watchlists',
  'read_alarms',
  'handle_alarms',
  'manage_patrol',
  'configure_warnings',
  'read_programme',
  'manage_programme',
  'sign_acceptance',
  'read_fees',
  'manage_fees',
  'collect_fees',
]

function except(...denied: Permission[]): readonly Permission[] {
  return PERMISSIONS.filter((p) => !denied.includes(p))
}

/** `Role::allows`, role by role, in the same words: "all but" for the two broad roles, a list for the others. */
const GRANTS: Record<Role, readonly Permission[]> = {
  district_admin: except(
    'reveal_pii',
    'invite_visitors',
    'read_watchlists',
    'sign_acceptance',
    'read_fees',
    'manage_fees',
    'collect_fees',
  ),
  street_officer: [
    'read_tree',
    'read_persons',
    'write_persons',
    'read_vehicles',
    'read_devices',
    'read_alarms',
    'read_programme',
    'manage_programme',
  ],
  community_police: [
    'read_tree',
    'read_persons',
    'write_persons',
    'reveal_pii',
    'read_vehicles',
    'write_vehicles',
    'read_devices',
    'import_export',
    'read_watchlists',
    'read_alarms',
    'handle_alarms',
    'configure_warnings',
    'read_programme',
    'sign_acceptance',
  ],
  grid_worker: [
    'read_tree',
    'read_persons',
    'write_persons',
    'reveal_pii',
    'read_vehicles',
    'import_export',
    'read_alarms',
  ],
  station_officer: [
    'read_tree',
    'read_persons',
    'reveal_pii',
    'read_vehicles',
    'read_devices',
    'read_watchlists',
    'read_alarms',
    'handle_alarms',
    'configure_warnings',
    'read_programme',
    'sign_acceptance',
  ],
  political_legal: ['read_tree', 'read_devices', 'read_alarms', 'read_programme', 'manage_programme'],
  housing_construction: ['read_tree', 'read_devices', 'read_programme', 'sign_acceptance'],
  big_data_centre: ['read_tree', 'read_persons', 'read_vehicles', 'read_devices', 'read_programme'],
  property_manager: except(
    'read_audit',
    'manage_users',
    'read_watchlists',
    'configure_warnings',
    'manage_programme',
    'sign_acceptance',
  ),
  guard: [
    'read_tree',
    'read_persons',
    'read_vehicles',
    'read_devices',
    'invite_visitors',
    'manage_parking',
    'read_alarms',
    'handle_alarms',
  ],
  resident: ['read_tree', 'read_persons', 'read_vehicles', 'invite_visitors', 'read_fees'],
  auditor: ['read_audit'],
  cashier: ['read_tree', 'read_fees', 'collect_fees'],
}

/** What a page or action needs: one permission, or a list of which any one will do. */
export type Need = Permission | readonly Permission[]

/** A need, or a test of the role itself (for what the backend decides by role rather than permission). */
export type Gate = Need | ((role: string) => boolean)

/**
 * Whether `role` may do `need` (any one of them, for a list; a role test is asked directly); an
 * unknown or missing role may do nothing.
 */
export function can(role: string | null | undefined, need: Gate): boolean {
  if (!role) return false
  const grants = (GRANTS as Record<string, readonly Permission[] | undefined>)[role]
  if (!grants) return false
  if (typeof need === 'function') return need(role)
  return typeof need === 'string' ? grants.includes(need) : need.some((p) => grants.includes(p))
}

/** What the 岗亭呼叫 page needs: duty guards and property staff, or residents (their own house's calls). */
export const BOOTH_CALLS_NEED: Need = ['manage_parking', 'invite_visitors']

/** Who may open the live feed (`App::subscribe_live`: whoever reads devices or alarms). */
export const LIVE_NEED: Need = ['read_devices', 'read_alarms']

/** Who an early warning is for (`warning::Audience`). */
export type Audience = 'police' | 'welfare' | 'registry' | 'property'

/** The audiences each role sees (`Audience::seen_by`); roles not listed see no warnings. */
const SEES: Partial<Record<string, readonly Audience[]>> = {
  community_police: ['police', 'welfare', 'registry', 'property'],
  station_officer: ['police', 'welfare', 'registry', 'property'],
  grid_worker: ['welfare', 'registry'],
  street_officer: ['welfare', 'registry'],
  property_manager: ['property'],
  guard: ['property'],
  district_admin: ['welfare', 'registry', 'property'],
  political_legal: ['welfare', 'registry', 'property'],
}

/** The warning audiences `role` sees (none: no 研判预警 page). */
export function warningAudiences(role: string | null | undefined): readonly Audience[] {
  return (role && SEES[role]) || []
}

/** Whether `role` may act on (not only read) a warning for `audience` (`Audience::handled_by`). */
export function handlesWarning(role: string | null | undefined, audience: string): boolean {
  switch (role) {
    case 'community_police':
    case 'station_officer':
      return true
    case 'grid_worker':
      return audience === 'welfare' || audience === 'registry'
    case 'property_manager':
    case 'guard':
      return audience === 'property'
    default:
      return false
  }
}

/** What the 研判预警 page needs: a role that sees some audience. */
export const WARNINGS_NEED: Gate = (role) => warningAudiences(role).length > 0

/** The resident's own page (我的家): residents, whose scope is their house. */
export const RESIDENT_NEED: Gate = (role) => role === 'resident'

/** One entry of the left menu; `title` is the i18n key of its label. */
export interface MenuEntry {
  key: string
  path: string
  title: string
  permission: Gate | null
}

/** The left menu, in order; `permission` null means everyone sees it. */
export const MENU: readonly MenuEntry[] = [
  { key: 'overview', path: '/overview', title: 'menu.overview', permission: null },
  { key: 'my-home', path: '/my-home', title: 'menu.myHome', permission: RESIDENT_NEED },
  { key: 'communities', path: '/communities', title: 'menu.communities', permission: 'read_tree' },
  { key: 'houses', path: '/houses', title: 'menu.houses', permission: 'read_tree' },
  { key: 'persons', path: '/persons', title: 'menu.persons', permission: 'read_persons' },
  { key: 'vehicles', path: '/vehicles', title: 'menu.vehicles', permission: 'read_vehicles' },
  { key: 'devices', path: '/devices', title: 'menu.devices', permission: 'read_devices' },
  { key: 'live', path: '/live', title: 'menu.live', permission: LIVE_NEED },
  { key: 'access-records', path: '/access-records', title: 'menu.accessRecords', permission: 'read_persons' },
  { key: 'booth-calls', path: '/booth-calls', title: 'menu.boothCalls', permission: BOOTH_CALLS_NEED },
  { key: 'alarms', path: '/alarms', title: 'menu.alarms', permission: 'read_alarms' },
  { key: 'patrol', path: '/patrol', title: 'menu.patrol', permission: 'read_alarms' },
  { key: 'warnings', path: '/warnings', title: 'menu.warnings', permission: WARNINGS_NEED },
  { key: 'watchlist', path: '/watchlist', title: 'menu.watchlist', permission: 'read_watchlists' },
  { key: 'face-search', path: '/face-search', title: 'menu.faceSearch', permission: 'read_watchlists' },
  { key: 'programme', path: '/programme', title: 'menu.programme', permission: 'read_programme' },
  { key: 'programme-tasks', path: '/programme-tasks', title: 'menu.programmeTasks', permission: 'read_programme' },
  { key: 'import', path: '/import', title: 'menu.import', permission: 'import_export' },
  { key: 'audit', path: '/audit', title: 'menu.audit', permission: 'read_audit' },
]

/** The menu entries `role` may open. */
export function menuFor(role: string | null | undefined): MenuEntry[] {
  return MENU.filter((entry) => entry.permission === null || can(role, entry.permission))
}
