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
  | 'read_programme'
  | 'manage_programme'

const ALL: readonly Permission[] = [
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
  'read_programme',
  'manage_programme',
]

function except(...denied: Permission[]): readonly Permission[] {
  return ALL.filter((p) => !denied.includes(p))
}

const GRANTS: Record<Role, readonly Permission[]> = {
  district_admin: except('reveal_pii', 'invite_visitors'),
  street_officer: [
    'read_tree',
    'read_persons',
    'write_persons',
    'read_vehicles',
    'read_devices',
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
    'read_programme',
  ],
  grid_worker: ['read_tree', 'read_persons', 'write_persons', 'reveal_pii', 'read_vehicles', 'import_export'],
  station_officer: ['read_tree', 'read_persons', 'reveal_pii', 'read_vehicles', 'read_devices', 'read_programme'],
  political_legal: ['read_tree', 'read_devices', 'read_programme', 'manage_programme'],
  housing_construction: ['read_tree', 'read_devices', 'read_programme'],
  big_data_centre: ['read_tree', 'read_persons', 'read_vehicles', 'read_devices', 'read_programme'],
  property_manager: except('read_audit', 'manage_users', 'manage_programme'),
  guard: ['read_tree', 'read_persons', 'read_vehicles', 'read_devices', 'invite_visitors', 'manage_parking'],
  resident: ['read_tree', 'read_persons', 'read_vehicles', 'invite_visitors'],
  auditor: ['read_audit'],
}

/** What a page or action needs: one permission, or a list of which any one will do. */
export type Need = Permission | readonly Permission[]

/**
 * Whether `role` may do `need` (any one of them, for a list); an unknown or missing role may
 * do nothing.
 */
export function can(role: string | null | undefined, need: Need): boolean {
  if (!role) return false
  const grants = (GRANTS as Record<string, readonly Permission[] | undefined>)[role]
  if (!grants) return false
  return typeof need === 'string' ? grants.includes(need) : need.some((p) => grants.includes(p))
}

/** What the 岗亭呼叫 page needs: duty guards and property staff, or residents (their own house's calls). */
export const BOOTH_CALLS_NEED: Need = ['manage_parking', 'invite_visitors']

/** One entry of the left menu; `title` is the i18n key of its label. */
export interface MenuEntry {
  key: string
  path: string
  title: string
  permission: Need | null
}

/** The left menu, in order; `permission` null means everyone sees it. */
export const MENU: readonly MenuEntry[] = [
  { key: 'overview', path: '/overview', title: 'menu.overview', permission: null },
  { key: 'communities', path: '/communities', title: 'menu.communities', permission: 'read_tree' },
  { key: 'houses', path: '/houses', title: 'menu.houses', permission: 'read_tree' },
  { key: 'persons', path: '/persons', title: 'menu.persons', permission: 'read_persons' },
  { key: 'vehicles', path: '/vehicles', title: 'menu.vehicles', permission: 'read_vehicles' },
  { key: 'devices', path: '/devices', title: 'menu.devices', permission: 'read_devices' },
  { key: 'access-records', path: '/access-records', title: 'menu.accessRecords', permission: 'read_persons' },
  { key: 'booth-calls', path: '/booth-calls', title: 'menu.boothCalls', permission: BOOTH_CALLS_NEED },
  { key: 'programme', path: '/programme', title: 'menu.programme', permission: 'read_programme' },
  { key: 'programme-tasks', path: '/programme-tasks', title: 'menu.programmeTasks', permission: 'read_programme' },
  { key: 'import', path: '/import', title: 'menu.import', permission: 'import_export' },
  { key: 'audit', path: '/audit', title: 'menu.audit', permission: 'read_audit' },
]

/** The menu entries `role` may open. */
export function menuFor(role: string | null | undefined): MenuEntry[] {
  return MENU.filter((entry) => entry.permission === null || can(role, entry.permission))
}
