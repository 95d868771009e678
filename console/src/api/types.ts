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
  | 'cashier'

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
  community_id?: number
  kind: string
  name: string
  x: number
  y: number
  /** A guard is on duty there. */
  attended?: boolean
  /** The unit a unit door serves. */
  unit_id?: number | null
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
  /** Heard from within the last two minutes. */
  online: boolean
  /** Last message from the device, RFC 3339. */
  last_seen_at?: string | null
  /** Firmware it reported. */
  firmware?: string | null
  /** Library version it applied. */
  library_version?: number | null
  /** Credential kinds it offers, when known. */
  accepts?: string[] | null
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
  /** A snapshot was kept (`/access-records/{id}/snapshot`). */
  has_snapshot?: boolean
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
  /** The booth sent the ID card's photo (`…/photos/card_photo`, duty staff only). */
  has_card_photo?: boolean
  /** The booth sent a live snapshot of the visitor (`…/photos/snapshot`). */
  has_snapshot?: boolean
  /** A BoothCallStatus. */
  status: string
  created_at: string
  answered_at: string | null
  answered_by: string | null
  note: string | null
}

/** An alarm of the alarm centre. Codes are kept as strings: a newer server may send more. */
export interface Alarm {
  id: number
  community_id: number | null
  device_id: number | null
  place_id: number | null
  /** An AlarmKind. */
  kind: string
  /** An AlarmSeverity. */
  severity: string
  /** An AlarmState. */
  state: string
  /** The zone, channel or door the device named. */
  zone: string | null
  /** `device`, `offline`, `patrol`, `rule`. */
  source: string
  raised_at: string
  last_at: string
  /** Repeats merged into it. */
  repeats: number
  /** Escalation level reached (0: the first role of the chain). */
  level: number
  acknowledged_at: string | null
  acknowledged_by: string | null
  dispatched_to: string | null
  closed_at: string | null
  closed_by: string | null
  /** The nearest cameras (device ids), nearest first. */
  cameras: number[]
  has_snapshot: boolean
  /** The acknowledgement deadline under the deployment's SLA. */
  ack_due_at?: string | null
  /** Acknowledged in time (`true`), late or overdue (`false`), still running (`null`). */
  within_sla?: boolean | null
}

export type AlarmKind =
  | 'perimeter_intrusion'
  | 'door_forced'
  | 'door_held_open'
  | 'device_tamper'
  | 'fire_smoke'
  | 'sos'
  | 'loitering'
  | 'climbing'
  | 'crowding'
  | 'fall'
  | 'fighting'
  | 'device_offline'
  | 'patrol_missed'
  | 'other'

export type AlarmSeverity = 'critical' | 'major' | 'minor'

export type AlarmState = 'new' | 'acknowledged' | 'dispatched' | 'resolved' | 'false_alarm'

export type AlarmActionKind = 'acknowledge' | 'dispatch' | 'resolve' | 'mark_false'

/** One step in an alarm's history. */
export interface AlarmStep {
  at: string
  /** `user:…` or `system`. */
  actor: string
  /** `raise`, `repeat`, `escalate`, or an AlarmActionKind. */
  action: string
  note: string | null
}

export interface AlarmDetail {
  alarm: Alarm
  actions: AlarmStep[]
}

export interface AlarmActionRequest {
  action: AlarmActionKind
  note?: string
  dispatched_to?: string
}

export interface AlarmStats {
  total: number
  open_new: number
  in_hand: number
  resolved: number
  false_alarms: number
  within_sla: number
  breached_sla: number
  mean_ack_secs: number | null
  by_kind: Record<string, number>
}

/** A list answered without paging. */
export interface Items<T> {
  items: T[]
}

export interface PatrolCheckpoint {
  device_id: number
  code: string
  name: string
  offset_minutes: number
}

export interface PatrolRoute {
  id: number
  community_id: number
  name: string
  checkpoints: PatrolCheckpoint[]
  /** Round times, `DAYS HH:MM[,HH:MM…]`. */
  times: string
  guard_user_id: number | null
  guard_name: string | null
  window_minutes: number
  tolerance_minutes: number
  active: boolean
}

export interface NewPatrolRoute {
  community_id: number
  name: string
  checkpoints: { device_id: number; offset_minutes: number }[]
  times: string
  guard_user_id?: number
  window_minutes: number
  tolerance_minutes?: number
}

/** One guard's patrol day. */
export interface GuardDay {
  guard_user_id: number | null
  guard_name: string | null
  rounds: number
  complete: number
  checkpoints: number
  on_time: number
  late: number
  missed: number
  out_of_order: number
  /** Share of due checkpoints scanned at all, 0–1. */
  completion: number
}

export interface PatrolRound {
  id: number
  route_id: number
  community_id: number
  guard_user_id: number | null
  start_at: string
  end_at: string
  /** `complete`, `irregular`, `incomplete`. */
  status: string
  on_time: number
  late: number
  missed: number
  out_of_order: number
}

export type WarningKind =
  | 'watch_hit'
  | 'frequent_stranger'
  | 'elderly_unseen'
  | 'group_rental'
  | 'tenant_unregistered'
  | 'vehicle_overstay'
  | 'tailgating'

export type WarningState = 'to_confirm' | 'open' | 'confirmed' | 'rejected' | 'closed'

export type WarningAction = 'confirm' | 'reject' | 'close'

export type WarningAudience = 'police' | 'welfare' | 'registry' | 'property'

/** An early warning with its evidence. */
export interface Warning {
  id: number
  community_id: number | null
  /** A WarningKind. */
  kind: string
  /** A WarningAudience. */
  audience: string
  /** What it is about (`stranger:7`, `person:12`, `house:3`, `plate:…`, `device:9`, `watch_hit:4`). */
  subject: string
  title: string
  /** The rule's measure. */
  score: number | null
  /** The events that are its evidence (objects of the rule's own shape). */
  evidence: Record<string, unknown>[]
  /** A WarningState. */
  state: string
  raised_at: string
  updated_at: string
  handled_by: string | null
  handled_at: string | null
  note: string | null
  watch_hit_id: number | null
}

/** A community's early-warning thresholds: rule name → its settings (omitted values take the defaults). */
export type WarningRules = Record<string, Record<string, number | boolean | string>>

export interface WatchEntry {
  id: number
  source: string
  external_id: string
  /** person, motor_vehicle, non_motor_vehicle, keyword. */
  category: string
  plate: string | null
  title: string
  /** active or revoked. */
  status: string
  begin_at: string
  end_at: string | null
  images: number
  disposition: unknown
}

export interface WatchHit {
  id: number
  entry_id: number
  capture_record_id: number | null
  community_id: number | null
  at: string
  distance: number | null
  margin: number | null
  /** `to_confirm`, `confirmed`, `rejected`. */
  state: string
}

export interface FaceSearchHit {
  capture_record_id: number
  community_id: number | null
  device_id: number
  shot_at: string
  /** Smaller is nearer; the same person typically below 0.5. */
  distance: number
}

export interface Stranger {
  id: number
  community_id: number | null
  sightings: number
  first_seen: string
  last_seen: string
}

export interface VisitorPass {
  id: number
  community_id: number
  house_id: number
  name: string
  plate_number: string | null
  valid_from: string
  valid_until: string
  created_by: string
}

export interface NewVisitorPass {
  house_id: number
  name: string
  phone?: string
  valid_from: string
  valid_until: string
  plate_number?: string
}

/** A pass just made, with the QR payload to render (shown once). */
export interface CreatedPass {
  pass: VisitorPass
  qr_payload: string
}

export interface Consent {
  id: number
  person_id: number
  purpose: string
  given_by: string
  guardian_name: string | null
  recorded_by: string
  given_at: string
  revoked_at?: string | null
}

export interface Credential {
  id: number
  person_id: number
  /** `card` or `pin`. */
  kind: string
  valid_until: string | null
  revoked_at: string | null
  created_at: string
}

/** An enrolled face photo's record (the image itself goes only to terminals). */
export interface FacePhoto {
  id: number
  person_id: number
  sha256: string
  format: string
  width: number
  height: number
  size_bytes: number
  uploaded_by: string
  uploaded_at: string
}

/** A PIN the platform drew: its digits are shown this once. */
export interface IssuedPin {
  credential: Credential
  pin: string
}

/** A signed dynamic QR code, valid for five minutes. */
export interface QrCode {
  payload: string
  expires_at: string
}

/** The kinds of event the live feed (`GET /live`) sends. */
export type LiveKind = 'access' | 'alarm' | 'warning' | 'patrol' | 'booth' | 'fee' | 'lagged'

/** One live event: its kind and its JSON object (with `community_id` and `at` added by the server). */
export interface LiveEvent {
  kind: string
  data: Record<string, unknown>
}
