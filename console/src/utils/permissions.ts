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
]

function except(...denied: Permission[]): readonly Permission[] {
  return ALL.filter((p) => !denied.includes(p))
}

const GRANTS: Record<Role, readonly Permission[]> = {
  district_admin: except('reveal_pii'),
  street_officer: ['read_tree', 'read_persons', 'write_persons', 'read_vehicles', 'read_devices'],
  community_police: [
    'read_tree',
    'read_persons',
    'write_persons',
    'reveal_pii',
    'read_vehicles',
    'write_vehicles',
    'read_devices',
    'import_export',
  ],
  grid_worker: ['read_tree', 'read_persons', 'write_persons', 'reveal_pii', 'read_vehicles', 'import_export'],
  station_officer: ['read_tree', 'read_persons', 'reveal_pii', 'read_vehicles', 'read_devices'],
  political_legal: ['read_tree', 'read_devices'],
  housing_construction: ['read_tree', 'read_devices'],
  big_data_centre: ['read_tree', 'read_persons', 'read_vehicles', 'read_devices'],
  property_manager: except('read_audit', 'manage_users'),
  guard: ['read_tree', 'read_persons', 'read_vehicles', 'read_devices'],
  resident: ['read_tree', 'read_persons', 'read_vehicles'],
  auditor: ['read_audit'],
}

/** Whether `role` may do `permission`; an unknown or missing role may do nothing. */
export function can(role: string | null | undefined, permission: Permission): boolean {
  if (!role) return false
  const grants = (GRANTS as Record<string, readonly Permission[] | undefined>)[role]
  return grants ? grants.includes(permission) : false
}

/** One entry of the left menu. */
export interface MenuEntry {
  key: string
  path: string
  permission: Permission | null
}

/** The left menu, in order; `permission` null means everyone sees it. */
export const MENU: readonly MenuEntry[] = [
  { key: 'overview', path: '/overview', permission: null },
  { key: 'communities', path: '/communities', permission: 'read_tree' },
  { key: 'houses', path: '/houses', permission: 'read_tree' },
  { key: 'persons', path: '/persons', permission: 'read_persons' },
  { key: 'vehicles', path: '/vehicles', permission: 'read_vehicles' },
  { key: 'devices', path: '/devices', permission: 'read_devices' },
  { key: 'import', path: '/import', permission: 'import_export' },
  { key: 'audit', path: '/audit', permission: 'read_audit' },
]

/** The menu entries `role` may open. */
export function menuFor(role: string | null | undefined): MenuEntry[] {
  return MENU.filter((entry) => entry.permission === null || can(role, entry.permission))
}
