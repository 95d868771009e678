// The closed value sets of the API (as arrays, for selects and label checks) and their label lookup.
import type {
  AccessOutcome,
  AccessReason,
  BoothCallStatus,
  CommunityCategory,
  CredentialKind,
  DeviceKind,
  DeviceProtocol,
  Gender,
  HouseRole,
  HouseUse,
  IdType,
  ImportKind,
  PopulationType,
  PropertyType,
  Role,
  ScopeKind,
} from '@/api/types'

export const ROLES: readonly Role[] = [
  'district_admin',
  'street_officer',
  'community_police',
  'grid_worker',
  'station_officer',
  'political_legal',
  'housing_construction',
  'big_data_centre',
  'property_manager',
  'guard',
  'resident',
  'auditor',
]

export const SCOPE_KINDS: readonly ScopeKind[] = ['district', 'street', 'community', 'house']

export const COMMUNITY_CATEGORIES: readonly CommunityCategory[] = [
  'new_built',
  'existing_closed',
  'open_closable',
  'open_video_only',
  'village',
]

export const PROPERTY_TYPES: readonly PropertyType[] = ['commercial', 'old', 'village']

export const HOUSE_USES: readonly HouseUse[] = ['owner_occupied', 'rented', 'vacant', 'commercial']

export const GENDERS: readonly Gender[] = ['male', 'female', 'unknown']

export const ID_TYPES: readonly IdType[] = [
  'resident_id',
  'hmt_residence_permit',
  'foreign_permanent_residence',
  'passport',
  'other',
]

export const POPULATION_TYPES: readonly PopulationType[] = ['registered', 'floating']

export const HOUSE_ROLES: readonly HouseRole[] = ['owner', 'family', 'tenant', 'staff']

export const DEVICE_KINDS: readonly DeviceKind[] = [
  'face_door_terminal',
  'door_controller',
  'barrier_gate',
  'face_capture_camera',
  'video_camera',
  'nvr',
  'perimeter_sensor',
  'alarm_button',
  'patrol_checkpoint',
  'patrol_reader',
  'smart_booth',
  'plate_capture_camera',
]

export const DEVICE_PROTOCOLS: readonly DeviceProtocol[] = ['mqtt', 'http_push', 'gat1400', 'gb28181']

/** Place kinds on a site plan (from the backend's domain model; unknown kinds show as sent). */
export const PLACE_KINDS: readonly string[] = [
  'pedestrian_entrance',
  'vehicle_entrance',
  'vehicle_lane',
  'car_park',
  'garage_entrance',
  'unit_door',
  'perimeter_zone',
  'road_point',
]

/** Plate colours as GA 36 names them; the API does not fix the set, so unknown values show as sent. */
export const PLATE_COLORS: readonly string[] = ['blue', 'yellow', 'green', 'white', 'black']

export const IMPORT_KINDS: readonly ImportKind[] = ['houses', 'persons', 'vehicles']

export const CREDENTIAL_KINDS: readonly CredentialKind[] = ['face', 'card', 'qr', 'pin', 'plate', 'booth']

export const ACCESS_OUTCOMES: readonly AccessOutcome[] = ['open', 'deny']

export const ACCESS_REASONS: readonly AccessReason[] = [
  'resident',
  'tenant_lease',
  'staff',
  'visitor_pass',
  'unknown_credential',
  'credential_invalid',
  'no_face_consent',
  'not_authorised_here',
  'lease_not_started',
  'lease_ended',
  'deny_listed',
  'not_an_access_point',
  'resident_vehicle',
  'temporary_parking',
  'parking_settled',
  'fee_due',
  'no_parking_session',
  'booth_accepted',
  'booth_denied',
  'booth_unanswered',
  'outside_schedule',
  'monthly_pass',
  'entry_check_denied',
  'entry_check_warned',
  'entry_check_unavailable',
]

export const BOOTH_CALL_STATUSES: readonly BoothCallStatus[] = ['ringing', 'accepted', 'denied', 'timed_out', 'abandoned']

/** A build project's stages, in order (the district programme). */
export const STAGES: readonly string[] = [
  'planned',
  'designed',
  'tendered',
  'under_construction',
  'self_checked',
  'acceptance_requested',
  'accepted',
  'networked',
]

/** Device classes the networking rate is reported by. */
export const DEVICE_CLASSES: readonly string[] = ['access', 'vehicle', 'capture', 'video', 'alarm', 'patrol', 'booth']

/** How a community's build-out is funded. */
export const FUNDING_MODES: readonly string[] = ['developer', 'property_fund', 'co_funded']

/** What a target measures. */
export const TARGET_METRICS: readonly string[] = ['built', 'networked']

/** Every enum group with its values: the i18n messages must label each one (checked by a unit test). */
export const ENUM_GROUPS = {
  role: ROLES,
  scopeKind: SCOPE_KINDS,
  category: COMMUNITY_CATEGORIES,
  propertyType: PROPERTY_TYPES,
  houseUse: HOUSE_USES,
  gender: GENDERS,
  idType: ID_TYPES,
  populationType: POPULATION_TYPES,
  houseRole: HOUSE_ROLES,
  deviceKind: DEVICE_KINDS,
  protocol: DEVICE_PROTOCOLS,
  placeKind: PLACE_KINDS,
  plateColor: PLATE_COLORS,
  importKind: IMPORT_KINDS,
  credentialKind: CREDENTIAL_KINDS,
  accessOutcome: ACCESS_OUTCOMES,
  accessReason: ACCESS_REASONS,
  boothCallStatus: BOOTH_CALL_STATUSES,
  stage: STAGES,
  deviceClass: DEVICE_CLASSES,
  fundingMode: FUNDING_MODES,
  metric: TARGET_METRICS,
} as const

export type EnumGroup = keyof typeof ENUM_GROUPS

/** A nested message table, as the i18n locale files are. */
export interface MessageTree {
  [key: string]: string | MessageTree
}

/**
 * The label of `value` in `group` from a locale's `enums` table, or the raw value when the
 * table has none (so a value the console does not know yet still shows), '—' for empty.
 */
export function enumLabel(enums: MessageTree, group: EnumGroup, value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—'
  const table = enums[group]
  if (table && typeof table === 'object') {
    const label = table[value]
    if (typeof label === 'string') return label
  }
  return value
}
