// One function per Anfang API endpoint the console uses.
import { request, requestBlob } from './http'
import type {
  AccessRecord,
  AuditEntry,
  BoothCall,
  BoothCallStatus,
  Building,
  Community,
  CommunityDetail,
  Device,
  House,
  ImportKind,
  ImportResult,
  LoginResponse,
  Me,
  NewPerson,
  NewVehicle,
  Page,
  Person,
  Street,
  Unit,
  Vehicle,
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

export const devices = {
  list: (q: ListQuery & { community_id?: number | null; kind?: string | null }) =>
    request<Page<Device>>('GET', '/devices', { query: q }),
}

export const accessRecords = {
  list: (q: ListQuery & { community_id?: number | null; person_id?: number | null; device_id?: number | null }) =>
    request<Page<AccessRecord>>('GET', '/access-records', { query: q }),
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
