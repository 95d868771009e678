// Wire types of the Anfang HTTP API (`/api/v1`), as JSON in snake_case.

export type Role =
  | 'district_admin'
  | 'street_officer'
  | 'community_police'
  | 'grid_worker'
  | 'station_officer'
  | 'political_legal'
  | 'housing_construction'
  | 'big_data_centre'
  | 'property_manager'
  | 'guard'
  | 'resident'
  | 'auditor'

export type ScopeKind = 'district' | 'street' | 'community' | 'house'

export type CommunityCategory =
  | 'new_built'
  | 'existing_closed'
  | 'open_closable'
  | 'open_video_only'
  | 'village'

export type PropertyType = 'commercial' | 'old' | 'village'

export type HouseUse = 'owner_occupied' | 'rented' | 'vacant' | 'commercial'

export type Gender = 'male' | 'female' | 'unknown'

export type IdType =
  | 'resident_id'
  | 'hmt_residence_permit'
  | 'foreign_permanent_residence'
  | 'passport'
  | 'other'

export type PopulationType = 'registered' | 'floating'

export type HouseRole = 'owner' | 'family' | 'tenant' | 'staff'

export type DeviceKind =
  | 'face_door_terminal'
  | 'door_controller'
  | 'barrier_gate'
  | 'face_capture_camera'
  | 'video_camera'
  | 'nvr'
  | 'perimeter_sensor'
  | 'alarm_button'
  | 'patrol_checkpoint'
  | 'patrol_reader'
  | 'smart_booth'
  | 'plate_capture_camera'

export type DeviceProtocol = 'mqtt' | 'http_push' | 'gat1400' | 'gb28181'

export type ImportKind = 'houses' | 'persons' | 'vehicles'

/** How a person identified at a door or gate (`booth`: a call answered at the smart booth). */
export type CredentialKind = 'face' | 'card' | 'qr' | 'pin' | 'plate' | 'booth'

export type AccessOutcome = 'open' | 'deny'

/** The stable reason codes of access decisions (anfang-domain `Reason`). */
export type AccessReason =
  | 'resident'
  | 'tenant_lease'
  | 'staff'
  | 'visitor_pass'
  | 'unknown_credential'
  | 'credential_invalid'
  | 'no_face_consent'
  | 'not_authorised_here'
  | 'lease_not_started'
  | 'lease_ended'
  | 'deny_listed'
  | 'not_an_access_point'
  | 'resident_vehicle'
  | 'temporary_parking'
  | 'parking_settled'
  | 'fee_due'
  | 'no_parking_session'
  | 'booth_accepted'
  | 'booth_denied'
  | 'booth_unanswered'
  | 'outside_schedule'
  | 'monthly_pass'
  | 'entry_check_denied'
  | 'entry_check_warned'
  | 'entry_check_unavailable'

export type BoothCallStatus = 'ringing' | 'accepted' | 'denied' | 'timed_out' | 'abandoned'

/** One page of a list endpoint. */
export interface Page<T> {
  items: T[]
  total: number
  page: number
  page_size: number
}

export interface UserSummary {
  id: number
  username: string
  role: Role
  display_name: string
}

export interface LoginResponse {
  token: string
  expires_at: string
  user: UserSummary
}

export interface ScopeEntry {
  kind: ScopeKind
  /** The street or community code, the house id, or empty for the district. */
  target: string
}

export interface Me extends UserSummary {
  scopes: ScopeEntry[]
}

export interface Street {
  id: number
  code: string
  name: string
  district_code: string
}

export interface Place {
  id: number
  kind: string
  name: string
  x: number
  y: number
}

export interface Community {
  id: number
  street_id: number
  committee_id: number | null
  code: string
  name: string
  category: CommunityCategory
  property_type: PropertyType
  address: string
  building_count: number
  house_count: number
  resident_count: number
  device_count: number
}

export interface CommunityDetail extends Community {
  site_plan?: { width: number; height: number } | null
  places?: Place[] | null
}

export interface Building {
  id: number
  community_id: number
  number: string
  name: string
  floors: number | null
  x: number | null
  y: number | null
}

export interface Unit {
  id: number
  building_id: number
  number: string
}

export interface House {
  id: number
  community_id: number
  building_id: number | null
  unit_id: number | null
  number: string
  floor: number | null
  area_m2: number | null
  use: HouseUse
  address: string
}

export interface PersonHouse {
  house_id: number
  address: string
  role: HouseRole
  lease_start: string | null
  lease_end: string | null
}

export interface Person {
  id: number
  community_id: number
  name: string
  gender: Gender
  id_type: IdType
  id_number: string
  phone: string | null
  population_type: PopulationType
  tags: string[]
  houses: PersonHouse[]
}

export interface NewPerson {
  community_id: number
  name: string
  gender: Gender
  id_type: IdType
  id_number: string
  phone: string
  population_type: PopulationType
  tags: string[]
  house_id?: number
  role?: HouseRole
  lease_start?: string
  lease_end?: string
}

export interface Vehicle {
  id: number
  community_id: number
  plate_number: string
  plate_color: string
  owner_person_id: number | null
  owner_name: string | null
  parking_space: string | null
}

export interface NewVehicle {
  community_id: number
  plate_number: string
  plate_color: string
  owner_person_id?: number
  parking_space?: string
}

export interface Device {
  id: number
  code: string
  name: string
  kind: DeviceKind
  protocol: DeviceProtocol
  community_id: number | null
  place_id: number | null
  x: number | null
  y: number | null
  install_date: string | null
  contractor: string | null
  online: boolean
}

export interface ImportRowError {
  row: number
  field: string | null
  code: string
  message: string
}

export interface ImportResult {
  total: number
  created: number
  updated: number
  failed: number
  errors: ImportRowError[]
  report_id: string | number | null
}

export interface AuditEntry {
  seq: number
  at: string
  actor: string
  action: string
  target: string
  detail: unknown
}

/** One access decision at a door, gate or booth. Codes are kept as strings: a newer server may send more. */
export interface AccessRecord {
  id: number
  community_id: number
  device_id: number
  event_id: string
  person_id: number | null
  person_name: string | null
  /** A CredentialKind. */
  credential_kind: string
  /** An AccessOutcome. */
  outcome: string
  /** An AccessReason. */
  reason: string
  /** Decided by the terminal itself while it was offline. */
  decided_locally: boolean
  at: string
}

/** A visitor's call from a smart booth (智能岗亭) to the duty guard or the visited house. */
export interface BoothCall {
  id: number
  community_id: number
  device_id: number
  event_id?: string
  visitor_name: string
  /** The house to visit, as the visitor gave it. */
  house_ref: string | null
  /** The house it names, when resolved. */
  house_id: number | null
  /** A BoothCallStatus. */
  status: string
  created_at: string
  answered_at: string | null
  answered_by: string | null
  note: string | null
}
