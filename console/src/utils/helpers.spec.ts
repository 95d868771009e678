// Unit tests of the small pure helpers: query strings, file names, redirects, form errors, token expiry, formatting, paging.
import { describe, expect, it } from 'vitest'
import { buildQuery } from './query'
import { filenameFromDisposition } from './download'
import { safeRedirect } from './redirect'
import { changedKeys, fieldErrorOf } from './formErrors'
import { formatDateTime, formatDetail } from './format'
import { isXlsx } from './files'
import { can, handlesWarning, menuFor, PERMISSIONS, warningAudiences, type Permission } from './permissions'
import { ROLES } from './enums'
import { isExpired } from '@/api/token'
import { fetchAll } from '@/api'
import type { Page } from '@/api/types'

describe('buildQuery', () => {
  it('drops empty values and encodes the rest', () => {
    expect(buildQuery({ page: 1, page_size: 20, q: ' 张三 ', street_id: undefined, category: null, x: '' })).toBe(
      '?page=1&page_size=20&q=%E5%BC%A0%E4%B8%89',
    )
    expect(buildQuery({})).toBe('')
    expect(buildQuery(undefined)).toBe('')
    expect(buildQuery({ reveal: true, ids: [1, 2] })).toBe('?reveal=true&ids=1&ids=2')
  })
})

describe('filenameFromDisposition', () => {
  it('prefers the UTF-8 filename* form', () => {
    const header = `attachment; filename="persons.xlsx"; filename*=UTF-8''%E4%BA%BA%E5%91%98.xlsx`
    expect(filenameFromDisposition(header, 'x.xlsx')).toBe('人员.xlsx')
  })
  it('reads a plain filename and falls back when there is none', () => {
    expect(filenameFromDisposition('attachment; filename="houses.xlsx"', 'x.xlsx')).toBe('houses.xlsx')
    expect(filenameFromDisposition('attachment; filename=report.xlsx', 'x.xlsx')).toBe('report.xlsx')
    expect(filenameFromDisposition('attachment', 'x.xlsx')).toBe('x.xlsx')
    expect(filenameFromDisposition(null, 'x.xlsx')).toBe('x.xlsx')
    expect(filenameFromDisposition('attachment; filename="../../etc/passwd"', 'x')).toBe('passwd')
  })
})

describe('safeRedirect', () => {
  it('follows local paths only', () => {
    expect(safeRedirect('/persons?page=2')).toBe('/persons?page=2')
    expect(safeRedirect(['/devices'])).toBe('/devices')
    expect(safeRedirect('//evil.example')).toBe('/overview')
    expect(safeRedirect('https://evil.example')).toBe('/overview')
    expect(safeRedirect('/\\evil')).toBe('/overview')
    expect(safeRedirect('/login')).toBe('/overview')
    expect(safeRedirect(undefined)).toBe('/overview')
  })
})

describe('fieldErrorOf', () => {
  const fields = ['name', 'id_number', 'phone']
  it('matches the named field, also when nested', () => {
    expect(fieldErrorOf({ field: 'id_number', message: 'bad' }, fields)).toEqual({ field: 'id_number', message: 'bad' })
    expect(fieldErrorOf({ field: 'person.phone', message: 'bad' }, fields)).toEqual({ field: 'phone', message: 'bad' })
  })
  it('returns null for no field or an unknown one', () => {
    expect(fieldErrorOf({ field: undefined, message: 'bad' }, fields)).toBeNull()
    expect(fieldErrorOf({ field: 'plate_number', message: 'bad' }, fields)).toBeNull()
  })
  it('lists changed keys', () => {
    expect(changedKeys({ a: 1, b: [1], c: 'x' }, { a: 1, b: [1, 2], c: 'y' })).toEqual(['b', 'c'])
  })
})

describe('isExpired', () => {
  const now = new Date('2026-11-23T12:00:00Z')
  it('compares RFC 3339 expiries with now', () => {
    expect(isExpired('2026-11-23T11:59:59Z', now)).toBe(true)
    expect(isExpired('2026-11-23T20:00:00+08:00', now)).toBe(true)
    expect(isExpired('2026-11-24T00:00:00Z', now)).toBe(false)
    expect(isExpired('garbage', now)).toBe(false)
    expect(isExpired(null, now)).toBe(false)
  })
})

describe('formatting', () => {
  it('formats audit details and bad timestamps', () => {
    expect(formatDetail({ reveal: true })).toBe('{"reveal":true}')
    expect(formatDetail('login ok')).toBe('login ok')
    expect(formatDetail(null)).toBe('—')
    expect(formatDateTime('not a date')).toBe('not a date')
    expect(formatDateTime(undefined)).toBe('—')
    expect(formatDateTime('2026-11-23T12:00:00Z')).toMatch(/^2026-11-2\d \d\d:\d\d:\d\d$/)
  })
  it('recognises .xlsx files', () => {
    expect(isXlsx('人员.XLSX')).toBe(true)
    expect(isXlsx('persons.xls')).toBe(false)
    expect(isXlsx(undefined)).toBe(false)
  })
})

describe('permissions', () => {
  it('mirror the backend roles', () => {
    expect(can('community_police', 'reveal_pii')).toBe(true)
    expect(can('district_admin', 'reveal_pii')).toBe(false)
    expect(can('district_admin', 'read_audit')).toBe(true)
    expect(can('property_manager', 'read_audit')).toBe(false)
    expect(can('guard', 'write_persons')).toBe(false)
    expect(can('nobody', 'read_tree')).toBe(false)
    expect(can(null, 'read_tree')).toBe(false)
  })
  it('give auditors only the overview and the audit log', () => {
    expect(menuFor('auditor').map((m) => m.key)).toEqual(['overview', 'audit'])
    expect(menuFor('district_admin').map((m) => m.key)).toEqual([
      'overview',
      'communities',
      'houses',
      'persons',
      'vehicles',
      'devices',
      'live',
      'access-records',
      'booth-calls',
      'alarms',
      'patrol',
      'warnings',
      'programme',
      'programme-tasks',
      'import',
      'audit',
    ])
  })
  it('show the programme to government roles and property managers, let only the district side run it', () => {
    for (const role of ['district_admin', 'street_officer', 'political_legal', 'housing_construction', 'property_manager']) {
      expect(can(role, 'read_programme'), role).toBe(true)
    }
    for (const role of ['guard', 'resident', 'grid_worker', 'auditor']) expect(can(role, 'read_programme'), role).toBe(false)
    expect(can('property_manager', 'manage_programme')).toBe(false)
    expect(can('street_officer', 'manage_programme')).toBe(true)
  })
  it('open the booth calls to duty staff and residents, the access records to who reads persons', () => {
    expect(can('guard', 'manage_parking')).toBe(true)
    expect(can('resident', 'manage_parking')).toBe(false)
    expect(can('resident', 'invite_visitors')).toBe(true)
    expect(can('district_admin', 'invite_visitors')).toBe(false)
    expect(can('property_manager', ['manage_parking', 'invite_visitors'])).toBe(true)
    expect(can('community_police', ['manage_parking', 'invite_visitors'])).toBe(false)
    expect(can('community_police', [])).toBe(false)
    const keys = (role: string) => menuFor(role).map((m) => m.key)
    for (const role of ['guard', 'property_manager', 'resident', 'district_admin']) {
      expect(keys(role), role).toContain('booth-calls')
    }
    for (const role of ['community_police', 'street_officer', 'auditor']) {
      expect(keys(role), role).not.toContain('booth-calls')
    }
    expect(keys('guard')).toContain('access-records')
    expect(keys('political_legal')).not.toContain('access-records')
  })
})

describe('permissions of the alarm centre, early warning and watch-lists', () => {
  /** The roles that may do `p`, in the backend's `Role::ALL` order (as its tests list them). */
  const who = (p: Permission) => ROLES.filter((r) => can(r, p))

  it('grant every permission exactly to the roles Role::allows names', () => {
    expect(who('read_watchlists')).toEqual(['community_police', 'station_officer'])
    expect(who('read_alarms')).toEqual([
      'district_admin',
      'street_officer',
      'community_police',
      'grid_worker',
      'station_officer',
      'political_legal',
      'property_manager',
      'guard',
    ])
    expect(who('handle_alarms')).toEqual(['district_admin', 'community_police', 'station_officer', 'property_manager', 'guard'])
    expect(who('manage_patrol')).toEqual(['district_admin', 'property_manager'])
    expect(who('configure_warnings')).toEqual(['district_admin', 'community_police', 'station_officer'])
    expect(who('sign_acceptance')).toEqual(['community_police', 'station_officer', 'housing_construction'])
    expect(who('read_fees')).toEqual(['property_manager', 'resident', 'cashier'])
    expect(who('collect_fees')).toEqual(['property_manager', 'cashier'])
    expect(who('manage_fees')).toEqual(['property_manager'])
    expect(who('read_audit')).toEqual(['district_admin', 'auditor'])
    expect(PERMISSIONS).toHaveLength(25)
    expect(can('cashier', 'read_tree')).toBe(true)
    expect(can('cashier', 'read_persons')).toBe(false)
  })

  it('keep the watch-list pages and police warnings from property staff and administrators', () => {
    const keys = (role: string) => menuFor(role).map((m) => m.key)
    for (const role of ['community_police', 'station_officer']) {
      expect(keys(role), role).toEqual(expect.arrayContaining(['watchlist', 'face-search', 'warnings', 'alarms', 'live']))
    }
    for (const role of ['property_manager', 'guard', 'district_admin', 'street_officer', 'resident', 'grid_worker']) {
      expect(keys(role), role).not.toContain('watchlist')
      expect(keys(role), role).not.toContain('face-search')
    }
    expect(warningAudiences('property_manager')).toEqual(['property'])
    expect(warningAudiences('district_admin')).not.toContain('police')
    expect(warningAudiences('community_police')).toContain('police')
    expect(warningAudiences('resident')).toEqual([])
    expect(keys('resident')).not.toContain('warnings')
    expect(keys('resident')).toContain('my-home')
    expect(keys('auditor')).toEqual(['overview', 'audit'])
    expect(keys('cashier')).toEqual(['overview', 'communities', 'houses'])
  })

  it('let each role act only on the warnings its audience allows', () => {
    expect(handlesWarning('community_police', 'police')).toBe(true)
    expect(handlesWarning('grid_worker', 'welfare')).toBe(true)
    expect(handlesWarning('grid_worker', 'property')).toBe(false)
    expect(handlesWarning('property_manager', 'property')).toBe(true)
    expect(handlesWarning('property_manager', 'police')).toBe(false)
    expect(handlesWarning('district_admin', 'welfare')).toBe(false)
  })

  it('open the live view to whoever reads devices or alarms', () => {
    const keys = (role: string) => menuFor(role).map((m) => m.key)
    for (const role of ['guard', 'property_manager', 'grid_worker', 'housing_construction', 'big_data_centre']) {
      expect(keys(role), role).toContain('live')
    }
    for (const role of ['resident', 'auditor', 'cashier']) expect(keys(role), role).not.toContain('live')
  })
})

describe('fetchAll', () => {
  function pages(total: number, serverMax: number) {
    const calls: number[] = []
    const fetchPage = async ({ page = 1, page_size = 20 }): Promise<Page<number>> => {
      calls.push(page)
      const size = Math.min(page_size, serverMax)
      const start = (page - 1) * size
      const items = Array.from({ length: Math.max(0, Math.min(size, total - start)) }, (_, i) => start + i)
      return { items, total, page, page_size: size }
    }
    return { calls, fetchPage }
  }

  it('collects every page, also when the server caps the page size', async () => {
    const a = pages(250, 100)
    expect(await fetchAll(a.fetchPage)).toHaveLength(250)
    expect(a.calls).toEqual([1, 2, 3])
    const b = pages(250, 50)
    expect(await fetchAll(b.fetchPage)).toHaveLength(250)
    expect(b.calls).toHaveLength(5)
  })

  it('stops on an empty page and after maxPages', async () => {
    const empty = pages(0, 100)
    expect(await fetchAll(empty.fetchPage)).toEqual([])
    expect(empty.calls).toEqual([1])
    const capped = pages(10_000, 10)
    expect(await fetchAll(capped.fetchPage, 10, 3)).toHaveLength(30)
  })
})
