// One function per Anfang API endpoint the console uses.
import { request, requestBlob } from './http'
import type {
  AccessRecord,
  FacePhoto,
  IssuedPin,
  Alarm,
  AlarmActionRequest,
  AlarmDetail,
  AlarmStats,
  AuditEntry,
  BoothCall,
  BoothCallStatus,
  Building,
  Community,
  CommunityDetail,
  Consent,
  CreatedPass,
  Credential,
  Device,
  FaceSearchHit,
  GuardDay,
  House,
  ImportKind,
  ImportResult,
  Items,
  LoginResponse,
  Me,
  NewPerson,
  NewPatrolRoute,
  NewVehicle,
  NewVisitorPass,
  Page,
  PatrolRound,
  PatrolRoute,
  Person,
  Place,
  QrCode,
  Stranger,
  Street,
  Unit,
  Vehicle,
  VisitorPass,
  WarningAction,
  Warning,
  WarningRules,
  WatchEntry,
  WatchHit,
} from './types'

export const XLSX_MIME = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'

/** Page parameters every list endpoint takes. */
export interface PageQuery {
  page?: number
  page_size?: number
}

type ListQuery = PageQuery

export const auth = {
  login: (username: string, password: string) =>
    request<LoginResponse>('POST', '/auth/login', { json: { username, password }, auth: false, silent: true }),
  logout: () => request<void>('POST', '/auth/logout', { silent: true }),
  me: () => request<Me>('GET', '/auth/me'),
}

export const streets = {
  list: (q: ListQuery = {}) => request<Page<Street>>('GET', '/streets', { query: q }),
}

export const communities = {
  list: (q: ListQuery & { street_id?: number | null; category?: string | null; q?: string }) =>
    request<Page<Community>>('GET', '/communities', { query: q }),
  get: (id: number | string) => request<CommunityDetail>('GET', `/communities/${id}`),
}

export const buildings = {
  list: (q: ListQuery & { community_id?: number | null }) =>
    request<Page<Building>>('GET', '/buildings', { query: q }),
}

export const units = {
  list: (q: ListQuery & { building_id?: number | null }) => request<Page<Unit>>('GET', '/units', { query: q }),
}

export const houses = {
  list: (q: ListQuery & { community_id?: number | null; building_id?: number | null; unit_id?: number | null }) =>
    request<Page<House>>('GET', '/houses', { query: q }),
  get: (id: number) => request<House>('GET', `/houses/${id}`),
}

export const persons = {
  list: (q: ListQuery & { community_id?: number | null; house_id?: number | null; q?: string; id_number?: string }) =>
    request<Page<Person>>('GET', '/persons', { query: q }),
  get: (id: number) => request<Person>('GET', `/persons/${id}`),
  /** Unmasked ID and phone numbers; the server audits every such read and answers 403 when not allowed. */
  reveal: (id: number) => request<Person>('GET', `/persons/${id}`, { query: { reveal: true } }),
  /** Silent: the form shows field errors itself. */
  create: (body: NewPerson) => request<Person>('POST', '/persons', { json: body, silent: true }),
}

export const vehicles = {
  list: (q: ListQuery & { community_id?: number | null; plate_number?: string }) =>
    request<Page<Vehicle>>('GET', '/vehicles', { query: q }),
  create: (body: NewVehicle) => request<Vehicle>('POST', '/vehicles', { json: body, silent: true }),
}

export const places = {
  list: (q: ListQuery & { community_id?: number | null }) => request<Page<Place>>('GET', '/places', { query: q }),
}

export const devices = {
  list: (q: ListQuery & { community_id?: number | null; kind?: string | null }) =>
    request<Page<Device>>('GET', '/devices', { query: q }),
  get: (id: number) => request<Device>('GET', `/devices/${id}`),
}

export const accessRecords = {
  list: (
    q: ListQuery & {
      community_id?: number | null
      person_id?: number | null
      device_id?: number | null
      outcome?: string | null
    },
  ) => request<Page<AccessRecord>>('GET', '/access-records', { query: q }),
  /** The picture kept with a record (audited by the server). */
  snapshot: (id: number) => requestBlob('GET', `/access-records/${id}/snapshot`, `access-${id}.jpg`, { silent: true }),
}

export const alarms = {
  /** Open ones first, most severe first, then newest. */
  list: (
    q: ListQuery & { state?: string | null; kind?: string | null; open?: boolean | null; since?: string; until?: string },
  ) => request<Page<Alarm>>('GET', '/alarms', { query: q }),
  get: (id: number) => request<AlarmDetail>('GET', `/alarms/${id}`),
  /** Acknowledge, dispatch, resolve or mark false; 409 when the state does not allow the step. */
  act: (id: number, body: AlarmActionRequest) => request<Alarm>('POST', `/alarms/${id}/actions`, { json: body }),
  stats: (q: { community_id?: number | null; since?: string; until?: string } = {}) =>
    request<AlarmStats>('GET', '/alarms/stats', { query: q }),
}

export const patrol = {
  routes: (q: { community_id?: number | null } = {}) => request<Items<PatrolRoute>>('GET', '/patrol/routes', { query: q }),
  /** Silent: the form shows field errors itself. */
  createRoute: (body: NewPatrolRoute) => request<PatrolRoute>('POST', '/patrol/routes', { json: body, silent: true }),
  setActive: (id: number, active: boolean) => request<void>('PUT', `/patrol/routes/${id}/active`, { json: { active } }),
  rounds: (q: { community_id?: number | null; date?: string }) =>
    request<Items<PatrolRound>>('GET', '/patrol/rounds', { query: q }),
  /** The daily completion per guard (`date`: YYYY-MM-DD, local). */
  report: (q: { community_id?: number | null; date?: string }) =>
    request<Items<GuardDay>>('GET', '/patrol/report', { query: q }),
}

export const warnings = {
  list: (q: ListQuery & { kind?: string | null; state?: string | null; open?: boolean | null }) =>
    request<Page<Warning>>('GET', '/warnings', { query: q }),
  get: (id: number) => request<Warning>('GET', `/warnings/${id}`),
  act: (id: number, action: WarningAction, note?: string) =>
    request<Warning>('POST', `/warnings/${id}/actions`, { json: { action, note: note || undefined } }),
  rules: (communityId: number) => request<WarningRules>('GET', `/communities/${communityId}/warning-rules`),
  setRules: (communityId: number, rules: WarningRules) =>
    request<WarningRules>('PUT', `/communities/${communityId}/warning-rules`, { json: rules }),
}

export const watchlist = {
  entries: (q: ListQuery & { status?: string | null }) => request<Page<WatchEntry>>('GET', '/watch-entries', { query: q }),
  hits: (q: ListQuery & { entry_id?: number | null }) => request<Page<WatchHit>>('GET', '/watch-hits', { query: q }),
  /** Search by image: the captures nearest the uploaded face (audited). */
  faceSearch: (image: Blob, limit = 20) =>
    request<FaceSearchHit[]>('POST', '/face-search', {
      query: { limit },
      body: image,
      contentType: image.type || 'image/jpeg',
    }),
  strangers: (q: { min_sightings?: number } = {}) => request<Stranger[]>('GET', '/strangers', { query: q }),
}

export const visitors = {
  list: (q: ListQuery & { community_id?: number | null; house_id?: number | null }) =>
    request<Page<VisitorPass>>('GET', '/visitors', { query: q }),
  /** Silent: the form shows field errors itself. */
  invite: (body: NewVisitorPass) => request<CreatedPass>('POST', '/visitors', { json: body, silent: true }),
}

export const access = {
  consents: (personId: number) => request<Consent[]>('GET', `/persons/${personId}/consents`, { silent: true }),
  giveConsent: (personId: number, body: { given_by: 'self' | 'guardian'; guardian_name?: string }) =>
    request<Consent>('POST', `/persons/${personId}/consents`, { json: body }),
  revokeConsent: (personId: number, consentId: number) =>
    request<void>('DELETE', `/persons/${personId}/consents/${consentId}`),
  credentials: (personId: number) => request<Credential[]>('GET', `/persons/${personId}/credentials`, { silent: true }),
  issueCredential: (personId: number, body: { kind: 'card' | 'pin'; value: string; valid_until?: string }) =>
    request<Credential>('POST', `/persons/${personId}/credentials`, { json: body }),
  revokeCredential: (personId: number, credentialId: number) =>
    request<void>('DELETE', `/persons/${personId}/credentials/${credentialId}`),
  /** A signed dynamic QR code for the person, valid five minutes. */
  qr: (personId: number) => request<QrCode>('POST', `/persons/${personId}/qr`),
  /** A six-digit PIN the platform draws (shown once; the person's previous PIN is revoked). */
  drawPin: (personId: number) => request<IssuedPin>('POST', `/persons/${personId}/pin`),
  /** The enrolled face photo's record (404: none). */
  face: (personId: number) => request<FacePhoto>('GET', `/persons/${personId}/face`, { silent: true }),
}

export const boothCalls = {
  /** `kind` filters by status (the server's list parameter). */
  list: (q: ListQuery & { community_id?: number | null; kind?: BoothCallStatus | null }) =>
    request<Page<BoothCall>>('GET', '/booth-calls', { query: q }),
  /** Accept a ringing call: the booth's gate opens. */
  accept: (id: number) => request<BoothCall>('POST', `/booth-calls/${id}/accept`),
  /** Refuse a ringing call, with an optional note (at most 64 characters). */
  deny: (id: number, message?: string) =>
    request<BoothCall>('POST', `/booth-calls/${id}/deny`, { json: { message: message || undefined } }),
  /** The visitor's live `snapshot` or the ID card's `card_photo` (each view is audited). */
  photo: (id: number, which: 'snapshot' | 'card_photo') =>
    requestBlob('GET', `/booth-calls/${id}/photos/${which}`, `booth-${id}-${which}.jpg`, { silent: true }),
}

export const transfer = {
  template: (kind: ImportKind) => requestBlob('GET', `/import/template/${kind}`, `${kind}-template.xlsx`),
  upload: (kind: ImportKind, communityId: number, file: Blob) =>
    request<ImportResult>('POST', `/import/${kind}`, {
      query: { community_id: communityId },
      body: file,
      contentType: XLSX_MIME,
    }),
  report: (reportId: string | number) =>
    requestBlob('GET', `/import/reports/${reportId}`, `import-report-${reportId}.xlsx`),
  export: (kind: ImportKind, communityId: number) =>
    requestBlob('GET', `/export/${kind}`, `${kind}-${communityId}.xlsx`, { query: { community_id: communityId } }),
}

export const audit = {
  list: (q: ListQuery) => request<Page<AuditEntry>>('GET', '/audit', { query: q }),
}

/**
 * Every item of a list endpoint, fetched page by page (for selects and the community tree).
 * Stops after `maxPages` pages so a huge list cannot hang the page.
 */
export async function fetchAll<T>(
  fetchPage: (q: PageQuery) => Promise<Page<T>>,
  pageSize = 100,
  maxPages = 50,
): Promise<T[]> {
  const out: T[] = []
  for (let page = 1; page <= maxPages; page++) {
    const res = await fetchPage({ page, page_size: pageSize })
    out.push(...res.items)
    const size = res.page_size > 0 ? res.page_size : pageSize
    if (res.items.length === 0 || out.length >= res.total || res.items.length < size) break
  }
  return out
}
