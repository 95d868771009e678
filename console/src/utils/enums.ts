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
  'cashier',
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

/** Alarm kinds (anfang-domain `AlarmKind`); a newer server's kind shows as sent. */
export const ALARM_KINDS: readonly string[] = [
  'perimeter_intrusion',
  'door_forced',
  'door_held_open',
  'device_tamper',
  'fire_smoke',
  'sos',
  'loitering',
  'climbing',
  'crowding',
  'fall',
  'fighting',
  'device_offline',
  'patrol_missed',
  'other',
]

export const ALARM_SEVERITIES: readonly string[] = ['critical', 'major', 'minor']

/** An alarm's lifecycle: new → acknowledged → dispatched → resolved or false alarm. */
export const ALARM_STATES: readonly string[] = ['new', 'acknowledged', 'dispatched', 'resolved', 'false_alarm']

/** The steps of an alarm's history: the system's and the people's. */
export const ALARM_STEPS: readonly string[] = [
  'raise',
  'repeat',
  'escalate',
  'acknowledge',
  'dispatch',
  'resolve',
  'mark_false',
]

/** Where an alarm came from. */
export const ALARM_SOURCES: readonly string[] = ['device', 'offline', 'patrol', 'rule']

export const WARNING_KINDS: readonly string[] = [
  'watch_hit',
  'frequent_stranger',
  'elderly_unseen',
  'group_rental',
  'tenant_unregistered',
  'vehicle_overstay',
  'tailgating',
]

export const WARNING_STATES: readonly string[] = ['to_confirm', 'open', 'confirmed', 'rejected', 'closed']

export const WARNING_AUDIENCES: readonly string[] = ['police', 'welfare', 'registry', 'property']

/** The early-warning rules of a community (the keys of its thresholds). */
export const WARNING_RULES: readonly string[] = ['stranger', 'elderly', 'group_rental', 'tenant', 'vehicle', 'tailgating']

/** A judged patrol round. */
export const ROUND_STATUSES: readonly string[] = ['complete', 'irregular', 'incomplete']

/** What the live feed sends. */
export const LIVE_KINDS: readonly string[] = ['access', 'alarm', 'warning', 'patrol', 'booth', 'fee', 'lagged']

/** What a police watch-list entry watches for. */
export const WATCH_CATEGORIES: readonly string[] = ['person', 'motor_vehicle', 'non_motor_vehicle', 'keyword']

export const WATCH_STATUSES: readonly string[] = ['active', 'revoked']

/** A watch-list hit waits for a person to confirm it. */
export const HIT_STATES: readonly string[] = ['to_confirm', 'confirmed', 'rejected']

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
  alarmKind: ALARM_KINDS,
  alarmSeverity: ALARM_SEVERITIES,
  alarmState: ALARM_STATES,
  alarmStep: ALARM_STEPS,
  alarmSource: ALARM_SOURCES,
  warningKind: WARNING_KINDS,
  warningState: WARNING_STATES,
  warningAudience: WARNING_AUDIENCES,
  warningRule: WARNING_RULES,
  roundStatus: ROUND_STATUSES,
  liveKind: LIVE_KINDS,
  watchCategory: WATCH_CATEGORIES,
  watchStatus: WATCH_STATUSES,
  hitState: HIT_STATES,
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
